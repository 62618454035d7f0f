"""The shared kernel: structures, professionals, persons, carers, the circle of care,
the access matrix, delegations, break-the-glass, consents and the logs.

Models hold data; every write goes through `coordination.services`, every read of a
person's data through `coordination.access`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from coordination import audit
from coordination.identifiers import (
    INS_OIDS,
    validate_finess,
    validate_ins_matricule,
    validate_insee_place,
    validate_rpps,
)

# --- Access matrix vocabulary --------------------------------------------------------


class Category(models.TextChoices):
    RECORD = "record", "Synthèse du dossier"
    AGENDA = "agenda", "Agenda"
    LIAISON = "liaison", "Cahier de liaison"
    PPA = "ppa", "Projet personnalisé"
    DOCUMENTS = "documents", "Documents"
    CIRCLE = "circle", "Cercle et droits"
    EVALUATION = "evaluation", "Évaluations"
    EXCHANGES = "exchanges", "Échanges"


class Level(models.IntegerChoices):
    NONE = 0, "Aucun accès"
    READ = 1, "Lecture"
    WRITE = 2, "Écriture"


LEVEL_BY_NAME = {"none": Level.NONE, "read": Level.READ, "write": Level.WRITE}
ACTION_LEVEL = {"read": Level.READ, "write": Level.WRITE}


def permission_codename(category: str, action: str) -> str:
    return f"{action}_{category}"


# --- Structures and professionals -----------------------------------------------------


class StructureKind(models.TextChoices):
    EHPAD = "ehpad", "EHPAD"
    IME = "ime", "IME"
    MAS = "mas", "MAS"
    FAM = "fam", "FAM"
    SAAD = "saad", "SAAD"
    SSIAD = "ssiad", "SSIAD"
    SESSAD = "sessad", "SESSAD"
    SAVS = "savs", "SAVS"
    SAMSAH = "samsah", "SAMSAH"
    DAC = "dac", "DAC"
    CRT = "crt", "Centre de ressources territorial"
    RESPITE = "respite", "Plateforme de répit"
    MDPH = "mdph", "MDPH"
    HOSPITAL = "hospital", "Établissement de santé"
    LIBERAL = "liberal", "Cabinet libéral"
    OTHER = "other", "Autre"


class Structure(models.Model):
    name = models.CharField("nom", max_length=200)
    finess = models.CharField("numéro FINESS", max_length=9, unique=True, validators=[validate_finess])
    kind = models.CharField("type", max_length=20, choices=StructureKind.choices)
    address = models.TextField("adresse", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    mssante_address = models.EmailField("adresse MSSanté", blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "structure"
        verbose_name_plural = "structures"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profession(models.TextChoices):
    PHYSICIAN = "medecin", "Médecin"
    NURSE = "infirmier", "Infirmier·ère"
    CARE_ASSISTANT = "aide_soignant", "Aide-soignant·e"
    AES = "aes", "Accompagnant·e éducatif·ve et social·e"
    EDUCATOR = "educateur", "Éducateur·rice spécialisé·e"
    MONITOR = "moniteur_educateur", "Moniteur·rice éducateur·rice"
    PSYCHOLOGIST = "psychologue", "Psychologue"
    OCCUPATIONAL_THERAPIST = "ergotherapeute", "Ergothérapeute"
    PHYSIOTHERAPIST = "kinesitherapeute", "Masseur·se-kinésithérapeute"
    SPEECH_THERAPIST = "orthophoniste", "Orthophoniste"
    SOCIAL_WORKER = "assistant_social", "Assistant·e de service social"
    CESF = "cesf", "Conseiller·ère en économie sociale et familiale"
    HOME_HELP = "aide_domicile", "Aide à domicile"
    COORDINATOR = "coordinateur", "Coordinateur·rice de parcours"
    HEAD_NURSE = "cadre_sante", "Cadre de santé"
    DIRECTOR = "directeur", "Directeur·rice"
    SECRETARY = "secretaire", "Secrétaire"
    PHARMACIST = "pharmacien", "Pharmacien·ne"
    OTHER = "autre", "Autre"
    # A structure's own record software (its DUI) connected through the FHIR API
    # (`interop`): a service account in the structure's team, so that the one gate
    # decides for it as for any team member.
    SOFTWARE = "logiciel", "Logiciel de la structure"


class Professional(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="professional", verbose_name="compte"
    )
    rpps = models.CharField(
        "numéro RPPS",
        max_length=11,
        blank=True,
        validators=[validate_rpps],
        help_text="11 chiffres ; facultatif pour les professionnels non soignants.",
    )
    profession = models.CharField("profession", max_length=30, choices=Profession.choices)
    mssante_address = models.EmailField("adresse MSSanté", blank=True)
    is_active = models.BooleanField("actif", default=True)
    structures = models.ManyToManyField(
        Structure, through="TeamMembership", related_name="professionals", verbose_name="structures"
    )

    class Meta:
        verbose_name = "professionnel"
        verbose_name_plural = "professionnels"
        constraints = [
            models.UniqueConstraint(fields=["rpps"], condition=~Q(rpps=""), name="professional_rpps_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.email} ({self.get_profession_display()})"

    @property
    def national_id(self) -> str:
        """idNatPS: 8 + RPPS."""
        return f"8{self.rpps}" if self.rpps else ""


class TeamRole(models.TextChoices):
    REFERENT = "referent", "Référent·e"
    DIRECTION = "direction", "Direction"
    PHYSICIAN = "medecin", "Médecin"
    NURSE = "infirmier", "Infirmier·ère"
    CARE = "soignant", "Soignant·e"
    EDUCATOR = "educateur", "Éducateur·rice"
    PSYCHOLOGIST = "psychologue", "Psychologue"
    SOCIAL = "social", "Travailleur·se social·e"
    SECRETARY = "secretaire", "Secrétaire"
    OTHER = "autre", "Autre"
    SOFTWARE = "logiciel", "Logiciel de la structure (DUI)"


class TeamMembership(models.Model):
    """A professional in a structure's team, with a role; `ended_on` closes it."""

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="team", verbose_name="structure")
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="team_memberships", verbose_name="professionnel"
    )
    role = models.CharField("rôle", max_length=20, choices=TeamRole.choices)
    is_structure_admin = models.BooleanField("administrateur de la structure", default=False)
    started_on = models.DateField("début", default=timezone.localdate)
    ended_on = models.DateField("fin", null=True, blank=True)

    class Meta:
        verbose_name = "membre de l'équipe"
        verbose_name_plural = "équipe"
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "professional"],
                condition=Q(ended_on__isnull=True),
                name="team_membership_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.professional} — {self.structure} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None or self.ended_on > timezone.localdate()


