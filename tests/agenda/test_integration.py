"""Events written by the booking block and the PPA show in the agenda pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from agenda import recurrence, services
from agenda.booking import services as booking
from agenda.models import Event, EventStatus, Participant, ParticipantKind
from coordination import services as coordination_services
from coordination.models import CircleRole, TeamRole
from tests.agenda.test_booking import answer, hold, soon
from tests.conftest import _pro, login


@pytest.fixture
def colleagues(person, person_user, other_structure, admin_user):
    """Two professionals of another structure, in the person's circle with the referent."""
    pros = []
    for email, first in (("psy@exemple.fr", "Paula"), ("ergo@exemple.fr", "Eric")):
        pro = _pro(email, "psychologue", first, "Autre")
        coordination_services.team_member_add(
            actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.CARE
        )
        coordination_services.circle_member_add(
            actor=person_user, person=person, role=CircleRole.THERAPIST, professional=pro
        )
        pros.append(pro)
    return pros


def _week_page(user, url: str, day: dt.date) -> str:
    response = login(user).get(url, {"vue": "semaine", "date": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_a_confirmed_meeting_in_each_participants_agenda_and_the_persons(referent, colleagues, person):
    a, b = colleagues
    start = soon(days=4)
    event = hold(referent, [a, b], start=start, person=person, title="Synthèse retour à domicile")
    answer(a.user, event, "accepted")
    answer(b.user, event, "accepted")
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED
    day = start.date()
    for user in (referent, a.user, b.user):
        page = _week_page(user, reverse("agenda:mine"), day)
        assert "Synthèse retour à domicile" in page, user
        assert reverse("agenda:event", args=[event.pk]) in page
    page = _week_page(referent, reverse("agenda:person", args=[person.pk]), day)
    assert "Synthèse retour à domicile" in page


def test_it_writes_booking_events_as_the_agenda_expects(referent, colleagues, person):
    a, b = colleagues
    event = hold(referent, [a, b], person=person)
    assert event.series_ends_at == event.ends_at == recurrence.series_end(event)
    assert event.uid.endswith("@portail-coordination") and event.sequence == 0
    professionals = event.participants.filter(kind=ParticipantKind.PROFESSIONAL)
    assert {p.professional.user_id for p in professionals} == {referent.pk, a.user_id, b.user_id}
    assert all(p.user_id == p.professional.user_id for p in professionals)
    proposal = booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=soon(days=6),
        ends_at=soon(days=6) + dt.timedelta(hours=1),
        title="Bilan",
        answer_deadline=soon(days=5),
    )
    assert proposal.series_ends_at == proposal.ends_at and proposal.uid != event.uid


def test_it_stores_the_series_end_of_inserted_events_as_the_recurrence_module_computes_it(referent, person):
    start = soon(days=2)
    endless = services.event_insert(
        created_by=referent,
        person=person,
        title="Atelier",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        rrule="FREQ=WEEKLY",
    )
    assert endless.series_ends_at is None
    bounded = services.event_insert(
        created_by=referent,
        person=person,
        title="Atelier",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        rrule="FREQ=WEEKLY;COUNT=3",
        participants=[Participant(kind=ParticipantKind.PROFESSIONAL, professional=referent.professional)],
    )
    assert bounded.series_ends_at == start + dt.timedelta(weeks=2, hours=1)
    participant = bounded.participants.get()
    assert participant.user_id == referent.pk and participant.display_name
    assert Event.objects.filter(pk__in=[endless.pk, bounded.pk]).count() == 2
