"""Audit types of the whole-record app (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class RecordsAudit(models.TextChoices):
    EXPORT_REQUESTED = "record_export_requested", "Export du dossier demandé"
    EXPORT_READY = "record_export_ready", "Export du dossier prêt"
    EXPORT_DOWNLOADED = "record_export_downloaded", "Export du dossier téléchargé"
    EXPORT_DELETED = "record_export_deleted", "Export du dossier supprimé (délai passé)"
    HANDOVER_SENT = "record_handover_sent", "Dossier transmis à une autre structure (MSSanté)"
    RECORD_ARCHIVED = "record_archived", "Dossier archivé (coordination terminée)"
    RECORD_DESTROYED = "record_destroyed", "Données du dossier détruites (durée de conservation passée)"


audit.register(RecordsAudit)
