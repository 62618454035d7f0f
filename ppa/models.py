"""Projet personnalisé d'accompagnement: plans and their versions (coded with the
SERAFIN-PH nomenclature of `reference`).

Models hold data; every write goes through `ppa.services`, every read through
`coordination.access` (category `ppa`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Person, Professional, Structure
from documents.models import Document
from reference.models import SerafinCode

# --- Plans and their versions ------------------------------------------------------------


class Section(models.TextChoices):
    EXPECTATIONS = "expectations", "Attentes de la personne"
    NEEDS = "needs", "Besoins évalués"
    OBJECTIVES = "objectives", "Objectifs"
    ACTIONS = "actions", "Modalités d'accompagnement"
    RESOURCES = "resources", "Ressources"
    REMARKS = "remarks", "Remarques"


# Sections the person and their carers may write (with the `ppa` write right); the
# others are written by professionals of the circle.
PERSON_SECTIONS = (Section.EXPECTATIONS,)
EXPECTATION_FIELDS = ("tastes", "wishes", "habits", "beliefs", "interests")


class Plan(models.Model):
    """The personalised support plan of a person: a chain of versions."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="ppa", verbose_name="personne")
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ppas",
        verbose_name="structure référente",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créé par"
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "projet personnalisé"
        verbose_name_plural = "projets personnalisés"

    def __str__(self) -> str:
        return f"Projet personnalisé de {self.person}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    SUBMITTED = "submitted", "Soumis à validation"
    VALIDATED = "validated", "Validé"
    SUPERSEDED = "superseded", "Remplacé par un avenant"


