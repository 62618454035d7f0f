"""Audit types of the documents block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class DocumentAudit(models.TextChoices):
    DOCUMENT_ADDED = "document_added", "Document ajouté"
    DOCUMENT_VALIDATED = "document_validated", "Document validé"
    DOCUMENT_REPLACED = "document_replaced", "Nouvelle version d'un document"
    DOCUMENT_WITHDRAWN = "document_withdrawn", "Document retiré"
    DOCUMENT_REVIEWED = "document_reviewed", "Document déposé examiné"
    DOCUMENT_SHARING_QUEUED = "document_sharing_queued", "Partage au DMP programmé"
    DOCUMENT_SHARING_CANCELLED = "document_sharing_cancelled", "Partage au DMP annulé"
    DOCUMENT_SENT = "document_sent", "Document envoyé par MSSanté"
    ORPHAN_FILES_REMOVED = "orphan_files_removed", "Fichiers orphelins supprimés"


audit.register(DocumentAudit)