# --- Persons ---------------------------------------------------------------------------


class Sex(models.TextChoices):
    FEMALE = "F", "Féminin"
    MALE = "M", "Masculin"
    UNKNOWN = "I", "Indéterminé"


class IdentityStatus(models.TextChoices):
    PROVISIONAL = "PROV", "Provisoire"
    RETRIEVED = "RECUP", "Récupérée"
    VALIDATED = "VALI", "Validée"
    QUALIFIED = "QUAL", "Qualifiée"


class Person(models.Model):
    """The accompanied person (usager)."""

    birth_name = models.CharField("nom de naissance", max_length=100)
    used_name = models.CharField("nom utilisé", max_length=100, blank=True)
    birth_first_names = models.CharField(
        "prénoms de naissance", max_length=200, help_text="Dans l'ordre de l'état civil, séparés par des espaces."
    )
    first_name = models.CharField("prénom utilisé", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices)
    birth_place_insee = models.CharField(
        "code INSEE du lieu de naissance", max_length=5, blank=True, validators=[validate_insee_place]
    )
    ins_matricule = models.CharField("matricule INS", max_length=15, blank=True, validators=[validate_ins_matricule])
    ins_oid = models.CharField("OID de l'INS", max_length=40, blank=True, choices=list(INS_OIDS.items()))
    identity_status = models.CharField(
        "statut de l'identité", max_length=5, choices=IdentityStatus.choices, default=IdentityStatus.PROVISIONAL
    )
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)
    address = models.TextField("adresse", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person_profile",
        verbose_name="compte du portail",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    # Retention (coordination.retention, records.retention): an ended coordination is
    # archived (read-only, out of the lists), then destroyed by rule unless on hold.
    archived_at = models.DateTimeField("dossier archivé le", null=True, blank=True)
    destroyed_at = models.DateTimeField("dossier détruit le", null=True, blank=True)
    legal_hold = models.BooleanField(
        "gel juridique", default=False, help_text="Empêche la destruction du dossier (contentieux, demande d'un juge…)."
    )
    legal_hold_reason = models.CharField("motif du gel", max_length=300, blank=True)

    class Meta:
        verbose_name = "personne accompagnée"
        verbose_name_plural = "personnes accompagnées"
        ordering = ["birth_name", "birth_first_names", "pk"]
        permissions = [
            (permission_codename(category, action), f"{'Écrire' if action == 'write' else 'Lire'} : {label}")
            for category, label in Category.choices
            for action in ("read", "write")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ins_matricule"],
                condition=~Q(ins_matricule=""),
                name="person_ins_unique",
                violation_error_message="Ce matricule INS est déjà celui d'une autre personne.",
            ),
            models.UniqueConstraint(
                fields=["birth_name", "birth_first_names", "birth_date", "sex", "birth_place_insee"],
                name="person_traits_unique",
                violation_error_message="Une personne avec la même identité (nom, prénoms, "
                "sexe, date et lieu de naissance) existe déjà.",
            ),
        ]
        indexes = [models.Index(fields=["birth_name", "first_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.first_name or self.birth_first_names.split(" ")[0]
        return f"{first} {self.used_name or self.birth_name}".strip()

    @property
    def is_identity_qualified(self) -> bool:
        return self.identity_status == IdentityStatus.QUALIFIED and bool(self.ins_matricule)

    @property
    def shareable_ins(self) -> str:
        """The INS matricule, only when the identity is qualifiée (it may not be shared otherwise)."""
        return self.ins_matricule if self.is_identity_qualified else ""


class PersonUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key permission table: the materialised access matrix."""

    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "droit sur une personne"
        verbose_name_plural = "droits sur les personnes"
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class PersonGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Person, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "droit de groupe sur une personne"
        verbose_name_plural = "droits de groupe sur les personnes"


class Accompaniment(models.Model):
    """A structure accompanies a person for a period."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="accompaniments", verbose_name="personne")
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="accompaniments", verbose_name="structure"
    )
    started_on = models.DateField("début", default=timezone.localdate)
    ended_on = models.DateField("fin", null=True, blank=True)
    end_reason = models.CharField("motif de fin", max_length=200, blank=True)

    class Meta:
        verbose_name = "accompagnement"
        verbose_name_plural = "accompagnements"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "structure"], condition=Q(ended_on__isnull=True), name="accompaniment_one_active"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="accompaniment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.structure} accompagne {self.person}"


class Relationship(models.TextChoices):
    CARER = "aidant", "Proche aidant"
    FAMILY = "famille", "Famille"
    GUARDIAN = "tuteur", "Tuteur·rice"
    CURATOR = "curateur", "Curateur·rice"
    PARENT = "parent", "Parent (personne mineure)"
    FAMILY_AUTHORISATION = "habilitation", "Personne habilitée (habilitation familiale)"


LEGAL_REPRESENTATIVE_RELATIONSHIPS = {
    Relationship.GUARDIAN,
    Relationship.CURATOR,
    Relationship.PARENT,
    Relationship.FAMILY_AUTHORISATION,
}


class CarerLink(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="carer_links", verbose_name="compte"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="carer_links", verbose_name="personne")
    relationship = models.CharField("lien", max_length=20, choices=Relationship.choices)
    is_legal_representative = models.BooleanField("représentant légal", default=False)
    started_on = models.DateField("début", default=timezone.localdate)
    ended_on = models.DateField("fin", null=True, blank=True)

    class Meta:
        verbose_name = "lien aidant ou représentant"
        verbose_name_plural = "liens aidants et représentants"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "person"], condition=Q(ended_on__isnull=True), name="carer_link_one_active"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="carer_link_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_relationship_display()} de {self.person}"


