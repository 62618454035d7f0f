"""The agenda API: FHIR-like Appointment shapes, same gate and services as the pages."""

from __future__ import annotations

from agenda.models import Event
from tests.agenda.conftest import paris
from tests.conftest import login


def test_it_creates_lists_updates_and_cancels_an_appointment(person, referent, nurse):
    from reference.models import SerafinCode

    client = login(referent)
    code = SerafinCode.objects.filter(kind="service").first()
    created = client.post(
        "/api/agenda/events/",
        {
            "person": person.pk,
            "title": "Séance de kinésithérapie",
            "start": "2026-12-01T10:00:00+01:00",
            "end": "2026-12-01T11:00:00+01:00",
            "appointmentType": "rdv_sante",
            "serviceType": code.code,
            "participants": [nurse.professional.pk],
            "places": [{"kind": "home"}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["resourceType"] == "Appointment" and body["status"] == "booked"
    assert body["serviceType"][0]["coding"][0]["code"] == code.code
    actors = {p["actor"]["reference"]: p["status"] for p in body["participant"]}
    assert actors[f"Practitioner/{nurse.professional.pk}"] == "needs-action"
    assert actors[f"Practitioner/{referent.professional.pk}"] == "accepted"

    listed = login(nurse).get(
        "/api/agenda/events/",
        {"person": person.pk, "start": "2026-11-30T00:00:00+01:00", "end": "2026-12-07T00:00:00+01:00"},
    )
    assert [r["uid"] for r in listed.json()["results"]] == [body["uid"]]
    mine = login(nurse).get(
        "/api/agenda/events/", {"start": "2026-11-30T00:00:00+01:00", "end": "2026-12-07T00:00:00+01:00"}
    )
    assert [r["id"] for r in mine.json()["results"]] == [body["id"]]

    patched = client.patch(
        f"/api/agenda/events/{body['id']}/",
        {"title": "Séance déplacée", "start": "2026-12-01T14:00:00+01:00", "end": "2026-12-01T15:00:00+01:00"},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["sequence"] == 1 and patched.json()["description"] == "Séance déplacée"
    cancelled = client.post(f"/api/agenda/events/{body['id']}/cancel/", {}, content_type="application/json")
    assert cancelled.json()["status"] == "cancelled"


def test_it_answers_400_with_french_field_messages(person, referent):
    response = login(referent).post(
        "/api/agenda/events/",
        {
            "person": person.pk,
            "title": "Visite",
            "start": "2026-12-01T11:00:00+01:00",
            "end": "2026-12-01T10:00:00+01:00",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["ends_at"] == ["La fin doit être après le début."]
    assert not Event.objects.exists()


def test_it_expands_series_into_occurrences(person, referent, make_event):
    make_event(person, start=paris(2026, 3, 19, 10), rrule="FREQ=WEEKLY;COUNT=3")
    response = login(referent).get(
        "/api/agenda/events/", {"person": person.pk, "start": "2026-03-01T00:00:00Z", "end": "2026-04-30T00:00:00Z"}
    )
    starts = [r["start"] for r in response.json()["results"]]
    assert starts == ["2026-03-19T10:00:00+01:00", "2026-03-26T10:00:00+01:00", "2026-04-02T10:00:00+02:00"]
