"""The admission API: same services and gate as the pages, documented in the schema."""

from __future__ import annotations

import pytest
from drf_spectacular.validation import validate_schema

from admission.models import AdmissionCopy, AdmissionRequest, AdmissionStatus, IdentityReview
from coordination import services
from coordination.identifiers import ins_key
from coordination.models import AccessLog, AccessVia, CircleMember, Person
from tests.conftest import login

pytestmark = pytest.mark.django_db

FIRST13 = "2450375056123"
INS = f"{FIRST13}{ins_key(FIRST13):02d}"


def _admit(structure, **overrides):
    return {
        "structure": structure.pk,
        "birth_name": "Durand",
        "birth_first_names": "Alice",
        "birth_date": "1945-03-02",
        "sex": "F",
        "birth_place_insee": "75056",
        "ins_matricule": INS,
        "ins_oid": "1.2.250.1.213.1.4.8",
        **overrides,
    }


def test_it_admits_through_the_api_and_answers_duplicates_without_naming_the_hidden(
    structure, other_structure, referent, nurse, admin_user
):
    client = login(referent)
    response = client.post(
        "/api/admission/persons/", _admit(structure, ins_matricule=INS[:-2] + "00"), "application/json"
    )
    assert response.status_code == 400 and "clé de contrôle" in response.json()["ins_matricule"][0]
    response = client.post("/api/admission/persons/", _admit(structure), "application/json")
    assert response.status_code == 201, response.json()
    person = Person.objects.get(pk=response.json()["person"])
    assert CircleMember.objects.active().filter(person=person, user=nurse).exists()
    # Same traits again: the referent sees her, so she is offered.
    response = client.post(
        "/api/admission/persons/", _admit(structure, ins_matricule="", ins_oid=""), "application/json"
    )
    assert response.status_code == 409 and response.json()["matches"][0]["id"] == person.pk
    # A person the referent cannot see (accompanied by the SSIAD only) is never named.
    hidden = services.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="MOREAU",
        birth_first_names="Hélène",
        birth_date="1950-07-08",
        sex="F",
    )
    traits = {"birth_name": "moreau", "birth_first_names": "Ginette", "birth_date": "1950-07-08"}
    response = client.post("/api/admission/persons/", _admit(structure, ins_matricule="", **traits), "application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["hidden_match"] is True and body["matches"] == [] and "Hélène" not in str(body)
    response = client.post(
        "/api/admission/persons/",
        _admit(structure, on_duplicate="refer", ins_matricule="", **traits),
        "application/json",
    )
    assert response.status_code == 202 and IdentityReview.objects.filter(candidate=hidden).exists()
    assert Person.objects.count() == 2
    assert login(nurse).post("/api/admission/persons/", _admit(structure), "application/json").status_code == 403


def test_it_searches_the_offer_through_the_api_in_bounded_queries(offers, person_user, django_assert_max_num_queries):
    client = login(person_user)
    client.get("/api/admission/offers/")
    with django_assert_max_num_queries(10):
        response = client.get("/api/admission/offers/", {"department": "75", "postcode": "75010"})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 3
    assert body["results"][0]["name"] == "SSIAD du Canal"
    assert client.get("/api/admission/offers/", {"service": "99.99"}).status_code == 400


def test_it_follows_a_request_through_the_api(person, carer, offers, other_structure, other_admin, third_admin):
    requester = login(carer)
    response = requester.post(
        "/api/admission/requests/",
        {"person": person.pk, "structures": [other_structure.pk], "message": "Entrée souhaitée.", "needs": ["1.1"]},
        "application/json",
    )
    assert response.status_code == 201, response.json()
    copy = AdmissionCopy.objects.get(request=AdmissionRequest.objects.get())
    staff = login(other_admin)
    listed = staff.get("/api/admission/incoming/").json()["results"]
    assert listed[0]["person_name"] == "Jeanne MARTIN"
    file = staff.get(f"/api/admission/incoming/{copy.pk}/")
    assert file.status_code == 200 and file.json()["birth_name"] == "MARTIN"
    assert AccessLog.objects.filter(user=other_admin, person=person, via=AccessVia.SCOPED).count() == 1
    assert login(third_admin).get(f"/api/admission/incoming/{copy.pk}/").status_code == 404
    response = staff.post(
        f"/api/admission/incoming/{copy.pk}/answer/",
        {"status": "info_requested", "message": "Le certificat ?"},
        "application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == AdmissionStatus.INFO_REQUESTED
    response = requester.post(
        f"/api/admission/requests/{copy.request_id}/copies/{copy.pk}/reply/", {"message": "Envoyé."}, "application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == AdmissionStatus.UNDER_REVIEW
    response = staff.post(
        f"/api/admission/incoming/{copy.pk}/answer/",
        {"status": "refused", "refusal_reason": "Complet."},
        "application/json",
    )
    assert response.status_code == 200
    assert staff.get(f"/api/admission/incoming/{copy.pk}/").status_code == 404
    mine = requester.get("/api/admission/requests/").json()["results"][0]
    assert mine["copies"][0]["status"] == "refused"
    assert [e["status"] for e in mine["copies"][0]["events"]] == [
        "sent",
        "received",
        "info_requested",
        "under_review",
        "refused",
    ]
    assert (
        login(other_admin)
        .post(
            "/api/admission/requests/",
            {"person": person.pk, "structures": [other_structure.pk], "message": "x"},
            "application/json",
        )
        .status_code
        == 404
    )


def test_it_documents_the_admission_api(referent):
    response = login(referent).get("/api/schema/", {"format": "json"})
    schema = response.json()
    validate_schema(schema)
    paths = {path for path in schema["paths"] if path.startswith("/api/admission/")}
    assert {
        "/api/admission/persons/",
        "/api/admission/offers/",
        "/api/admission/requests/",
        "/api/admission/incoming/{id}/answer/",
        "/api/admission/incoming/{id}/admit/",
    } <= paths