# --- The circle of care ------------------------------------------------------------------


class MemberKind(models.TextChoices):
    PERSON = "person", "La personne"
    PROFESSIONAL = "professional", "Professionnel"
    STRUCTURE = "structure", "Structure"
    CARER = "carer", "Aidant ou représentant"
    OTHER = "other", "Autre personne"


class CircleRole(models.TextChoices):
    PERSON = "usager", "Personne accompagnée"
    GP = "medecin_traitant", "Médecin traitant"
    REFERENT = "referent", "Référent·e de parcours"
    DIRECTION = "direction", "Direction"
    PHYSICIAN = "medecin", "Médecin"
    NURSE = "infirmier", "Infirmier·ère"
    CARE = "soignant", "Soignant·e"
    EDUCATOR = "educateur", "Éducateur·rice"
    PSYCHOLOGIST = "psychologue", "Psychologue"
    SOCIAL = "social", "Travailleur·se social·e"
    THERAPIST = "reeducation", "Rééducation (kiné, ergo, ortho…)"
    PHARMACIST = "pharmacien", "Pharmacien·ne"
    SECRETARY = "secretaire", "Secrétaire"
    SOFTWARE = "logiciel", "Logiciel de la structure (DUI)"
    STRUCTURE = "structure", "Structure d'accompagnement"
    CARER = "aidant", "Proche aidant"
    FAMILY = "famille", "Famille"
    LEGAL_REPRESENTATIVE = "representant_legal", "Représentant·e légal·e"
    NEIGHBOUR = "voisin", "Voisin·e, ami·e"
    ASSOCIATION = "association", "Association"
    OTHER = "autre", "Autre"


