"""An export of a person's whole record: asked for by someone, built in the background,
kept privately for a limited time, then deleted (the row stays, as a trace)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from coordination.models import Person


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "En attente"
    RUNNING = "running", "En préparation"
    READY = "ready", "Prêt à télécharger"
    FAILED = "failed", "Échec"
    EXPIRED = "expired", "Supprimé (délai passé)"


class RecordExport(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="personne")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandé par"
    )
    requested_at = models.DateTimeField("demandé le", default=timezone.now)
    status = models.CharField("état", max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    step = models.CharField("étape", max_length=100, blank=True)
    claimed_at = models.DateTimeField("pris en charge le", null=True, blank=True)
    ready_at = models.DateTimeField("prêt le", null=True, blank=True)
    expires_at = models.DateTimeField("téléchargeable jusqu'au", null=True, blank=True)
    deleted_at = models.DateTimeField("fichier supprimé le", null=True, blank=True)
    file = models.FileField("archive", upload_to="exports/%Y/%m/", blank=True)
    size = models.BigIntegerField("taille (octets)", null=True, blank=True)
    sha256 = models.CharField("empreinte SHA-256", max_length=64, blank=True)
    categories = models.JSONField("catégories incluses", default=list, blank=True)
    resource_count = models.PositiveIntegerField("ressources FHIR", default=0)
    file_count = models.PositiveIntegerField("fichiers joints", default=0)
    error = models.CharField("erreur", max_length=300, blank=True)
    # The sweeper's columns (records.services.exports_sweep): how many runs took it, and
    # when a run that failed for a passing reason (storage, database) is tried again.
    attempts = models.PositiveSmallIntegerField("essais", default=0)
    next_attempt_at = models.DateTimeField("prochain essai", null=True, blank=True)

    class Meta:
        verbose_name = "export de dossier"
        verbose_name_plural = "exports de dossier"
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["requested_by", "person", "-requested_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Export du dossier de {self.person} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == ExportStatus.READY
            and bool(self.file)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class HandOver(models.Model):
    """A structure ended its accompaniment by a transfer and its référent sent the record
    (the summary and chosen documents) to the receiving structure's MSSanté address, with
    the person's agreement recorded here."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="personne")
    from_structure = models.ForeignKey(
        "coordination.Structure", on_delete=models.PROTECT, related_name="+", verbose_name="structure qui transmet"
    )
    to_structure = models.ForeignKey(
        "coordination.Structure", on_delete=models.PROTECT, related_name="+", verbose_name="structure qui accueille"
    )
    recipient_address = models.EmailField("adresse MSSanté du destinataire")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="envoyé par"
    )
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)
    agreement_via = models.CharField("accord de la personne recueilli", max_length=10)
    document_ids = models.JSONField("documents envoyés", default=list)

    class Meta:
        verbose_name = "transmission du dossier à une autre structure"
        verbose_name_plural = "transmissions du dossier à une autre structure"
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"Dossier de {self.person} transmis à {self.to_structure}"
