"""The kernel's own audit types (`AuditEvent.Type`), registered like every app's."""

from __future__ import annotations

from django.db import models

from coordination import audit
from coordination.models import AuditEvent


class RetentionAudit(models.TextChoices):
    LEGAL_HOLD_SET = "record_legal_hold_set", "Gel juridique du dossier posé"
    LEGAL_HOLD_LIFTED = "record_legal_hold_lifted", "Gel juridique du dossier levé"


audit.register(AuditEvent.Type)
audit.register(RetentionAudit)