class MemberOrigin(models.TextChoices):
    SELF = "self", "La personne elle-même"
    ADDED = "added", "Ajouté par la personne ou son représentant"
    REQUEST = "request", "Demande acceptée"
    TEAM = "team", "Équipe d'une structure qui accompagne"
    ACCOMPANIMENT = "accompaniment", "Structure qui accompagne"
    CARER_LINK = "carer_link", "Lien aidant ou représentant"


class EndReason(models.TextChoices):
    END_OF_CARE = "end_of_care", "Fin de prise en charge"
    OPPOSITION = "opposition", "Opposition de la personne"
    STRUCTURE_ENDED = "structure_ended", "Fin de l'accompagnement par la structure"
    LEFT_TEAM = "left_team", "Départ de l'équipe"
    CARER_LINK_ENDED = "carer_link_ended", "Fin du lien aidant ou représentant"


class CircleMemberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(ended_at__isnull=True)


class CircleMember(models.Model):
    """One membership of the circle of care. Re-entering makes a new row (history stays)."""

    # Set on the instances of a circle page by `coordination.matrix.with_levels`.
    levels: dict[str, int]

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="circle", verbose_name="personne")
    kind = models.CharField("type de membre", max_length=20, choices=MemberKind.choices)
    # The account this membership gives rights to (professional, carer or the person).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="circle_memberships",
        verbose_name="compte",
    )
    professional = models.ForeignKey(
        Professional,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="circle_memberships",
        verbose_name="professionnel",
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="circle_memberships",
        verbose_name="structure",
    )
    carer_link = models.ForeignKey(
        CarerLink,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="circle_memberships",
        verbose_name="lien aidant",
    )
    other_name = models.CharField("nom", max_length=200, blank=True)
    other_contact = models.CharField("coordonnées", max_length=200, blank=True)
    role = models.CharField("rôle", max_length=30, choices=CircleRole.choices)
    origin = models.CharField("entrée", max_length=20, choices=MemberOrigin.choices)
    started_at = models.DateTimeField("entré le", default=timezone.now)
    ended_at = models.DateTimeField("sorti le", null=True, blank=True)
    end_reason = models.CharField("motif de sortie", max_length=20, choices=EndReason.choices, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="ajouté par",
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="retiré par",
    )

    objects = CircleMemberQuerySet.as_manager()

    class Meta:
        verbose_name = "membre du cercle"
        verbose_name_plural = "cercle de santé et d'accompagnement"
        ordering = ["started_at", "pk"]
        constraints = [
            # One active membership per account, per person, per structure acted for.
            models.UniqueConstraint(
                fields=["person", "user", "structure"],
                condition=Q(ended_at__isnull=True, user__isnull=False, structure__isnull=False),
                name="circle_member_one_active_user_structure",
            ),
            models.UniqueConstraint(
                fields=["person", "user"],
                condition=Q(ended_at__isnull=True, user__isnull=False, structure__isnull=True),
                name="circle_member_one_active_user",
            ),
            models.UniqueConstraint(
                fields=["person", "structure"],
                condition=Q(ended_at__isnull=True, kind="structure"),
                name="circle_member_one_active_structure",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "person"], condition=Q(ended_at__isnull=True), name="circle_member_active_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def display_name(self) -> str:
        if self.kind == MemberKind.STRUCTURE and self.structure is not None:
            return self.structure.name
        if self.kind == MemberKind.OTHER:
            return self.other_name
        if self.user is not None:
            return self.user.get_full_name() or self.user.email
        return self.other_name

    @property
    def holds_rights(self) -> bool:
        """Only members with an account can be granted rights."""
        return self.user_id is not None


class GrantChange(models.Model):
    """One change of one cell of the access matrix: who changed what, when and why.

    The matrix itself is held by guardian's permission rows (`coordination.matrix`);
    this is its history, append-only.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name="personne")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="membre (compte)"
    )
    member = models.ForeignKey(
        CircleMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grant_changes",
        verbose_name="adhésion concernée",
    )
    category = models.CharField("catégorie", max_length=20, choices=Category.choices)
    old_level = models.PositiveSmallIntegerField("ancien niveau", choices=Level.choices)
    new_level = models.PositiveSmallIntegerField("nouveau niveau", choices=Level.choices)
    changed_at = models.DateTimeField("modifié le", default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )
    reason = models.CharField("motif", max_length=100, blank=True)

    class Meta:
        verbose_name = "modification d'un droit"
        verbose_name_plural = "historique de la matrice d'habilitation"
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["person", "user", "-changed_at"])]

    def __str__(self) -> str:
        return (
            f"{self.changed_at:%d/%m/%Y %H:%M} {self.get_category_display()} : "
            f"{self.get_old_level_display()} → {self.get_new_level_display()}"
        )


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"


class JoinRequest(models.Model):
    """A professional asks to join the circle; the person or legal representative answers."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="join_requests", verbose_name="personne")
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="join_requests", verbose_name="professionnel"
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="au titre de la structure",
    )
    role = models.CharField("rôle demandé", max_length=30, choices=CircleRole.choices)
    message = models.TextField("motif de la demande")
    status = models.CharField(
        "statut", max_length=20, choices=JoinRequestStatus.choices, default=JoinRequestStatus.PENDING
    )
    created_at = models.DateTimeField("demandée le", default=timezone.now)
    decided_at = models.DateTimeField("répondue le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="répondue par",
    )
    decision_note = models.TextField("motif de la réponse", blank=True)
    member = models.OneToOneField(
        CircleMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="join_request",
        verbose_name="adhésion créée",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="proposée par",
        help_text="Un membre du cercle qui a proposé ce professionnel.",
    )

    class Meta:
        verbose_name = "demande d'entrée dans le cercle"
        verbose_name_plural = "demandes d'entrée dans le cercle"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "professional"], condition=Q(status="pending"), name="join_request_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.professional} → cercle de {self.person} ({self.get_status_display()})"


