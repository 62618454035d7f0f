"""Admission: a structure takes a person in, the structures' offer (a directory like the
ROR), and admission requests followed to the end.

Models hold data; every write goes through `admission.services`, every read of a
person's data through `coordination.access` (an open request gives its target structure
a scoped, time-bounded access: `admission.scope`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Accompaniment, Person, Structure
from reference.models import SerafinCode

# --- Possible duplicates the staff member may not see -----------------------------------------


class IdentityReviewStatus(models.TextChoices):
    PENDING = "pending", "À examiner"
    LINKED = "linked", "Rattachée à la personne existante"
    DISMISSED = "dismissed", "Pas un doublon"


class IdentityReview(models.Model):
    """A structure wanted to take a person in whose identity resembles a person outside
    the staff member's reach: an administrator decides (the match is never shown to the
    staff member)."""

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+", verbose_name="structure")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandée par"
    )
    candidate = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name="personne existante possible"
    )
    traits = models.JSONField("identité saisie", default=dict)
    started_on = models.DateField("début d'accompagnement demandé")
    status = models.CharField(
        "statut", max_length=20, choices=IdentityReviewStatus.choices, default=IdentityReviewStatus.PENDING
    )
    created_at = models.DateTimeField("demandée le", default=timezone.now)
    decided_at = models.DateTimeField("examinée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="examinée par",
    )
    note = models.TextField("note", blank=True)

    class Meta:
        verbose_name = "doublon possible à examiner"
        verbose_name_plural = "doublons possibles à examiner"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Doublon possible pour {self.structure} ({self.get_status_display()})"


# --- The offer -----------------------------------------------------------------------------------

validate_department = RegexValidator(
    r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$",
    "Département invalide : 2 chiffres (2A ou 2B pour la Corse, 971 à 976 outre-mer).",
)
validate_postcode = RegexValidator(r"^[0-9]{5}$", "Code postal invalide : 5 chiffres.")


class Offer(models.Model):
    """What a structure offers and how to ask for it (a line of the directory)."""

    structure = models.OneToOneField(
        Structure, on_delete=models.PROTECT, related_name="offer", verbose_name="structure"
    )
    department = models.CharField("département", max_length=3, validators=[validate_department], db_index=True)
    postcode = models.CharField("code postal", max_length=5, validators=[validate_postcode], db_index=True)
    city = models.CharField("commune", max_length=100)
    serves_disability = models.BooleanField("personnes en situation de handicap", default=False)
    serves_older = models.BooleanField("personnes âgées", default=False)
    age_min = models.PositiveSmallIntegerField("âge minimum", null=True, blank=True)
    age_max = models.PositiveSmallIntegerField("âge maximum", null=True, blank=True)
    conditions = models.TextField("conditions d'accueil", blank=True)
    services = models.ManyToManyField(
        SerafinCode,
        blank=True,
        related_name="+",
        verbose_name="prestations (SERAFIN-PH)",
        limit_choices_to={"kind": "service"},
    )
    capacity = models.PositiveIntegerField("capacité (places)", null=True, blank=True)
    places_available = models.PositiveIntegerField("places disponibles", null=True, blank=True)
    waiting_list_length = models.PositiveIntegerField("personnes en liste d'attente", null=True, blank=True)
    availability_updated_on = models.DateField("places mises à jour le", null=True, blank=True)
    how_to_apply = models.TextField("comment demander une admission", blank=True)
    contact_email = models.EmailField("e-mail de contact", blank=True)
    contact_phone = models.CharField("téléphone de contact", max_length=20, blank=True)
    accepts_requests = models.BooleanField("reçoit les demandes d'admission sur le portail", default=True)
    is_published = models.BooleanField("visible dans l'annuaire", default=True)
    updated_at = models.DateTimeField("mise à jour le", default=timezone.now)

    class Meta:
        verbose_name = "offre d'une structure"
        verbose_name_plural = "offres des structures"
        ordering = ["structure__name"]
        indexes = [
            models.Index(fields=["is_published", "department"]),
            models.Index(fields=["is_published", "places_available"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(age_min__isnull=True) | Q(age_max__isnull=True) | Q(age_max__gte=models.F("age_min")),
                name="offer_ages_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Offre de {self.structure}"


# --- Admission requests ------------------------------------------------------------------------------


class RequesterKind(models.TextChoices):
    PERSON = "person", "La personne"
    CARER = "carer", "Un proche aidant"
    LEGAL_REPRESENTATIVE = "legal_representative", "Le représentant légal"
    PROFESSIONAL = "professional", "Un professionnel du cercle"


class AgreementVia(models.TextChoices):
    NONE = "", "—"
    ORAL = "oral", "Accord oral de la personne"
    WRITTEN = "written", "Accord écrit de la personne"
    REPRESENTATIVE = "representative", "Accord du représentant légal"


class AdmissionRequest(models.Model):
    """The admission file: who asks, for whom, the needs, the MDPH decision, a text and
    documents. Sent to one or several structures (`AdmissionCopy`)."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="admission_requests", verbose_name="personne"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandeur"
    )
    requester_kind = models.CharField("demandée par", max_length=30, choices=RequesterKind.choices)
    agreement_via = models.CharField("accord de la personne", max_length=20, choices=AgreementVia.choices, blank=True)
    agreement_note = models.CharField("précisions sur l'accord", max_length=300, blank=True)
    needs = models.ManyToManyField(
        SerafinCode,
        blank=True,
        related_name="+",
        verbose_name="besoins (SERAFIN-PH)",
        limit_choices_to={"kind": "need"},
    )
    mdph_reference = models.CharField("référence de la décision MDPH", max_length=50, blank=True)
    mdph_decided_on = models.DateField("date de la décision MDPH", null=True, blank=True)
    mdph_valid_until = models.DateField("décision valable jusqu'au", null=True, blank=True)
    message = models.TextField("présentation de la demande")
    source = models.CharField("origine", max_length=30, default="portal")
    created_at = models.DateTimeField("envoyée le", default=timezone.now)

    class Meta:
        verbose_name = "demande d'admission"
        verbose_name_plural = "demandes d'admission"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mdph_valid_until__isnull=True)
                | Q(mdph_decided_on__isnull=True)
                | Q(mdph_valid_until__gte=models.F("mdph_decided_on")),
                name="admission_request_mdph_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Demande d'admission du {self.created_at:%d/%m/%Y}"


