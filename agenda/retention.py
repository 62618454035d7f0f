"""What the agenda holds about a person, for the retention job (`coordination.retention`)."""

from __future__ import annotations

from django.db import transaction

from agenda.models import Event
from coordination.retention import RetentionKind, register


def count(person) -> int:
    return Event.objects.filter(person=person, recurrence_of=None).count()


@transaction.atomic
def destroy(person) -> int:
    destroyed = count(person)
    Event.objects.filter(person=person).delete()  # occurrences, places, participants cascade
    return destroyed


register(RetentionKind("agenda", "Agenda", count, destroy, order=50))
