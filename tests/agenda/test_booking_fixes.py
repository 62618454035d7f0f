"""#16 item 8, the meeting booking: a hold never outlives the meeting's start, and a
colleague whose counter-proposal is taken is not asked to accept her own slot again."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from agenda.models import Event, EventStatus, Participant, Response
from common.timezone import PARIS
from tests.agenda.test_booking import colleagues, soon  # noqa: F401 (fixture)
from tests.conftest import login

FMT = "%Y-%m-%d %H:%M"


def _pick(client, invitees, start: dt.datetime) -> Event:
    response = client.post(
        reverse("agenda:booking_pick"),
        {
            "invitees": [p.pk for p in invitees],
            "motive": "Synthèse",
            "starts_at": start.astimezone(PARIS).strftime(FMT),
            "ends_at": (start + dt.timedelta(hours=1)).astimezone(PARIS).strftime(FMT),
        },
    )
    assert response.status_code == 302
    return Event.objects.latest("pk")


def test_it_never_holds_a_slot_past_the_meeting_start(referent, colleagues):  # noqa: F811
    a, _b = colleagues
    start = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    event = _pick(login(referent), [a], start)
    assert event.status == EventStatus.PROPOSED
    assert event.hold_expires_at <= event.starts_at


def test_it_counts_the_counter_proposer_as_accepting_her_own_slot(referent, colleagues):  # noqa: F811
    a, b = colleagues
    event = _pick(login(referent), [a, b], soon(3, 10))
    login(a.user).post(reverse("agenda:booking_meeting", args=[event.pk]), {"response": "accepted"})
    other = soon(4, 14).astimezone(PARIS)
    countered = login(b.user).post(
        reverse("agenda:booking_meeting", args=[event.pk]),
        {
            "response": "counter",
            "counter_starts_at": other.strftime(FMT),
            "counter_ends_at": (other + dt.timedelta(hours=1)).strftime(FMT),
            "comment": "Je suis en visite ce matin-là.",
        },
    )
    assert countered.status_code == 302
    counter = Participant.objects.get(event=event, professional=b)
    taken = login(referent).post(reverse("agenda:booking_accept_counter", args=[event.pk, counter.pk]))
    assert taken.status_code == 302
    counter.refresh_from_db()
    assert counter.response == Response.ACCEPTED
    assert Participant.objects.get(event=event, professional=a).response == Response.NEEDS_ACTION
    login(a.user).post(reverse("agenda:booking_meeting", args=[event.pk]), {"response": "accepted"})
    event.refresh_from_db()
    assert event.starts_at == other and event.status == EventStatus.CONFIRMED