class AdmissionStatus(models.TextChoices):
    SENT = "sent", "Envoyée"
    RECEIVED = "received", "Reçue"
    UNDER_REVIEW = "under_review", "En cours d'examen"
    INFO_REQUESTED = "info_requested", "Informations demandées"
    WAITING_LIST = "waiting_list", "Sur liste d'attente"
    ACCEPTED = "accepted", "Acceptée"
    REFUSED = "refused", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"
    ADMITTED = "admitted", "Admission faite"


OPEN_STATUSES = frozenset(
    {
        AdmissionStatus.SENT,
        AdmissionStatus.RECEIVED,
        AdmissionStatus.UNDER_REVIEW,
        AdmissionStatus.INFO_REQUESTED,
        AdmissionStatus.WAITING_LIST,
        AdmissionStatus.ACCEPTED,
    }
)


class AdmissionCopy(models.Model):
    """The request as one structure receives it: each structure answers its own copy."""

    request = models.ForeignKey(
        AdmissionRequest, on_delete=models.PROTECT, related_name="copies", verbose_name="demande"
    )
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="admission_copies", verbose_name="structure"
    )
    status = models.CharField(
        "statut", max_length=20, choices=AdmissionStatus.choices, default=AdmissionStatus.SENT, db_index=True
    )
    waiting_rank = models.PositiveIntegerField("rang sur la liste d'attente", null=True, blank=True)
    proposed_entry_on = models.DateField("date d'entrée proposée", null=True, blank=True)
    refusal_reason = models.TextField("motif du refus", blank=True)
    # The structure reads the file through the gate until then, while the copy is open.
    access_until = models.DateTimeField("accès au dossier jusqu'au")
    accompaniment = models.ForeignKey(
        Accompaniment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="accompagnement créé",
    )
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    updated_at = models.DateTimeField("mise à jour le", default=timezone.now)

    class Meta:
        verbose_name = "demande adressée à une structure"
        verbose_name_plural = "demandes adressées aux structures"
        ordering = ["-updated_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["request", "structure"], name="admission_copy_unique")]
        indexes = [models.Index(fields=["structure", "status", "-updated_at"])]

    def __str__(self) -> str:
        return f"Demande à {self.structure} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AdmissionEvent(models.Model):
    """One row of a copy's history: a status change or a message, who and when. Append-only."""

    copy = models.ForeignKey(AdmissionCopy, on_delete=models.PROTECT, related_name="events", verbose_name="demande")
    status = models.CharField("statut", max_length=20, choices=AdmissionStatus.choices)
    previous_status = models.CharField("statut précédent", max_length=20, choices=AdmissionStatus.choices, blank=True)
    message = models.TextField("message", blank=True)
    is_requester_answer = models.BooleanField("réponse du demandeur", default=False)
    at = models.DateTimeField("le", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="par"
    )

    class Meta:
        verbose_name = "étape d'une demande d'admission"
        verbose_name_plural = "historique des demandes d'admission"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_status_display()}"


class AdmissionAttachment(models.Model):
    """A document of the admission file (checked like every upload, stored privately)."""

    request = models.ForeignKey(
        AdmissionRequest, on_delete=models.PROTECT, related_name="attachments", verbose_name="demande"
    )
    title = models.CharField("titre", max_length=200)
    file = models.FileField("fichier", max_length=300)
    content_type = models.CharField("type", max_length=100)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    size = models.PositiveIntegerField("taille")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par"
    )
    uploaded_at = models.DateTimeField("déposé le", default=timezone.now)

    class Meta:
        verbose_name = "document d'une demande d'admission"
        verbose_name_plural = "documents des demandes d'admission"
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.title
