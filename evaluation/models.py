"""Evaluation: questionnaires as data (versioned), a person's evaluations, the needs
they propose to the plan, and referral forms sent to a coordination structure.

Models hold data; every write goes through `evaluation.services`, every read of a
person's data through `coordination.access` (category `evaluation`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import CarerLink, Person, Structure
from reference.models import SerafinCode


class QuestionnaireKind(models.TextChoices):
    EVALUATION = "evaluation", "Évaluation, échelle"
    REFERRAL = "referral", "Fiche d'orientation"
    SATISFACTION = "satisfaction", "Questionnaire de satisfaction"


class Questionnaire(models.Model):
    """An instrument (the Zarit scale, a referral form…): a chain of versions. Shipped
    instruments have no structure; a structure's own ones are its administrators'."""

    code = models.SlugField("code", max_length=60, unique=True)
    title = models.CharField("titre", max_length=200)
    kind = models.CharField("nature", max_length=15, choices=QuestionnaireKind.choices)
    description = models.TextField("présentation", blank=True)
    source = models.TextField("source", blank=True, help_text="Référence publiée de l'instrument.")
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questionnaires",
        verbose_name="structure",
    )
    is_active = models.BooleanField("proposé", default=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "questionnaire"
        verbose_name_plural = "questionnaires"
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    PUBLISHED = "published", "Publiée"


class QuestionnaireVersion(models.Model):
    """One version's questions, conditions and scoring (`evaluation.definition`). A
    published version never changes: an edit is a new version."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions", verbose_name="questionnaire"
    )
    number = models.PositiveIntegerField("version")
    status = models.CharField("statut", max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    definition = models.JSONField("définition")
    change_note = models.CharField("ce qui change", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)

    class Meta:
        verbose_name = "version de questionnaire"
        verbose_name_plural = "versions de questionnaire"
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="questionnaire_version_unique"),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status="draft"),
                name="questionnaire_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} — v{self.number}"

    @property
    def parsed(self):
        from evaluation.definition import parse

        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = self._parsed = parse(self.definition)
        return cached


class Evaluation(models.Model):
    """A filled questionnaire about a person (for a carer: the carer answered, as for the
    Zarit scale). Never rewritten: a correction is a new evaluation that `corrects` it."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="evaluations", verbose_name="personne")
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="evaluations", verbose_name="version"
    )
    respondent_carer = models.ForeignKey(
        CarerLink,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name="aidant évalué",
    )
    evaluated_on = models.DateField("date de l'évaluation", default=timezone.localdate)
    answers = models.JSONField("réponses", default=dict)
    score = models.DecimalField("score", max_digits=12, decimal_places=2, null=True, blank=True)
    band_label = models.CharField("résultat", max_length=300, blank=True)
    band_interpretation = models.TextField("interprétation", blank=True)
    comment = models.TextField("commentaire", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="structure"
    )
    source = models.CharField("saisie par", max_length=100, blank=True, help_text="Logiciel connecté, le cas échéant.")
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name="corrige",
    )
    created_at = models.DateTimeField("enregistrée le", default=timezone.now)

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["-evaluated_on", "-created_at"]
        indexes = [models.Index(fields=["person", "version", "evaluated_on"], name="evaluation_person_idx")]

    def __str__(self) -> str:
        return f"{self.version.questionnaire} — {self.evaluated_on:%d/%m/%Y}"


class SuggestionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposé"
    ACCEPTED = "accepted", "Accepté"
    DISCARDED = "discarded", "Écarté"


class NeedSuggestion(models.Model):
    """A SERAFIN-PH need an evaluation proposes to the person's plan. It reaches the
    plan only when a professional accepts it (`ppa.services.need_add`)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="suggestions", verbose_name="évaluation"
    )
    serafin = models.ForeignKey(SerafinCode, on_delete=models.PROTECT, related_name="+", verbose_name="besoin")
    description = models.TextField("description")
    status = models.CharField(
        "décision", max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("décidé le", null=True, blank=True)
    need_key = models.UUIDField("besoin du projet", null=True, blank=True)

    class Meta:
        verbose_name = "besoin proposé"
        verbose_name_plural = "besoins proposés"
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.serafin.code} ({self.get_status_display()})"


