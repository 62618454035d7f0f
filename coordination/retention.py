"""Retention of a person's record once coordination has ended: each block registers how
its data about a person is counted and destroyed (as it registers its notification and
audit types); the kernel and the daily job of `records` decide when.

Seed 003: « Le dossier de coordination n'est actif que pendant la durée de la
coordination, au-delà il doit être soit archivé, soit détruit. » The seeds give no
duration: each kind's period is a setting (`RECORDS_RETENTION_DAYS`, defaults in
`portal/settings.py`), counted from the end of the person's last accompaniment.

    register(RetentionKind("liaison", "Cahier de liaison", count=..., destroy=...))

`destroy(person)` deletes the rows of content and their stored files and returns how
many items went; it never keeps the content (the destruction record says what, when
and by which rule, with counts only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings


@dataclass(frozen=True)
class RetentionKind:
    key: str
    label: str  # French, for the dry run and the destruction record
    count: Callable[..., int]  # count(person) -> items held
    destroy: Callable[..., int]  # destroy(person) -> items destroyed (files included)
    order: int = 50  # destroyed in this order (what references others first)


_KINDS: dict[str, RetentionKind] = {}


def register(*kinds: RetentionKind) -> None:
    for kind in kinds:
        existing = _KINDS.get(kind.key)
        if existing is not None and existing != kind:
            raise ValueError(f"retention kind {kind.key!r} registered twice")
        _KINDS[kind.key] = kind


def kinds() -> list[RetentionKind]:
    """Every registered kind, in destruction order."""
    return sorted(_KINDS.values(), key=lambda kind: (kind.order, kind.key))


def period(key: str) -> timedelta:
    """How long a kind is kept after the end of the last accompaniment."""
    days = settings.RECORDS_RETENTION_DAYS
    return timedelta(days=days.get(key, days["default"]))


def rule(key: str) -> str:
    """The rule's name as the destruction record keeps it."""
    return f"RECORDS_RETENTION_DAYS[{key}]={period(key).days}"


def delete_files(fields) -> None:
    """Delete stored files (FieldFile values); a file already missing is not an error."""
    for field in fields:
        if field and field.name:
            field.storage.delete(field.name)


# --- The kernel's own kind: the identity and the consents ----------------------------------------


def _identity_count(person) -> int:
    return 0 if person.destroyed_at else 1


def _identity_destroy(person) -> int:
    """The identity goes last: names, birth traits, INS, contact, the portal account's link,
    the consents. The row stays as a stub (the access log and the destruction records
    point at it, with no content)."""
    from django.utils import timezone

    from coordination.models import Consent, IdentityStatus, Person

    Consent.objects.filter(person=person).delete()
    Person.objects.filter(pk=person.pk).update(
        birth_name=f"DOSSIER DÉTRUIT {person.pk}",
        used_name="",
        birth_first_names="-",
        first_name="",
        birth_date="1900-01-01",
        sex="I",
        birth_place_insee="",
        ins_matricule="",
        ins_oid="",
        identity_status=IdentityStatus.PROVISIONAL,
        phone="",
        email="",
        address="",
        user=None,
        destroyed_at=timezone.now(),
    )
    return 1


register(RetentionKind("identity", "Identité et consentements", _identity_count, _identity_destroy, order=90))
