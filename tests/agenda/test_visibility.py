"""Who sees which events of a person's agenda, with the personas."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agenda import services
from agenda.models import Visibility
from coordination.access import AccessDenied
from tests.agenda.conftest import grant, paris
from tests.conftest import login


@pytest.fixture
def events(person, referent, make_event):
    shared = make_event(person, title="Kinésithérapie à domicile", start=paris(2026, 12, 2, 10, 0))
    internal = make_event(
        person, title="Réunion d'équipe interne", start=paris(2026, 12, 3, 14, 0), visibility=Visibility.INTERNAL
    )
    return shared, internal


def _page(user, person):
    return login(user).get(reverse("agenda:person", args=[person.pk]), {"vue": "mois", "date": "2026-12-01"})


def test_it_shows_internal_events_to_the_structure_team_only(person, events, nurse, external_pro, person_user):
    grant(person, external_pro, person_user, agenda=1)
    team = _page(nurse, person).content.decode()
    assert "Kinésithérapie à domicile" in team and "Réunion d&#x27;équipe interne" in team
    outsider = _page(external_pro, person)
    assert outsider.status_code == 200
    assert "Kinésithérapie à domicile" in outsider.content.decode()
    assert "Réunion d&#x27;équipe interne" not in outsider.content.decode()
    # The internal event's own page: 404 for whoever is not in its team.
    assert login(external_pro).get(reverse("agenda:event", args=[events[1].pk])).status_code == 404
    assert login(nurse).get(reverse("agenda:event", args=[events[1].pk])).status_code == 200


def test_it_shows_the_person_their_shared_events(person, events, person_user):
    page = _page(person_user, person).content.decode()
    assert "Kinésithérapie à domicile" in page
    assert "Réunion d&#x27;équipe interne" not in page


def test_it_hides_the_person_from_a_stranger(person, events, stranger):
    assert _page(stranger, person).status_code == 404
    assert login(stranger).get(reverse("agenda:event", args=[events[0].pk])).status_code == 404
    assert login(stranger).get("/api/agenda/events/", {"person": person.pk}).status_code == 404


def test_it_shows_nothing_to_a_carer_without_the_agenda_right(person, events, carer):
    response = _page(carer, person)
    assert response.status_code == 403
    assert "Kinésithérapie" not in response.content.decode()
    api = login(carer).get("/api/agenda/events/", {"person": person.pk})
    assert api.status_code == 403
    assert login(carer).get(reverse("agenda:event", args=[events[0].pk])).status_code == 403


def test_it_shows_a_cancelled_event_as_such(person, events, referent, nurse):
    services.event_cancel(actor=referent, event=events[0])
    page = _page(nurse, person).content.decode()
    assert "Kinésithérapie à domicile" in page
    assert "Annulé" in page


def test_it_lets_only_agenda_writers_create_events_for_a_person(person, carer, external_pro, person_user):
    with pytest.raises(AccessDenied):
        services.event_create(
            actor=carer, person=person, title="Visite", starts_at=paris(2026, 12, 1, 10), ends_at=paris(2026, 12, 1, 11)
        )
    grant(person, external_pro, person_user, agenda=1)
    response = login(external_pro).post(
        reverse("agenda:person_create", args=[person.pk]),
        {
            "title": "Séance",
            "event_type": "rdv_sante",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T11:00",
            "visibility": "shared",
        },
    )
    assert response.status_code == 403


def test_it_refuses_an_internal_event_from_someone_without_a_structure(person, external_pro, person_user):
    grant(person, external_pro, person_user, agenda=2)
    with pytest.raises(ValidationError) as error:
        services.event_create(
            actor=external_pro,
            person=person,
            title="Visite",
            starts_at=paris(2026, 12, 1, 10),
            ends_at=paris(2026, 12, 1, 11),
            visibility=Visibility.INTERNAL,
        )
    assert "visibility" in error.value.message_dict


def test_it_shows_a_professional_their_events_across_structures_and_busy_times(person, referent, other_pro, make_event):
    other = other_pro.professional
    make_event(person, title="Synthèse pluridisciplinaire", start=paris(2026, 12, 2, 9, 0), participants=[other])
    services.external_calendar_add(
        actor=other_pro,
        name="Cabinet",
        content=(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:x@t\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART:20261203T090000Z\r\nDTEND:20261203T100000Z\r\n"
            b"SUMMARY:Secret\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    page = login(other_pro).get(reverse("agenda:mine"), {"vue": "mois", "date": "2026-12-01"}).content.decode()
    assert "Synthèse pluridisciplinaire" in page
    assert "Occupé" in page
    assert "Secret" not in page
