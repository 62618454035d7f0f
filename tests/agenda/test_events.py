"""Event services: validation, changes, answers, one event per UID, busy intervals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agenda import selectors, services
from agenda.audit_types import AgendaAudit
from agenda.models import Event, EventSource, EventStatus, Response
from coordination.models import AuditEvent
from notifications.models import Notification
from tests.agenda.conftest import paris
from tests.conftest import login


def test_it_refuses_an_end_before_the_start_with_a_french_message(person, referent):
    with pytest.raises(ValidationError) as error:
        services.event_create(
            actor=referent,
            person=person,
            title="Visite",
            starts_at=paris(2026, 12, 1, 11),
            ends_at=paris(2026, 12, 1, 10),
        )
    assert error.value.message_dict["ends_at"] == ["La fin doit être après le début."]
    assert not Event.objects.exists()


def test_it_asks_for_a_secure_visio_link(person, referent):
    with pytest.raises(ValidationError) as error:
        services.event_create(
            actor=referent,
            person=person,
            title="Visio",
            starts_at=paris(2026, 12, 1, 10),
            ends_at=paris(2026, 12, 1, 11),
            places=[{"kind": "visio", "url": "http://x.fr"}],
        )
    assert "https://" in error.value.message_dict["places"][0]


def test_it_stretches_an_all_day_event_to_local_midnights(person, referent):
    event = services.event_create(
        actor=referent, person=person, title="Sortie", starts_at=paris(2026, 7, 14, 9), ends_at=None, is_all_day=True
    )
    assert event.starts_at == paris(2026, 7, 14, 0, 0)
    assert event.ends_at == paris(2026, 7, 15, 0, 0)


def test_the_form_shows_service_errors_on_their_field(person, referent):
    response = login(referent).post(
        reverse("agenda:person_create", args=[person.pk]),
        {
            "title": "Visite",
            "event_type": "autre",
            "starts_at": "2026-12-01T11:00",
            "ends_at": "2026-12-01T10:00",
            "visibility": "shared",
            "place_kind": "visio",
            "place_url": "",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "La fin doit être après le début." in text
    assert not Event.objects.exists()


def test_the_form_creates_a_weekly_activity(person, referent):
    response = login(referent).post(
        reverse("agenda:person_create", args=[person.pk]),
        {
            "title": "Atelier mémoire",
            "event_type": "activite",
            "starts_at": "2026-03-19T10:00",
            "ends_at": "2026-03-19T11:00",
            "visibility": "shared",
            "repeat": "FREQ=WEEKLY",
            "repeat_until": "2026-04-30",
            "place_kind": "home",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get()
    assert response.status_code == 302
    assert event.rrule.startswith("FREQ=WEEKLY;UNTIL=")
    assert event.series_ends_at == paris(2026, 4, 30, 11, 0)


def test_an_update_increments_sequence_notifies_and_audits(person, referent, nurse, make_event):
    event = make_event(person, participants=[nurse.professional])
    Notification.objects.all().delete()
    services.event_update(actor=referent, event=event, title="Consultation déplacée")
    event.refresh_from_db()
    assert event.sequence == 1
    assert Notification.objects.filter(recipient=nurse, event_type="agenda.appointment_changed").exists()
    assert AuditEvent.objects.filter(event_type=AgendaAudit.EVENT_UPDATED, person=person).exists()
    services.event_cancel(actor=referent, event=event)
    assert Notification.objects.filter(recipient=nurse, event_type="agenda.appointment_cancelled").exists()
    with pytest.raises(ValidationError):
        services.event_update(actor=referent, event=event, title="Trop tard")


def test_a_participant_answers_from_the_event_page(person, referent, nurse, make_event):
    event = make_event(person, participants=[nurse.professional])
    response = login(nurse).post(reverse("agenda:respond", args=[event.pk]), {"response": "declined"})
    assert response.status_code == 302
    assert event.participants.get(professional=nurse.professional).response == Response.DECLINED
    assert AuditEvent.objects.filter(event_type=AgendaAudit.EVENT_ANSWERED).exists()


def test_the_same_uid_from_two_sources_is_stored_once(person, referent):
    fields = {
        "person": person,
        "title": "Bilan",
        "starts_at": paris(2026, 12, 1, 10),
        "ends_at": paris(2026, 12, 1, 11),
    }
    first, created = services.event_upsert_from_source(
        actor=referent, uid="abc@logiciel", source=EventSource.IMPORT, **fields
    )
    again, created_again = services.event_upsert_from_source(
        actor=referent, uid="abc@logiciel", source=EventSource.PPA, **fields
    )
    assert created and not created_again
    assert first.pk == again.pk and again.sequence == 0
    moved, _ = services.event_upsert_from_source(
        actor=referent, uid="abc@logiciel", source=EventSource.IMPORT, **{**fields, "starts_at": paris(2026, 12, 1, 9)}
    )
    assert Event.objects.count() == 1 and moved.sequence == 1


def test_busy_intervals_cover_events_series_and_imported_times(person, referent, nurse, make_event):
    pro = nurse.professional
    make_event(person, start=paris(2026, 12, 1, 10), participants=[pro])
    make_event(person, start=paris(2026, 12, 1, 10, 30), participants=[pro])  # overlaps: merged
    series = make_event(person, start=paris(2026, 11, 24, 14), rrule="FREQ=WEEKLY", participants=[pro])
    declined = make_event(person, start=paris(2026, 12, 2, 8), participants=[pro])
    services.participant_respond(actor=nurse, event=declined, response=Response.DECLINED)
    cancelled = make_event(person, start=paris(2026, 12, 2, 9), participants=[pro])
    services.event_cancel(actor=referent, event=cancelled)
    services.occurrence_cancel(actor=referent, event=series, recurrence_id=paris(2026, 12, 8, 14))
    services.external_calendar_add(
        actor=nurse,
        name="Perso",
        content=(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:p@t\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART:20261203T170000Z\r\nDTEND:20261203T180000Z\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    busy = selectors.busy_intervals([pro.pk, referent.professional.pk], paris(2026, 12, 1), paris(2026, 12, 10))
    assert busy[pro.pk] == [
        (paris(2026, 12, 1, 10), paris(2026, 12, 1, 11, 30)),
        (paris(2026, 12, 1, 14), paris(2026, 12, 1, 15)),
        (paris(2026, 12, 3, 18), paris(2026, 12, 3, 19)),
    ]
    assert len(busy[referent.professional.pk]) == 3  # the organiser is busy too (not the declined/cancelled)


def test_busy_intervals_take_three_queries(person, referent, nurse, make_event, django_assert_num_queries):
    for day in range(1, 8):
        make_event(person, start=paris(2026, 12, day, 10), participants=[nurse.professional])
    make_event(person, start=paris(2026, 11, 2, 16), rrule="FREQ=DAILY", participants=[nurse.professional])
    with django_assert_num_queries(3):
        selectors.busy_intervals([nurse.professional.pk], paris(2026, 12, 1), paris(2026, 12, 31))


def test_a_done_event_must_be_past(person, referent, make_event):
    event = make_event(person, start=paris(2030, 1, 1, 10))
    with pytest.raises(ValidationError):
        services.event_mark_done(actor=referent, event=event)
    past = make_event(person, start=paris(2025, 1, 1, 10))
    assert services.event_mark_done(actor=referent, event=past).status == EventStatus.DONE
    assert past.ends_at - past.starts_at == timedelta(hours=1)