class DelegationStatus(models.TextChoices):
    PENDING = "pending", "En attente du consentement"
    ACTIVE = "active", "Active"
    DECLINED = "declined", "Refusée"
    REVOKED = "revoked", "Révoquée"


class Delegation(models.Model):
    """A professional member lends part of their rights to another professional."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="delegations", verbose_name="personne")
    delegator = models.ForeignKey(
        CircleMember, on_delete=models.PROTECT, related_name="delegations_given", verbose_name="délégant"
    )
    delegate = models.ForeignKey(
        Professional, on_delete=models.PROTECT, related_name="delegations_received", verbose_name="délégataire"
    )
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    reason = models.CharField("motif", max_length=300, blank=True)
    status = models.CharField(
        "statut", max_length=20, choices=DelegationStatus.choices, default=DelegationStatus.PENDING
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créée par"
    )
    decided_at = models.DateTimeField("consentement le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="consentement de",
    )

    class Meta:
        verbose_name = "délégation"
        verbose_name_plural = "délégations"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate}"


class DelegationGrant(models.Model):
    delegation = models.ForeignKey(
        Delegation, on_delete=models.CASCADE, related_name="grants", verbose_name="délégation"
    )
    category = models.CharField("catégorie", max_length=20, choices=Category.choices)
    level = models.PositiveSmallIntegerField("niveau", choices=Level.choices)

    class Meta:
        verbose_name = "droit délégué"
        verbose_name_plural = "droits délégués"
        constraints = [models.UniqueConstraint(fields=["delegation", "category"], name="delegation_grant_unique")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} : {self.get_level_display()}"


class BreakGlassNotice(models.TextChoices):
    CIRCLE = "circle", "La personne, ses représentants légaux ou les référents"
    STRUCTURE_ADMINS = "structure_admins", "Les administrateurs de la structure (personne d'autre à prévenir)"
    NOBODY = "nobody", "Personne (aucun compte à prévenir)"


class BreakGlassAccess(models.Model):
    """Emergency opening of a record (bris de glace), read-only, for a few hours."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="break_glass_accesses", verbose_name="personne"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="break_glass_accesses",
        verbose_name="professionnel",
    )
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+", verbose_name="structure")
    reason = models.TextField("motif")
    started_at = models.DateTimeField("ouvert le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")
    notified_at = models.DateTimeField("personnes prévenues le", null=True, blank=True)
    # Who was actually told, and as whom: never "notified" when nobody was.
    notice = models.CharField(
        "avis envoyé à", max_length=20, choices=BreakGlassNotice.choices, default=BreakGlassNotice.NOBODY
    )
    notified = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="personnes prévenues"
    )

    class Meta:
        verbose_name = "accès en urgence (bris de glace)"
        verbose_name_plural = "accès en urgence (bris de glace)"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "person", "expires_at"])]

    def __str__(self) -> str:
        return f"Bris de glace : {self.user} sur {self.person}"


