"""The audit vocabulary: each app registers the types of the changes it records.

    class LiaisonAudit(models.TextChoices):
        TRANSMISSION_CREATED = "transmission_created", "Transmission écrite"

    audit.register(LiaisonAudit)      # in the app's audit_types.py, imported by its ready()

`AuditEvent.event_type` takes its choices from here (a callable: adding a type needs no
migration of the kernel), and `coordination.services.audit` refuses a type nobody
registered, so that a typo cannot write an unreadable row.
"""

from __future__ import annotations

from django.db import models

_TYPES: dict[str, str] = {}


def register(types: type[models.TextChoices]) -> None:
    for value, label in types.choices:
        if _TYPES.get(value, label) != label:
            raise ValueError(f"audit type {value!r} registered twice with different labels")
        _TYPES[value] = label


def choices() -> list[tuple[str, str]]:
    return list(_TYPES.items())


def is_registered(event_type: str) -> bool:
    return event_type in _TYPES


def label(event_type: str) -> str:
    return _TYPES.get(event_type, event_type)