class ReferralUrgency(models.TextChoices):
    LOW = "low", "Pas urgent"
    MEDIUM = "medium", "Dans la semaine"
    HIGH = "high", "Urgent (sous 48 heures)"


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Reçue"
    TAKEN = "taken", "Prise en charge"
    CLOSED = "closed", "Close"


class Referral(models.Model):
    """A referral form sent to a coordination structure (a DAC), waiting in its queue;
    for a known person, an admission request of the admission block is opened too."""

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="referrals", verbose_name="structure destinataire"
    )
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="referrals", verbose_name="formulaire"
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals", verbose_name="personne"
    )
    answers = models.JSONField("réponses", default=dict)
    urgency = models.CharField("urgence", max_length=10, choices=ReferralUrgency.choices)
    has_consent = models.BooleanField("la personne est d'accord")
    consent_recorded_at = models.DateTimeField("accord noté le")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_as = models.CharField("au titre de", max_length=20)
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    status = models.CharField("état", max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)
    # The admission block's request opened beside this row, when the person is known
    # and the structure takes requests on the portal (`services.referral_send`).
    admission_request = models.ForeignKey(
        "admission.AdmissionRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="demande d'admission",
    )

    class Meta:
        verbose_name = "demande d'orientation"
        verbose_name_plural = "demandes d'orientation"
        ordering = ["-sent_at"]
        constraints = [models.CheckConstraint(condition=Q(has_consent=True), name="referral_needs_consent")]

    def __str__(self) -> str:
        return f"Orientation vers {self.structure} du {self.sent_at:%d/%m/%Y}"


# --- Satisfaction questionnaires -----------------------------------------------------------------


class SatisfactionCampaign(models.Model):
    """A structure sends a satisfaction questionnaire to the persons it accompanies and
    their carers. Its results are shown aggregated, from `RESULTS_THRESHOLD` answers."""

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="satisfaction_campaigns", verbose_name="structure"
    )
    version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="campaigns", verbose_name="questionnaire"
    )
    title = models.CharField("titre", max_length=200)
    is_anonymous = models.BooleanField("réponses anonymes", default=True)
    closes_on = models.DateField("clôture le")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("envoyée le", default=timezone.now)

    class Meta:
        verbose_name = "envoi de questionnaire de satisfaction"
        verbose_name_plural = "envois de questionnaires de satisfaction"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class SatisfactionInvitation(models.Model):
    """Who was asked, and whether they answered (never what: an anonymous answer is not
    linked to its invitation)."""

    campaign = models.ForeignKey(
        SatisfactionCampaign, on_delete=models.PROTECT, related_name="invitations", verbose_name="envoi"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    respondent_kind = models.CharField("au titre de", max_length=10)  # "person" or "carer"
    token = models.CharField("jeton", max_length=64, unique=True)
    answered_at = models.DateTimeField("a répondu le", null=True, blank=True)

    class Meta:
        verbose_name = "invitation à répondre"
        verbose_name_plural = "invitations à répondre"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="satisfaction_invitation_unique"),
        ]

    def __str__(self) -> str:
        return f"Invitation à « {self.campaign} »"


class SatisfactionResponse(models.Model):
    campaign = models.ForeignKey(
        SatisfactionCampaign, on_delete=models.PROTECT, related_name="responses", verbose_name="envoi"
    )
    answers = models.JSONField("réponses", default=dict)
    respondent_kind = models.CharField("au titre de", max_length=10)
    # Anonymous: no user and only the day (a time would let one match it to an invitation).
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_on = models.DateField("répondu le", default=timezone.localdate)

    class Meta:
        verbose_name = "réponse de satisfaction"
        verbose_name_plural = "réponses de satisfaction"

    def __str__(self) -> str:
        return f"Réponse à « {self.campaign} » du {self.submitted_on:%d/%m/%Y}"