class ConsentKind(models.TextChoices):
    DMP_FEEDING = "dmp_feeding", "Alimentation du DMP / Mon espace santé (non-opposition)"
    DMP_CONSULTATION = "dmp_consultation", "Consultation du DMP (consentement explicite)"
    PARTNER_SHARING = "partner_sharing", "Partage avec un partenaire hors santé et médico-social"


class Partner(models.TextChoices):
    NONE = "", "—"
    EDUCATION = "education_nationale", "Éducation nationale"
    JUSTICE = "justice", "Justice"
    LOCAL_AUTHORITY = "collectivite", "Collectivité territoriale"
    OTHER = "autre", "Autre partenaire"


class ConsentDecision(models.TextChoices):
    GRANTED = "granted", "Accord"
    REFUSED = "refused", "Refus ou opposition"


class CollectionMethod(models.TextChoices):
    PORTAL = "portal", "Sur le portail, par la personne ou son représentant"
    ORAL = "oral", "Oralement, recueilli par un professionnel"
    WRITTEN = "written", "Par écrit (document signé)"


class Consent(models.Model):
    """One recorded decision. Never changed: the current decision is the latest row."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents", verbose_name="personne")
    kind = models.CharField("objet", max_length=30, choices=ConsentKind.choices)
    partner = models.CharField("partenaire", max_length=30, choices=Partner.choices, blank=True)
    partner_name = models.CharField("nom du partenaire", max_length=200, blank=True)
    decision = models.CharField("décision", max_length=10, choices=ConsentDecision.choices)
    collected_via = models.CharField("recueil", max_length=10, choices=CollectionMethod.choices)
    note = models.TextField("précisions", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="enregistré par"
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "consentement"
        verbose_name_plural = "consentements"
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["person", "kind", "partner", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} : {self.get_decision_display()}"


# --- Logs --------------------------------------------------------------------------------


class RecordDestruction(models.Model):
    """What the retention job destroyed of a person's record: which kind, when, by which
    rule, how many items. Never the content."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="personne")
    kind = models.CharField("type de données", max_length=30)
    label = models.CharField("libellé", max_length=100)
    destroyed_at = models.DateTimeField("détruit le", default=timezone.now)
    coordination_ended_on = models.DateField("fin de la coordination")
    rule = models.CharField("règle", max_length=100)
    items = models.PositiveIntegerField("éléments détruits", default=0)

    class Meta:
        verbose_name = "destruction de données"
        verbose_name_plural = "destructions de données"
        ordering = ["-destroyed_at", "kind"]

    def __str__(self) -> str:
        return f"{self.label} : {self.items} élément(s) détruit(s) le {self.destroyed_at:%d/%m/%Y}"


