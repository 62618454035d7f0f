"""Availability: the editor, free/busy visibility between colleagues, the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda import slots
from agenda.models import AvailabilityException, AvailabilityWindow, Event, Participant
from common.timezone import PARIS
from coordination import services
from coordination.models import CircleRole, TeamRole
from tests.conftest import _pro, login
from tests.factories import StructureFactory


@pytest.fixture
def colleague(person, person_user, admin_user):
    """A professional of a third structure: shares only the person's circle with the referent."""
    pro = _pro("psy@exemple.fr", "psychologue", "Paula", "Autre")
    services.team_member_add(
        actor=admin_user, structure=StructureFactory(name="CMP"), professional=pro, role=TeamRole.CARE
    )
    services.circle_member_add(actor=person_user, person=person, role=CircleRole.THERAPIST, professional=pro)
    return pro


def _secret_meeting(pro) -> Event:
    start = slots.local(timezone.localdate() + dt.timedelta(days=1), dt.time(10))
    event = Event.objects.create(
        created_by=pro.user,
        title="Consultation de Mme Secret",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        status="confirmed",
    )
    Participant.objects.create(event=event, kind="professional", professional=pro, user=pro.user, response="accepted")
    return event


def test_it_lets_a_professional_declare_windows_and_exceptions(referent, structure):
    client = login(referent)
    response = client.post(
        reverse("agenda:availability"),
        {
            "form": "window",
            "window-structure": structure.pk,
            "window-weekday": 1,
            "window-start_time": "09:00",
            "window-end_time": "12:30",
            "window-place_kind": "address",
            "window-place_label": "Bureau 2",
        },
    )
    assert response.status_code == 302
    window = AvailabilityWindow.objects.get()
    assert (window.weekday, window.start_time, window.end_time) == (1, dt.time(9), dt.time(12, 30))
    response = client.post(
        reverse("agenda:availability"),
        {
            "form": "exception",
            "exception-kind": "absence",
            "exception-starts_at": "2030-05-01T00:00",
            "exception-ends_at": "2030-05-02T00:00",
            "exception-label": "Formation",
        },
    )
    assert response.status_code == 302 and AvailabilityException.objects.count() == 1
    page = client.get(reverse("agenda:availability")).content.decode()
    assert "Mardi" in page and "09:00 – 12:30" in page and "Formation" in page


def test_it_refuses_a_window_ending_before_it_starts_and_names_the_field(referent, structure):
    response = login(referent).post(
        reverse("agenda:availability"),
        {
            "form": "window",
            "window-structure": structure.pk,
            "window-weekday": 1,
            "window-start_time": "12:00",
            "window-end_time": "09:00",
            "window-place_kind": "address",
        },
    )
    assert response.status_code == 400
    assert "L&#x27;heure de fin doit être après l&#x27;heure de début." in response.content.decode()
    assert not AvailabilityWindow.objects.exists()


def test_it_shows_a_colleague_free_busy_only(referent, colleague):
    AvailabilityWindow.objects.create(
        professional=colleague,
        structure=colleague.structures.get(),
        weekday=(timezone.localdate() + dt.timedelta(days=1)).weekday(),
        start_time=dt.time(9),
        end_time=dt.time(12),
    )
    _secret_meeting(colleague)
    page = login(referent).get(reverse("agenda:free_busy", args=[colleague.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "10:00 – 11:00" in html and "09:00 – 10:00" in html
    assert "Secret" not in html
    api = login(referent).get(reverse("api_free_busy", args=[colleague.pk]))
    assert api.status_code == 200
    assert {row["status"] for row in api.json()} == {"free", "busy"}
    assert "Secret" not in api.content.decode()


@pytest.mark.parametrize("who", ["stranger", "other_pro", "person_user"])
def test_it_hides_availability_from_anyone_sharing_nothing(request, colleague, who):
    user = request.getfixturevalue(who)
    assert login(user).get(reverse("agenda:free_busy", args=[colleague.pk])).status_code == 404
    assert login(user).get(reverse("api_free_busy", args=[colleague.pk])).status_code == 404


def test_it_manages_availability_and_searches_slots_through_the_api(referent, colleague, structure):
    client = login(referent)
    created = client.post(
        reverse("api_availability_windows"),
        {
            "structure": structure.pk,
            "weekday": 0,
            "start_time": "09:00",
            "end_time": "12:00",
            "place_kind": "visio",
            "valid_from": "2026-01-01",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    bad = client.post(
        reverse("api_availability_windows"),
        {"structure": structure.pk, "weekday": 0, "start_time": "12:00", "end_time": "09:00", "place_kind": "visio"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "end_time" in bad.json()
    AvailabilityWindow.objects.create(
        professional=colleague,
        structure=colleague.structures.get(),
        weekday=0,
        start_time=dt.time(10),
        end_time=dt.time(16),
        valid_from=dt.date(2026, 1, 1),
    )
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    result = client.post(
        reverse("api_slots"),
        {
            "participants": [colleague.pk],
            "duration_minutes": 60,
            "start": f"{monday}T00:00:00+01:00",
            "end": f"{monday}T23:00:00+01:00",
            "minimum_notice_hours": 0,
        },
        content_type="application/json",
    )
    assert result.status_code == 200
    body = result.json()
    assert [s["status"] for s in body["slots"]] == ["free"] * 3
    starts = [dt.datetime.fromisoformat(s["start"]).astimezone(PARIS).strftime("%H:%M") for s in body["slots"]]
    assert starts == ["10:00", "10:30", "11:00"]
    nothing = client.post(
        reverse("api_slots"),
        {
            "participants": [colleague.pk],
            "duration_minutes": 600,
            "start": f"{monday}T00:00:00+01:00",
            "end": f"{monday}T23:00:00+01:00",
            "minimum_notice_hours": 0,
        },
        content_type="application/json",
    )
    assert nothing.json()["slots"] == [] and nothing.json()["message"].startswith("Aucun créneau commun")


def test_it_books_and_answers_through_the_api(referent, colleague):
    start = slots.local(timezone.localdate() + dt.timedelta(days=3), dt.time(10))
    created = login(referent).post(
        reverse("api_meetings"),
        {
            "invitees": [colleague.pk],
            "motive": "Synthèse",
            "start": start.isoformat(),
            "end": (start + dt.timedelta(hours=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    meeting = created.json()
    assert meeting["status"] == "proposed"
    answered = login(colleague.user).post(
        reverse("api_meeting_response", args=[meeting["id"]]), {"response": "accepted"}, content_type="application/json"
    )
    assert answered.status_code == 200 and answered.json()["status"] == "confirmed"
    again = login(referent).post(
        reverse("api_meetings"),
        {
            "invitees": [colleague.pk],
            "motive": "Autre",
            "start": start.isoformat(),
            "end": (start + dt.timedelta(hours=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert again.status_code == 400 and "n'est plus libre" in again.content.decode()
