"""Appointments proposed to the person, with an answer deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agenda import slots
from agenda.booking import services as booking
from agenda.booking.tasks import release_unanswered_proposals
from agenda.models import Event, EventStatus, Participant
from notifications.models import Notification
from tests.conftest import login


def propose(referent, person, *, days: int = 5) -> Event:
    start = slots.local(timezone.localdate() + dt.timedelta(days=days), dt.time(14))
    return booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=45),
        title="Bilan d'ergothérapie",
        answer_deadline=timezone.now() + dt.timedelta(days=2),
    )


def test_it_holds_the_slot_until_the_person_answers(referent, person, person_user):
    event = propose(referent, person)
    assert Notification.objects.filter(event_type="agenda.appointment_proposed", recipient=person_user).exists()
    busy = slots.load_busy([referent.professional.pk], event.starts_at, event.ends_at)
    assert busy[referent.professional.pk] == [(event.starts_at, event.ends_at)]
    page = login(person_user).get(reverse("agenda:booking_proposal", args=[event.pk]))
    assert "accepte ce rendez-vous" in page.content.decode()
    login(person_user).post(reverse("agenda:booking_proposal", args=[event.pk]), {"answer": "accept"})
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED
    assert Participant.objects.get(event=event, kind="person").response == "accepted"


def test_it_lets_the_legal_representative_decline(referent, person, legal_rep):
    event = propose(referent, person)
    login(legal_rep).post(reverse("agenda:booking_proposal", args=[event.pk]), {"answer": "decline"})
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert Notification.objects.filter(event_type="agenda.appointment_cancelled", recipient=referent).exists()


def test_it_hides_the_proposal_from_others(referent, person, stranger, nurse):
    event = propose(referent, person)
    for user in (stranger, nurse):
        assert login(user).get(reverse("agenda:booking_proposal", args=[event.pk])).status_code == 404


def test_it_releases_the_slot_and_tells_the_proposer_when_the_deadline_passes(referent, person, person_user):
    event = propose(referent, person)
    Event.objects.filter(pk=event.pk).update(answer_deadline=timezone.now() - dt.timedelta(minutes=1))
    assert release_unanswered_proposals() == 1
    assert release_unanswered_proposals() == 0
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert Notification.objects.filter(event_type="agenda.answer_deadline_passed", recipient=referent).count() == 1
    assert slots.load_busy([referent.professional.pk], event.starts_at, event.ends_at)[referent.professional.pk] == []
    listing = login(referent).get(reverse("agenda:booking_requests")).content.decode()
    assert "L&#x27;usager n&#x27;a pas donné suite" in listing
    with pytest.raises(ValidationError):
        booking.appointment_answer(actor=person_user, event=event, accept=True)


def test_it_needs_agenda_write_to_propose(person, external_pro):
    start = slots.local(timezone.localdate() + dt.timedelta(days=5), dt.time(14))
    with pytest.raises(Exception) as error:
        booking.appointment_propose(
            actor=external_pro,
            person=person,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            title="Séance",
            answer_deadline=timezone.now() + dt.timedelta(days=1),
        )
    assert error.type.__name__ in {"AccessDenied", "Http404"}
    assert not Event.objects.exists()


def test_it_proposes_an_appointment_through_the_page(referent, person, person_user):
    """#16 item 1: the page answered 500 (`type(actor).objects` on the request's lazy user)."""
    start = slots.local(timezone.localdate() + dt.timedelta(days=6), dt.time(10))
    fmt = "%Y-%m-%dT%H:%M"
    page = login(referent).post(
        reverse("agenda:booking_proposal_create", args=[person.pk]),
        {
            "title": "Bilan orthophonie",
            "starts_at": start.strftime(fmt),
            "ends_at": (start + dt.timedelta(hours=1)).strftime(fmt),
            "answer_deadline": (start - dt.timedelta(days=2)).strftime(fmt),
            "motive": "",
        },
    )
    assert page.status_code == 302
    event = Event.objects.get(title="Bilan orthophonie")
    assert event.status == EventStatus.PROPOSED
    assert Notification.objects.filter(event_type="agenda.appointment_proposed", recipient=person_user).exists()
