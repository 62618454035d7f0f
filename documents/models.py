"""The person's documents and their exchange: record documents (versions, review,
validation), the DMP / Mon espace santé outbox and MSSanté sendings.

Models hold data; every write goes through `documents.services`, every read through
`coordination.access` (category `documents`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.outbox import OutboxItem
from coordination.models import Person, Structure


class DocumentType(models.TextChoices):
    STAY_CONTRACT = "contrat_sejour", "Contrat de séjour"
    DIPC = "dipc", "Document individuel de prise en charge (DIPC)"
    CAST = "cast", "Contrat d'aide et de soutien par le travail (CAST)"
    CARE_PLAN = "projet_personnalise", "Projet personnalisé"
    MDPH_SHEET = "fiche_liaison_mdph", "Fiche de liaison MDPH"
    REPORT = "compte_rendu", "Compte rendu"
    LIAISON_LETTER = "lettre_liaison", "Lettre de liaison"
    CERTIFICATE = "attestation", "Attestation"
    ADMINISTRATIVE = "piece_administrative", "Pièce administrative"
    OTHER = "autre", "Autre"


# Types shared with the DMP / Mon espace santé on validation. The Ségur rules (seeds/004)
# feed the DMP with health documents: reports (comptes rendus) and liaison letters
# (documents de sortie, lettres de liaison). Contracts, the projet personnalisé, MDPH
# sheets and administrative papers are medico-social or administrative: not fed.
DMP_ELIGIBLE_TYPES = frozenset({DocumentType.REPORT, DocumentType.LIAISON_LETTER})


class DocumentSource(models.TextChoices):
    PROFESSIONAL = "professional", "Déposé par un professionnel"
    PORTAL = "portal", "Déposé par la personne ou un proche"
    GENERATED = "generated", "Produit par le portail"


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    TO_REVIEW = "to_review", "À examiner"
    VALIDATED = "validated", "Validé"
    DECLINED = "declined", "Refusé"
    WITHDRAWN = "withdrawn", "Retiré"


class Document(models.Model):
    """One version of a document of the person's record.

    A validated version is never modified: a new version (`replaces`) takes its place and
    the old one stays readable (`superseded_at`). The file is private (served through
    the gate only) and its SHA-256 is kept.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="documents", verbose_name="personne")
    doc_type = models.CharField("type", max_length=30, choices=DocumentType.choices)
    title = models.CharField("titre", max_length=200)
    document_on = models.DateField("date du document", default=timezone.localdate)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par"
    )
    author_structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, null=True, blank=True, related_name="documents", verbose_name="structure"
    )
    source = models.CharField("origine", max_length=20, choices=DocumentSource.choices)
    file = models.FileField("fichier", upload_to="documents/%Y/%m/")
    original_name = models.CharField("nom d'origine", max_length=200)
    content_type = models.CharField("format", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    status = models.CharField("statut", max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    version = models.PositiveSmallIntegerField("version", default=1)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name="remplace la version",
    )
    created_at = models.DateTimeField("ajouté le", default=timezone.now)
    validated_at = models.DateTimeField("validé le", null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="validé par",
    )
    superseded_at = models.DateTimeField("remplacé le", null=True, blank=True)
    reviewed_at = models.DateTimeField("examiné le", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="examiné par",
    )
    decline_reason = models.TextField("motif du refus", blank=True)
    withdrawn_at = models.DateTimeField("retiré le", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="retiré par",
    )
    withdraw_reason = models.TextField("motif du retrait", blank=True)

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["-document_on", "-pk"]
        indexes = [
            models.Index(fields=["person", "-created_at"]),
            models.Index(fields=["person", "doc_type", "-document_on"]),
            models.Index(fields=["status", "person"], condition=Q(status="to_review"), name="document_to_review"),
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} — {self.title}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_dmp_eligible(self) -> bool:
        return self.doc_type in DMP_ELIGIBLE_TYPES


class DmpAction(models.TextChoices):
    PUBLISH = "publish", "Envoi au DMP"
    WITHDRAW = "withdraw", "Retrait du DMP"


class DmpShareStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Programmé (annulable)"
    SENDING = "sending", "En cours d'envoi"
    RETRY = "retry", "DMP indisponible : nouvel essai prévu"
    NOT_CONFIGURED = "not_configured", "En attente : connexion au DMP non configurée"
    SENT = "sent", "Envoyé"
    CANCELLED = "cancelled", "Annulé"
    BLOCKED = "blocked", "Non envoyé : la personne s'oppose à l'alimentation du DMP"
    FAILED = "failed", "Refusé par le DMP"


DMP_WAITING_STATUSES = (DmpShareStatus.SCHEDULED, DmpShareStatus.RETRY, DmpShareStatus.NOT_CONFIGURED)


class DmpShare(OutboxItem):
    """One item of the DMP outbox: publish or withdraw one document version.

    `idempotency_key` (one per version and action) makes a second item impossible; it
    is also what every attempt of the row sends, so a share re-sent after a lost worker
    is recognised by the DMP. Claimed with a lease (`common.outbox`).
    """

    WAITING = tuple(DMP_WAITING_STATUSES)
    FRESH = "scheduled"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="dmp_shares", verbose_name="document")
    action = models.CharField("action", max_length=10, choices=DmpAction.choices, default=DmpAction.PUBLISH)
    idempotency_key = models.CharField("clé d'unicité", max_length=80, unique=True)
    status = models.CharField("statut", max_length=20, choices=DmpShareStatus.choices, default=DmpShareStatus.SCHEDULED)
    created_at = models.DateTimeField("programmé le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="programmé par",
    )
    send_after = models.DateTimeField("envoi à partir de")
    remote_id = models.CharField("identifiant au DMP", max_length=200, blank=True)
    cancelled_at = models.DateTimeField("annulé le", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulé par",
    )

    class Meta:
        verbose_name = "partage au DMP"
        verbose_name_plural = "partages au DMP (file d'envoi)"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} : {self.document} ({self.get_status_display()})"

    def new_message_id(self) -> str:
        return self.idempotency_key

    @classmethod
    def due_q(cls, now):
        return super().due_q(now) & Q(send_after__lte=now)

    @classmethod
    def sweep_q(cls, now):
        # Scheduled items wait for their delay (send_after), not for a lost hand-off.
        return cls.due_q(now) | cls.lease_expired_q(now)

    @property
    def is_cancellable(self) -> bool:
        return self.action == DmpAction.PUBLISH and self.status in DMP_WAITING_STATUSES


class MssanteStatus(models.TextChoices):
    PENDING = "pending", "À envoyer"
    SENDING = "sending", "En cours d'envoi"
    RETRY = "retry", "Échec temporaire : nouvel essai prévu"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec définitif"


class MssanteSending(OutboxItem):
    """A document sent by secure health messaging (MSSanté) to one address (an outbox
    row, `common.outbox`)."""

    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="mssante_sendings", verbose_name="document"
    )
    recipient_address = models.EmailField("adresse MSSanté du destinataire")
    recipient_label = models.CharField("destinataire", max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="envoyé par"
    )
    status = models.CharField("statut", max_length=10, choices=MssanteStatus.choices, default=MssanteStatus.PENDING)
    created_at = models.DateTimeField("demandé le", default=timezone.now)

    class Meta:
        verbose_name = "envoi MSSanté"
        verbose_name_plural = "envois MSSanté"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.document} → {self.recipient_address} ({self.get_status_display()})"
