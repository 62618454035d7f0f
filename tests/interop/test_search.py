"""Searches: paged searchset Bundles with `next` links, strict parameters (an unknown one
is a 400, not ignored), filters that do what they say, odd input that never gets a
500, and query counts that do not grow with the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda import services as agenda
from documents import services as documents
from liaison import services as liaison
from tests.interop.conftest import PDF_BYTES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fhir_media", "on_commit_now")]


def outcome(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]["diagnostics"]


def notes(nurse, person, count: int, **fields):
    for n in range(count):
        liaison.transmission_create(
            actor=nurse,
            person=person,
            category="observations",
            text=f"Transmission {n}",
            observed_at=timezone.now() - dt.timedelta(minutes=n + 1),
            **fields,
        )


def follow(api, resource_type: str, **params) -> list[dict]:
    """Every entry, following the `next` links."""
    response = api.get(resource_type, **params)
    entries = []
    while True:
        bundle = response.json()
        entries += bundle.get("entry", [])
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not nxt:
            return entries
        response = api.client.get(nxt[0].split("127.0.0.1:8000", 1)[1], **api.headers)


def test_pages_follow_next_links_without_loss_or_duplicate(api, person, nurse, referent):
    notes(nurse, person, 7)
    for n in range(3):
        documents.document_create(
            actor=referent, person=person, doc_type="compte_rendu", title=f"CR {n}", content=PDF_BYTES, filename="c.pdf"
        )
    first = api.get("DocumentReference", patient=person.pk, _count=4).json()
    assert len(first["entry"]) == 4 and any(link["relation"] == "next" for link in first["link"])
    entries = follow(api, "DocumentReference", patient=person.pk, _count=4)
    ids = [e["resource"]["id"] for e in entries]
    assert len(ids) == 10 and len(set(ids)) == 10
    dates = [e["resource"]["date"] for e in entries]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("resource_type", "params", "name"),
    [
        ("DocumentReference", {"patient": "1", "author": "x"}, "author"),
        ("Patient", {"nom": "MARTIN"}, "nom"),
        ("CareTeam", {"patient": "1", "_sort": "date"}, "_sort"),
        ("Appointment", {"patient": "1", "_include": "Appointment:actor"}, "_include"),
    ],
)
def test_an_unknown_search_parameter_is_refused(api, person, resource_type, params, name):
    response = api.get(resource_type, **params)
    assert response.status_code == 400
    assert name in outcome(response)


def test_a_search_about_a_person_needs_the_person(api):
    response = api.get("DocumentReference")
    assert response.status_code == 400
    assert "patient" in outcome(response)


def test_filters_of_the_notebook(api, person, nurse, referent):
    notes(nurse, person, 2)
    notes(nurse, person, 1, scope="internal")
    internal = api.get(
        "DocumentReference",
        patient=person.pk,
        **{
            "security-label": "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument|INVISIBLE_PATIENT"
        },
    ).json()["entry"]
    assert len(internal) == 1 and internal[0]["resource"]["securityLabel"]
    observations = api.get("DocumentReference", patient=person.pk, type="OBS", category="cahier-de-liaison").json()
    assert len(observations["entry"]) == 3
    assert api.get("DocumentReference", patient=person.pk, type="INST").json().get("entry", []) == []
    today = timezone.localdate().isoformat()
    assert len(api.get("DocumentReference", patient=person.pk, date=f"ge{today}").json()["entry"]) >= 1
    assert api.get("DocumentReference", patient=person.pk, date="lt2000-01-01").json().get("entry", []) == []


def test_the_slot_search_answers_from_the_availability(api, nurse, structure):
    from agenda import availability

    availability.availability_window_create(
        actor=nurse, structure=structure, weekday=0, start_time=dt.time(9), end_time=dt.time(12)
    )
    monday = timezone.localdate() + dt.timedelta(days=(7 - timezone.localdate().weekday()))
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=timezone.get_current_timezone())
    busy = start.replace(hour=10)
    agenda.event_create(actor=nurse, title="Occupée", starts_at=busy, ends_at=busy + dt.timedelta(hours=1))
    bundle = api.get(
        "Slot",
        schedule=f"Schedule/{nurse.professional.pk}",
        start=[f"ge{start.isoformat()}", f"lt{(start + dt.timedelta(days=1)).isoformat()}"],
        _include="Slot:schedule",
    ).json()
    slots = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    free = [(s["start"][11:16], s["end"][11:16]) for s in slots if s["status"] == "free"]
    assert free == [("09:00", "10:00"), ("11:00", "12:00")]
    assert [s["status"] for s in slots].count("busy") == 1
    assert [e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "include"] == ["Schedule"]
    too_long = api.get("Slot", schedule=f"Schedule/{nurse.professional.pk}", start=["ge2026-01-01", "le2026-12-31"])
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "Patient/abc",
        "Patient/99999999999999999999999",
        "Patient/-1",
        "DocumentReference/cdl-x",
        "DocumentReference/zzz-1",
        "Slot/1-2-3",
        "Slot/a-b-c-d",
        "Binary/doc-0",
        "Goal/objectif-",
        "Consent/signature-1.5",
        "Truc/1",
        "CareTeam/0",
    ],
)
def test_odd_reads_get_an_outcome_never_a_500(api, path):
    response = api.get(path)
    assert response.status_code in (400, 404)
    assert outcome(response)


@pytest.mark.parametrize(
    "params",
    [
        {"patient": "Practitioner/1"},
        {"patient": "x"},
        {"patient": "1", "_count": "0"},
        {"patient": "1", "_count": "abc"},
        {"patient": "1", "_cursor": "!!!"},
        {"patient": "1", "_cursor": "WzEsMiwzXQ"},
        {"patient": "1", "date": "demain"},
        {"patient": "1", "date": "2026-01-01T10:00:00"},
        {"patient": "1", "status": "current,"},
        {"patient": "1", "_format": "xml"},
    ],
)
def test_odd_searches_get_an_outcome_never_a_500(api, person, params):
    response = api.get("DocumentReference", **params)
    assert response.status_code in (200, 400, 404, 406)
    if response.status_code != 200:
        assert outcome(response)


def test_odd_writes_get_an_outcome_never_a_500(api, person):
    for body in ([], {"resourceType": "Patient", "name": "x"}, {"resourceType": "Patient", "identifier": 3}, "x"):
        response = api.put("Patient?identifier=urn:dui|1", body)
        assert response.status_code == 400, (body, response.content)
        assert outcome(response)
    response = api.post("Subscription", {"resourceType": "Subscription", "channel": []})
    assert response.status_code == 400 and outcome(response)
    assert api.client.delete("/fhir/Patient/1", **api.headers).status_code == 405


# --- Query counts -------------------------------------------------------------------------------------


def count_queries(api, resource_type: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(resource_type, **params)
    assert response.status_code == 200, response.content
    return len(queries)


def grow(person, nurse, referent, n: int):
    notes(nurse, person, n)
    for i in range(n):
        documents.document_create(
            actor=referent, person=person, doc_type="compte_rendu", title=f"CR {i}", content=PDF_BYTES, filename="c.pdf"
        )
        start = timezone.now() + dt.timedelta(days=i + 1)
        agenda.event_create(
            actor=referent,
            person=person,
            title=f"RDV {i}",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            participants=[nurse.professional],
        )


@pytest.mark.parametrize(
    ("resource_type", "params"),
    [
        ("DocumentReference", {}),
        ("Appointment", {}),
        ("CareTeam", {}),
        ("Patient", {"_id": None}),
        ("List", {}),
        ("Consent", {}),
    ],
)
def test_a_search_page_runs_the_same_queries_whatever_the_data_size(
    api, person, nurse, referent, resource_type, params
):
    params = {k: (person.pk if v is None else v) for k, v in params.items()} or {"patient": person.pk}
    grow(person, nurse, referent, 2)
    small = count_queries(api, resource_type, _count=20, **params)
    grow(person, nurse, referent, 25)
    large = count_queries(api, resource_type, _count=20, **params)
    assert large == small, f"{resource_type}: {small} queries with little data, {large} with more"
    assert large <= 14