class AccessVia(models.TextChoices):
    SELF = "self", "La personne elle-même"
    NORMAL = "normal", "Droit accordé"
    REPRESENTATIVE = "representative", "Représentant légal"
    DELEGATION = "delegation", "Délégation"
    BREAK_GLASS = "break_glass", "Bris de glace"
    # A block's scoped, time-bounded read (an admission file open to the structure that
    # received the request): `coordination.access.register_scope`.
    SCOPED = "scoped", "Accès limité à un dossier reçu"


# What an access-log row may be about: a category of the matrix, or the access log itself
# (reading who accessed the person's data is traced too).
ACCESS_LOG = "access_log"
LOGGED_SUBJECTS = [*Category.choices, (ACCESS_LOG, "Historique des accès")]


class AccessLog(models.Model):
    """Who read or wrote which category of whose data, when and how. Append-only."""

    at = models.DateTimeField("date", default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="utilisateur"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="access_logs", verbose_name="personne")
    category = models.CharField("catégorie", max_length=20, choices=LOGGED_SUBJECTS)
    action = models.CharField("action", max_length=5, choices=[("read", "Lecture"), ("write", "Écriture")])
    via = models.CharField("au titre de", max_length=20, choices=AccessVia.choices)
    request_id = models.CharField("identifiant de requête", max_length=64, blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    path = models.CharField("chemin", max_length=300, blank=True)

    class Meta:
        verbose_name = "trace d'accès"
        verbose_name_plural = "traces d'accès"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "-at"]), models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.user} {self.action} {self.category} de {self.person}"


class AuditEvent(models.Model):
    """A typed record of a change. The kernel's own types are `AuditEvent.Type`; every app
    registers its own (`coordination.audit`)."""

    class Type(models.TextChoices):
        MEMBER_ADDED = "member_added", "Membre ajouté"
        MEMBER_ENDED = "member_ended", "Membre sorti du cercle"
        MEMBER_OPPOSED = "member_opposed", "Opposition de la personne"
        GRANT_CHANGED = "grant_changed", "Droit modifié"
        JOIN_REQUESTED = "join_requested", "Demande d'entrée"
        JOIN_ACCEPTED = "join_accepted", "Demande acceptée"
        JOIN_DECLINED = "join_declined", "Demande refusée"
        DELEGATION_REQUESTED = "delegation_requested", "Délégation demandée"
        DELEGATION_ACCEPTED = "delegation_accepted", "Délégation acceptée"
        DELEGATION_DECLINED = "delegation_declined", "Délégation refusée"
        DELEGATION_REVOKED = "delegation_revoked", "Délégation révoquée"
        BREAK_GLASS = "break_glass", "Bris de glace"
        CONSENT_RECORDED = "consent_recorded", "Consentement enregistré"
        ACCOMPANIMENT_STARTED = "accompaniment_started", "Début d'accompagnement"
        ACCOMPANIMENT_ENDED = "accompaniment_ended", "Fin d'accompagnement"
        CARER_LINKED = "carer_linked", "Aidant ou représentant lié"
        CARER_UNLINKED = "carer_unlinked", "Lien aidant ou représentant terminé"
        PERSON_CREATED = "person_created", "Personne créée"
        PERSON_UPDATED = "person_updated", "Identité modifiée"

    at = models.DateTimeField("date", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    acting_as = models.CharField("au titre de", max_length=20, choices=AccessVia.choices, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events", verbose_name="personne"
    )
    event_type = models.CharField("évènement", max_length=50, choices=audit.choices)
    data = models.JSONField("détails", default=dict, blank=True)

    class Meta:
        verbose_name = "évènement d'audit"
        verbose_name_plural = "évènements d'audit"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} ({self.at:%d/%m/%Y %H:%M})"


class RecordVisit(models.Model):
    """When a user last opened a person's record ("new since my last visit")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="utilisateur"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name="personne")
    visited_at = models.DateTimeField("dernière visite", default=timezone.now)

    class Meta:
        verbose_name = "dernière visite d'un dossier"
        verbose_name_plural = "dernières visites des dossiers"
        constraints = [models.UniqueConstraint(fields=["user", "person"], name="record_visit_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.person} ({self.visited_at:%d/%m/%Y %H:%M})"
