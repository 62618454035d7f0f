"""Every resource the FHIR API returns parses and validates with the FHIR R4 (4.0.1)
models of `fhir.resources` 6.2, and carries the elements the CI-SIS profiles require
(checked by hand: the profiles' packages cannot be downloaded here, see INTEROP.md)."""

from __future__ import annotations

import pytest
from fhir.resources import __fhir_version__ as FHIR_MODELS_VERSION  # noqa: N812
from fhir.resources import construct_fhir_element

from coordination.models import IdentityStatus
from tests.factories import valid_ins

pytestmark = pytest.mark.django_db


def valid(resource: dict) -> dict:
    """Parse with the R4 model of its type (raises on anything R4 does not allow)."""
    construct_fhir_element(resource["resourceType"], resource)
    return resource


def everything(api, person) -> dict[str, list[dict]]:
    """Every resource type the server serves about the record, through its searches."""
    found: dict[str, list[dict]] = {}
    searches = {
        "Patient": {"_id": person.pk},
        "RelatedPerson": {"patient": person.pk},
        "Organization": {},
        "Practitioner": {},
        "PractitionerRole": {},
        "CareTeam": {"patient": person.pk},
        "Appointment": {"patient": person.pk},
        "Schedule": {},
        "DocumentReference": {"patient": person.pk},
        "List": {"patient": person.pk},
        "CarePlan": {"patient": person.pk},
        "Goal": {"patient": person.pk},
        "ServiceRequest": {"patient": person.pk},
        "Consent": {"patient": person.pk},
    }
    for resource_type, params in searches.items():
        response = api.get(resource_type, _count=100, **params)
        assert response.status_code == 200, (resource_type, response.content)
        assert response["Content-Type"].startswith("application/fhir+json")
        bundle = valid(response.json())
        assert bundle["type"] == "searchset"
        found[resource_type] = [valid(entry["resource"]) for entry in bundle.get("entry", [])]
    schedule = found["Schedule"][0]["id"]
    response = api.get("Slot", schedule=f"Schedule/{schedule}", _count=100)
    found["Slot"] = [valid(e["resource"]) for e in valid(response.json()).get("entry", [])]
    return found


def test_it_serves_r4_resources_only():
    assert FHIR_MODELS_VERSION == "4.0.1"


def test_every_returned_resource_validates_and_reads_back(api, record):
    found = everything(api, record)
    for resource_type, resources in found.items():
        assert resources, f"no {resource_type} returned"
        for resource in resources:
            response = api.get(f"{resource_type}/{resource['id']}")
            assert response.status_code == 200, (resource_type, resource["id"], response.content)
            assert valid(response.json())["id"] == resource["id"]
    metadata = valid(api.get("metadata").json())
    served = {r["type"] for r in metadata["rest"][0]["resource"]}
    assert served >= set(found) | {"Binary", "Subscription"}


def test_the_care_team_has_what_the_cds_profile_requires(api, record, external_pro):
    team = api.get(f"CareTeam/{record.pk}").json()
    assert team["meta"]["profile"] == [
        "https://interop.esante.gouv.fr/ig/fhir/cds/StructureDefinition/cds-ihe-careteam"
    ]
    assert team["meta"]["versionId"] and team["meta"]["lastUpdated"]
    assert len(team["identifier"]) == 1 and team["identifier"][0]["value"]
    assert team["status"] == "active"
    assert team["subject"]["reference"] == f"Patient/{record.pk}"
    assert team["period"]["start"]
    for participant in team["participant"]:
        assert participant["member"]
        assert participant["period"]["start"]
        reference = participant["member"].get("reference", "")
        assert reference.split("/")[0] in ("PractitionerRole", "RelatedPerson", "Organization", "")
    kine = [p for p in team["participant"] if "Kiné" in p["member"].get("display", "")]
    assert len(kine) == 1 and kine[0]["period"].get("end"), "an ended membership keeps its end"
    displays = " ".join(p["member"].get("display", "") for p in team["participant"])
    assert "Logiciel" not in displays and "Jeanne" not in displays  # the software and the subject are not members


def test_a_re_entry_is_a_new_participant(api, record, external_pro, person_user):
    from coordination import services

    services.circle_member_add(
        actor=person_user, person=record, role="reeducation", professional=external_pro.professional
    )
    team = api.get(f"CareTeam/{record.pk}").json()
    kine = [p for p in team["participant"] if "Kiné" in p["member"].get("display", "")]
    assert len(kine) == 2
    assert kine[0]["period"].get("end") and not kine[1]["period"].get("end")
    assert int(team["meta"]["versionId"]) > 1


