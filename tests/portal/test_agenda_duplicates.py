"""#16 item 8: the same workshop showed twice in the person's agenda when a PPA action and
an event entered by the structure coincide (seed 000 §1.2.4: avoid doubles in the
consolidated view)."""

from __future__ import annotations

import datetime as dt

import lxml.html
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from agenda import slots
from agenda.models import EventSource, Visibility
from tests.conftest import login


def _monday_in(weeks: int) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


def _workshop(actor, person, rrule: str, **fields):
    start = slots.local(_monday_in(1), dt.time(10))
    return agenda_services.event_create(
        actor=actor,
        person=person,
        title="Atelier mémoire",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        rrule=rrule,
        visibility=Visibility.SHARED,
        **fields,
    )


def test_it_shows_a_workshop_once_when_the_plan_and_the_structure_both_schedule_it(
    person, person_user, referent, nurse
):
    _workshop(referent, person, "FREQ=WEEKLY", places=[{"kind": "address", "label": "Salle d'animation"}])
    _workshop(nurse, person, "FREQ=WEEKLY;BYDAY=MO,TH", source=EventSource.PPA)
    for client, url in (
        (login(person_user), reverse("portal_agenda") + "?vue=semaine&date=" + _monday_in(1).isoformat()),
        (
            login(referent),
            reverse("agenda:person", args=[person.pk]) + "?vue=semaine&date=" + _monday_in(1).isoformat(),
        ),
    ):
        page = client.get(url)
        assert page.status_code == 200
        tree = lxml.html.fromstring(page.content.decode())
        items = [" ".join(li.text_content().split()) for li in tree.xpath("//main//li[not(.//li)]")]
        workshops = [item for item in items if "Atelier mémoire" in item]
        # Monday once (with its room), Thursday from the plan alone.
        assert len(workshops) == 2, (url, workshops)
        assert "Salle d'animation" in workshops[0]
