"""The series generated from a validated PPA show in the person's and the professional's agenda."""

from __future__ import annotations

from django.urls import reverse

from agenda.models import Event
from ppa import services
from tests.conftest import login


def _week(user, url: str, day: str) -> str:
    response = login(user).get(url, {"vue": "semaine", "date": day})
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_generated_series_in_the_persons_and_the_professionals_agenda(validated, referent, nurse, person):
    services.plan_events_generate(actor=referent, version=validated)
    event = Event.objects.get(pk=validated.actions.get().event_id)
    link = reverse("agenda:event", args=[event.pk])
    # The first week of the series and a week three months later (weekly, Monday and Thursday).
    for day in ("2026-01-05", "2026-04-06"):
        person_page = _week(referent, reverse("agenda:person", args=[person.pk]), day)
        assert person_page.count(link) == 2 and event.title in person_page
        nurse_page = _week(nurse, reverse("agenda:mine"), day)
        assert nurse_page.count(link) == 2