def test_notes_have_what_the_cahier_de_liaison_profile_requires(api, record):
    notes = [
        r
        for r in everything(api, record)["DocumentReference"]
        if r["meta"].get("profile")
        == ["https://interop.esante.gouv.fr/ig/fhir/cdl/StructureDefinition/cdl-document-reference"]
    ]
    assert len(notes) == 4
    for note in notes:
        assert (
            note["type"]["coding"][0]["system"]
            == "https://mos.esante.gouv.fr/NOS/TRE_R234-TypeNote/FHIR/TRE-R234-TypeNote"
        )
        assert note["subject"]["reference"] == f"Patient/{record.pk}"
        assert note["author"]
        assert "docStatus" not in note
        assert len(note.get("securityLabel", [])) <= 1
        assert note["content"]
        assert any(e["url"].endswith("cdl-ext-is-emergency") for e in note["extension"])
    internal = [n for n in notes if n.get("securityLabel")]
    assert len(internal) == 1 and internal[0]["securityLabel"][0]["coding"][0]["code"] == "INVISIBLE_PATIENT"
    corrections = [n for n in notes if n.get("relatesTo")]
    assert corrections[0]["relatesTo"][0]["code"] == "appends"
    assert {n["status"] for n in notes} == {"current", "entered-in-error"}
    photo = next(c for n in notes for c in n["content"] if c["attachment"].get("url"))
    served = api.get(photo["attachment"]["url"].split("/fhir/", 1)[1])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_the_care_plan_has_what_the_tddui_profile_requires(api, record):
    found = everything(api, record)
    [plan] = found["CarePlan"]
    assert plan["identifier"][0]["system"] == "https://identifiant-medicosocial-projetpersonnalise.esante.gouv.fr"
    assert plan["identifier"][0]["value"].startswith("3750000001/") and "-PPER-" in plan["identifier"][0]["value"]
    assert plan["title"] and plan["status"] == "active" and plan["intent"] == "plan"
    displays = {s["display"] for s in plan["supportingInfo"]}
    assert displays == {"Consentement de la structure", "Consentement de l'usager"}
    for info in plan["supportingInfo"]:
        assert info["reference"].startswith("Consent/")
        assert api.get(info["reference"]).status_code == 200
    assert (
        plan["activity"][0]["detail"]["code"]["coding"][0]["system"]
        == "https://smt.esante.gouv.fr/terminologie-SERAFINPH"
    )
    [need] = found["ServiceRequest"]
    assert need["basedOn"] == [{"reference": f"CarePlan/{plan['id']}"}]
    assert need["category"][0]["coding"][0]["code"] == "1.1.1"
    assert need["code"]["text"] == "Mémoire"
    objectives = [g for g in found["Goal"] if g["id"].startswith("objectif-")]
    assert objectives[0]["extension"][0]["valueReference"] == {"reference": f"CarePlan/{plan['id']}"}
    assert objectives[0]["note"][0]["text"] == "Garder ses repères"


def test_the_ins_is_shared_only_when_the_identity_is_qualified(api, record, admin_user):
    from coordination import services

    ins = valid_ins(7)
    services.person_update(
        actor=admin_user,
        person=record,
        ins_matricule=ins,
        ins_oid="1.2.250.1.213.1.4.8",
        identity_status=IdentityStatus.VALIDATED,
    )
    patient = api.get(f"Patient/{record.pk}").json()
    assert ins not in str(patient)
    services.person_update(actor=admin_user, person=record, identity_status=IdentityStatus.QUALIFIED)
    patient = valid(api.get(f"Patient/{record.pk}").json())
    [nir] = [i for i in patient["identifier"] if i["system"] == "urn:oid:1.2.250.1.213.1.4.8"]
    assert nir["value"] == ins
    assert patient["meta"]["profile"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]


def test_a_record_document_file_is_served_through_the_gate(api, other_api, record):
    document = next(r for r in everything(api, record)["DocumentReference"] if r["id"].startswith("doc-"))
    url = document["content"][0]["attachment"]["url"]
    path = url.split("/fhir/", 1)[1]
    response = api.get(path)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert other_api.get(path).status_code == 404


def test_subscriptions_have_what_the_nde_profile_requires(api, record):
    response = api.post("Subscription", subscription_body(record.pk, "https://dui.example.fr/hook"))
    assert response.status_code == 201, response.content
    subscription = valid(response.json())
    assert subscription["contained"]
    urls = {e["url"].rsplit("/", 1)[-1] for e in subscription["extension"]}
    assert {"start", "subject", "declarant", "event-type", "subscriber"} <= urls
    assert subscription["channel"]["type"] == "rest-hook"
    assert api.get(f"Subscription/{subscription['id']}").json()["id"] == subscription["id"]


def subscription_body(person_id: int, endpoint: str, event_type: str = "liaison.transmission_shared") -> dict:
    base = "https://interop.esante.gouv.fr/ig/fhir/nde/StructureDefinition"
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Alertes du cahier de liaison",
        "criteria": f"CommunicationRequest?event-type={event_type}",
        "extension": [
            {"url": f"{base}/start", "valueDateTime": "2026-01-01T00:00:00+01:00"},
            {"url": f"{base}/subject", "valueReference": {"reference": f"Patient/{person_id}"}},
            {"url": f"{base}/event-type", "valueCodeableConcept": {"coding": [{"code": event_type}]}},
        ],
        "channel": {"type": "rest-hook", "endpoint": endpoint, "header": ["Authorization: Bearer secret-du-dui"]},
    }
