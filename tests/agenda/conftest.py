from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agenda import services
from coordination.models import CircleMember, Level
from coordination.services import grants_set

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _deliveries_inline(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: func())


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def grant(person, user, actor, **levels):
    member = CircleMember.objects.get(person=person, user=user, ended_at__isnull=True)
    grants_set(actor=actor, member=member, levels={k: Level(v) for k, v in levels.items()})


@pytest.fixture
def make_event(referent):
    def make(person=None, actor=None, title="Consultation", start=None, minutes=60, **fields):
        start = start or paris(2026, 12, 1, 10, 0)
        from datetime import timedelta

        return services.event_create(
            actor=actor or referent,
            person=person,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            **fields,
        )

    return make