class PlanVersion(models.Model):
    """One version of a plan. Only a draft changes; a validated version is frozen."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions", verbose_name="projet")
    number = models.PositiveIntegerField("version")
    status = models.CharField("statut", max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        verbose_name="avenant à la version",
    )
    amendment_reason = models.TextField("motif de l'avenant", blank=True)
    # The person's expectations, in their own words.
    tastes = models.TextField("goûts", blank=True)
    wishes = models.TextField("souhaits", blank=True)
    habits = models.TextField("habitudes", blank=True)
    beliefs = models.TextField("croyances", blank=True)
    interests = models.TextField("centres d'intérêt", blank=True)
    resources = models.TextField("ressources", blank=True)
    remarks = models.TextField("remarques", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="créée par"
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    submitted_at = models.DateTimeField("soumise le", null=True, blank=True)
    validated_at = models.DateTimeField("validée le", null=True, blank=True)
    review_due_on = models.DateField("révision prévue le", null=True, blank=True)
    superseded_at = models.DateTimeField("remplacée le", null=True, blank=True)
    # The PDF of this version once validated, filed in the person's documents (one per
    # version: the unique link makes the filing idempotent). See `ppa.documents`.
    document = models.OneToOneField(
        Document,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ppa_version",
        verbose_name="document PDF",
    )

    class Meta:
        verbose_name = "version du projet personnalisé"
        verbose_name_plural = "versions du projet personnalisé"
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="ppa_version_number_unique"),
            # Settled in the database: one validated version per plan, one open draft.
            models.UniqueConstraint(fields=["plan"], condition=Q(status="validated"), name="ppa_one_validated"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status__in=["draft", "submitted"]), name="ppa_one_open_version"
            ),
        ]
        indexes = [models.Index(fields=["status", "review_due_on"], name="ppa_version_review")]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_frozen(self) -> bool:
        return self.status in (VersionStatus.VALIDATED, VersionStatus.SUPERSEDED)


class Need(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="needs", verbose_name="version")
    # Stable across versions (copied by an amendment), so that versions can be compared.
    key = models.UUIDField("identifiant stable", default=uuid.uuid4)
    serafin = models.ForeignKey(
        SerafinCode,
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "need"},
        related_name="+",
        verbose_name="besoin SERAFIN-PH",
    )
    description = models.TextField("description")
    position = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "besoin"
        verbose_name_plural = "besoins"
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="ppa_need_key_unique")]

    def __str__(self) -> str:
        return f"{self.serafin.code} — {self.description[:60]}"


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Non commencé"
    IN_PROGRESS = "in_progress", "En cours"
    REACHED = "reached", "Atteint"
    ABANDONED = "abandoned", "Abandonné"


class Objective(models.Model):
    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="objectives", verbose_name="version"
    )
    key = models.UUIDField("identifiant stable", default=uuid.uuid4)
    title = models.CharField("objectif", max_length=300)
    needs = models.ManyToManyField(Need, related_name="objectives", verbose_name="besoins")
    indicator = models.TextField("indicateur de réussite", blank=True)
    target_on = models.DateField("échéance", null=True, blank=True)
    status = models.CharField(
        "état", max_length=12, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED
    )
    status_note = models.TextField("note sur l'état", blank=True)
    position = models.PositiveIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "objectif"
        verbose_name_plural = "objectifs"
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="ppa_objective_key_unique")]

    def __str__(self) -> str:
        return self.title


class Weekday(models.TextChoices):
    MO = "MO", "lundi"
    TU = "TU", "mardi"
    WE = "WE", "mercredi"
    TH = "TH", "jeudi"
    FR = "FR", "vendredi"
    SA = "SA", "samedi"
    SU = "SU", "dimanche"


class Action(models.Model):
    """A support modality (modalité d'accompagnement) serving objectives.

    Its schedule is RFC 5545-like: weekly on `weekdays` every `interval_weeks` weeks at
    `starts_at_time` for `duration_minutes`, from `starts_on` to `ends_on`; without
    weekdays it is unscheduled and `schedule_text` says how often, in words.
    """

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="actions", verbose_name="version")
    key = models.UUIDField("identifiant stable", default=uuid.uuid4)
    title = models.CharField("modalité", max_length=300)
    objectives = models.ManyToManyField(Objective, related_name="actions", verbose_name="objectifs servis")
    professional = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="professionnel"
    )
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="structure"
    )
    serafin = models.ForeignKey(
        SerafinCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"kind": "service"},
        related_name="+",
        verbose_name="prestation SERAFIN-PH",
    )
    weekdays = models.CharField("jours", max_length=30, blank=True, help_text="Par exemple MO,TH.")
    interval_weeks = models.PositiveSmallIntegerField("toutes les … semaines", default=1)
    starts_at_time = models.TimeField("heure", null=True, blank=True)
    duration_minutes = models.PositiveIntegerField("durée (minutes)", null=True, blank=True)
    schedule_text = models.CharField("fréquence (en clair)", max_length=200, blank=True)
    starts_on = models.DateField("début", null=True, blank=True)
    ends_on = models.DateField("fin", null=True, blank=True)
    trial_ends_on = models.DateField("fin de la période d'essai", null=True, blank=True)
    involves_person = models.BooleanField("avec la personne", default=True)
    position = models.PositiveIntegerField("ordre", default=0)
    # The agenda series made from this action (kept on this side: no agenda migration).
    event = models.ForeignKey(
        "agenda.Event",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="évènement d'agenda",
    )

    class Meta:
        verbose_name = "modalité d'accompagnement"
        verbose_name_plural = "modalités d'accompagnement"
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="ppa_action_key_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_scheduled(self) -> bool:
        return bool(self.weekdays and self.starts_at_time and self.duration_minutes and self.starts_on)

    @property
    def weekday_list(self) -> list[str]:
        return [d for d in self.weekdays.split(",") if d]

    def schedule_display(self) -> str:
        if not self.is_scheduled:
            return self.schedule_text or "Sans horaire fixe"
        days = ", ".join(Weekday(d).label for d in self.weekday_list)
        every = "chaque semaine" if self.interval_weeks == 1 else f"toutes les {self.interval_weeks} semaines"
        return f"{days}, {every}, à {self.starts_at_time:%H:%M} ({self.duration_minutes} min)"

    def performer_display(self) -> str:
        if self.professional_id:
            return str(self.professional)
        return str(self.structure) if self.structure_id else ""


class ContributionKind(models.TextChoices):
    EDIT = "edit", "Modification"
    COMMENT = "comment", "Commentaire"


class Contribution(models.Model):
    """Who wrote what in a section of a version, and when (the co-construction log)."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="contributions", verbose_name="version"
    )
    section = models.CharField("partie", max_length=15, choices=Section.choices)
    kind = models.CharField("type", max_length=10, choices=ContributionKind.choices, default=ContributionKind.EDIT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="auteur"
    )
    acting_as = models.CharField("au titre de", max_length=20, blank=True)
    summary = models.CharField("résumé", max_length=300, blank=True)
    text = models.TextField("commentaire", blank=True)
    at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "contribution"
        verbose_name_plural = "contributions"
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["version", "section", "at"], name="ppa_contribution_section")]

    def __str__(self) -> str:
        return f"{self.get_section_display()} — {self.author} ({self.at:%d/%m/%Y %H:%M})"


class SignOffRole(models.TextChoices):
    PERSON = "person", "La personne ou son représentant légal"
    REFERENT = "referent", "Le référent de la structure"


class SignOff(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="sign_offs", verbose_name="version")
    role = models.CharField("au titre de", max_length=10, choices=SignOffRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="signataire"
    )
    is_legal_representative = models.BooleanField("représentant légal", default=False)
    signed_at = models.DateTimeField("signé le", default=timezone.now)

    class Meta:
        verbose_name = "signature"
        verbose_name_plural = "signatures"
        ordering = ["signed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "role"], name="ppa_one_sign_off_per_role")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} : {self.user} ({self.signed_at:%d/%m/%Y})"


class ReviewReminder(models.Model):
    """A yearly-review reminder sent for a version (`days_before`; 0 = overdue), once."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="review_reminders", verbose_name="version"
    )
    days_before = models.PositiveSmallIntegerField("jours avant l'échéance")
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)
    is_skipped = models.BooleanField("sauté (seuil déjà dépassé à la validation)", default=False)

    class Meta:
        verbose_name = "rappel de révision"
        verbose_name_plural = "rappels de révision"
        constraints = [models.UniqueConstraint(fields=["version", "days_before"], name="ppa_reminder_once")]

    def __str__(self) -> str:
        return f"{self.version} — J-{self.days_before}"
