"""List pages and API lists: the number of queries does not grow with the events."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agenda.models import Event, EventPlace, Participant
from tests.agenda.conftest import PARIS
from tests.conftest import login


def _bulk_events(person, referent, count: int) -> None:
    start = timezone.now().astimezone(PARIS).replace(hour=8, minute=0, second=0, microsecond=0)
    professional = referent.professional
    events = Event.objects.bulk_create(
        [
            Event(
                person=person,
                structure_id=person.accompaniments.first().structure_id,
                created_by=referent,
                title=f"Évènement {i}",
                starts_at=start + timedelta(minutes=10 * i),
                ends_at=start + timedelta(minutes=10 * i + 5),
                series_ends_at=start + timedelta(minutes=10 * i + 5),
                rrule="FREQ=WEEKLY;COUNT=2" if i % 50 == 0 else "",
            )
            for i in range(count)
        ]
    )
    for event in events:
        if event.rrule:
            event.series_ends_at = None
    Event.objects.bulk_update([e for e in events if e.rrule], ["series_ends_at"])
    EventPlace.objects.bulk_create([EventPlace(event=e, kind="home") for e in events])
    Participant.objects.bulk_create(
        [
            Participant(event=e, kind="professional", professional=professional, user=referent, is_organiser=True)
            for e in events
        ]
    )


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def _compare(person, referent, url, params, marker: str):
    client = login(referent)
    _bulk_events(person, referent, 10)
    client.get(url, params)  # warm the per-process caches (content types, session)
    small = _count(client, url, params)
    _bulk_events(person, referent, 990)
    response = client.get(url, params)
    assert response.content.decode().count(marker) >= 1000
    large = _count(client, url, params)
    return small, large


def test_it_runs_the_same_number_of_queries_for_10_and_1000_events_on_the_person_page(person, referent):
    url = reverse("agenda:person", args=[person.pk])
    small, large = _compare(person, referent, url, {"vue": "liste"}, "Évènement ")
    assert small == large


def test_it_runs_the_same_number_of_queries_for_10_and_1000_events_in_the_api(person, referent):
    small, large = _compare(person, referent, "/api/agenda/events/", {"person": person.pk}, '"resourceType"')
    assert small == large


def test_it_runs_the_same_number_of_queries_for_10_and_1000_events_on_my_agenda(person, referent):
    small, large = _compare(person, referent, reverse("agenda:mine"), {"vue": "liste"}, "Évènement ")
    assert small == large


def test_it_lists_each_event_with_its_time_place_and_badges_on_the_person_page(person, referent, make_event):
    from tests.agenda.conftest import paris

    make_event(
        person=person,
        title="Kiné",
        start=paris(2026, 12, 1, 10, 0),
        visibility="internal",
        places=[{"kind": "address", "address": "3 rue des Lilas"}],
    )
    cancelled = make_event(person=person, title="Dentiste", start=paris(2026, 12, 2, 14, 30))
    Event.objects.filter(pk=cancelled.pk).update(status="cancelled")
    html = (
        login(referent)
        .get(reverse("agenda:person", args=[person.pk]), {"vue": "semaine", "date": "2026-12-01"})
        .content.decode()
    )
    assert "10:00 – 11:00" in html and "3 rue des Lilas" in html and "Interne" in html
    assert 'id="jour-20261201"' in html and "mardi 1 décembre" in html
    assert "agenda-item--cancelled" in html and "Annulé" in html
    assert reverse("agenda:event", args=[cancelled.pk]) in html


def test_it_escapes_titles_and_places_on_the_agenda_pages(person, referent, make_event):
    from tests.agenda.conftest import paris

    make_event(
        person=person,
        title="<script>alert(1)</script>",
        start=paris(2026, 12, 1, 10, 0),
        places=[{"kind": "address", "address": "<b>3 rue</b> & co"}],
    )
    client = login(referent)
    for view in ("ligne", "semaine", "mois"):
        html = client.get(
            reverse("agenda:person", args=[person.pk]), {"vue": view, "date": "2026-12-01"}
        ).content.decode()
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, view
        assert "<b>3 rue</b>" not in html and "&lt;b&gt;3 rue&lt;/b&gt; &amp; co" in html, view
