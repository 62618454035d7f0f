"""The kernel's own audit types (`AuditEvent.Type`), registered like every app's."""

from __future__ import annotations

from coordination import audit
from coordination.models import AuditEvent

audit.register(AuditEvent.Type)
