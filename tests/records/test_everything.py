"""`GET /fhir/Patient/<id>/$everything`: the export's Bundle for connected software,
within its token's scopes and through the gate."""

from __future__ import annotations

import json

import pytest
from fhir.resources import construct_fhir_element

from coordination.models import AccessLog
from tests.interop.conftest import Fhir, get_token
from tests.records.helpers import by_type, note_texts

pytestmark = pytest.mark.django_db


def _bundle(response) -> dict:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(b"".join(response.streaming_content))


def test_it_returns_the_record_as_one_collection_bundle(api, record, dui):
    bundle = _bundle(api.get(f"Patient/{record.pk}/$everything"))
    construct_fhir_element("Bundle", bundle)
    assert bundle["type"] == "collection"
    found = by_type(bundle)
    for kind in ("Patient", "RelatedPerson", "CareTeam", "Consent", "Appointment", "DocumentReference", "CarePlan"):
        assert found.get(kind), kind
    # The structure's software sees its own team's internal notes, as its pages do.
    assert "Hydrater" in note_texts(bundle)
    assert AccessLog.objects.filter(user=dui.user, person=record, path__endswith="$everything").exists()


def test_it_keeps_to_the_scopes_of_the_token(record, dui):
    dui.scopes = "system/Patient.read system/CarePlan.read"
    dui.save(update_fields=["scopes"])
    status, body = get_token(dui)
    assert status == 200, body
    found = by_type(_bundle(Fhir(body["access_token"]).get(f"Patient/{record.pk}/$everything")))
    assert "Patient" in found and "CarePlan" in found
    assert "DocumentReference" not in found and "Appointment" not in found and "CareTeam" not in found


def test_it_needs_the_patient_scope(record, dui):
    dui.scopes = "system/CarePlan.read"
    dui.save(update_fields=["scopes"])
    _status, body = get_token(dui)
    response = Fhir(body["access_token"]).get(f"Patient/{record.pk}/$everything")
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


def test_another_structure_and_anonymous_callers_are_refused(record, other_api):
    assert other_api.get(f"Patient/{record.pk}/$everything").status_code == 404
    assert other_api.get("Patient/999999/$everything").status_code == 404
    assert Fhir().get(f"Patient/{record.pk}/$everything").status_code == 401


def test_the_capability_statement_lists_the_operation(api):
    patient = next(r for r in api.get("metadata").json()["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"
