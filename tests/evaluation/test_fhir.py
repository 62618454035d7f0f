"""Questionnaires and evaluations in the FHIR facade: read, search, and create by a
connected software with the pages' checks."""

from __future__ import annotations

import pytest
from fhir.resources import construct_fhir_element

from coordination.models import AccessLog
from evaluation import services
from evaluation.models import Evaluation
from interop.fhir import codes
from tests.evaluation.conftest import zarit_answers
from tests.interop.conftest import Fhir, get_token


@pytest.fixture
def dui(structure, admin_user, person):
    from interop import services as interop_services

    software, secret = interop_services.connected_software_create(
        actor=admin_user, structure=structure, name="Outil interRAI"
    )
    software.secret = secret
    return software


@pytest.fixture
def api(dui) -> Fhir:
    status, body = get_token(dui)
    assert status == 200, body
    return Fhir(body["access_token"])


def valid(resource: dict) -> dict:
    construct_fhir_element(resource["resourceType"], resource)
    return resource


def _response(zarit, person, total: int) -> dict:
    answers = zarit_answers(total)
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"http://testserver/fhir/Questionnaire/{zarit.pk}|1",
        "subject": {"reference": f"Patient/{person.pk}"},
        "authored": "2026-11-02",
        "item": [
            {
                "linkId": "partie-1",
                "item": [
                    {"linkId": code, "answer": [{"valueCoding": {"code": value}}]} for code, value in answers.items()
                ],
            }
        ],
    }


def test_it_serves_the_zarit_scale_as_a_valid_questionnaire(api, zarit):
    body = valid(api.get(f"Questionnaire/{zarit.pk}").json())
    items = body["item"][0]["item"]
    assert body["status"] == "active" and len(items) == 22
    assert items[0]["type"] == "choice" and items[0]["required"] is True
    assert items[0]["answerOption"][4]["valueCoding"]["display"] == "Presque toujours"
    assert items[0]["answerOption"][4]["extension"][0]["valueDecimal"] == 4
    found = api.get("Questionnaire", name="zarit_22").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(zarit.pk)]


def test_it_renders_conditions_as_enable_when(api, instruments, referent, structure):
    questionnaire = services.questionnaire_create(
        actor=referent,
        structure=structure,
        code="suivi",
        title="Suivi",
        kind="evaluation",
        definition={
            "sections": [
                {
                    "title": "Chutes",
                    "questions": [
                        {"code": "fell", "text": "Chute ?", "type": "yes_no", "required": True},
                        {
                            "code": "times",
                            "text": "Combien ?",
                            "type": "number",
                            "min": 1,
                            "show_if": {"question": "fell", "values": ["oui"]},
                        },
                    ],
                }
            ]
        },
    )
    version = services.current_version(questionnaire)
    body = valid(api.get(f"Questionnaire/{version.pk}").json())
    times = body["item"][0]["item"][1]
    assert times["enableWhen"][0]["question"] == "fell" and times["enableWhen"][0]["answerCoding"]["code"] == "oui"
    assert times["type"] == "decimal"


def test_it_creates_an_evaluation_from_a_connected_software_with_the_same_checks(api, zarit, person, dui):
    created = api.post("QuestionnaireResponse", _response(zarit, person, 62))
    assert created.status_code == 201, created.content
    body = valid(created.json())
    evaluation = Evaluation.objects.get()
    assert (evaluation.score, evaluation.band_label, evaluation.source) == (62, "Fardeau sévère", "Outil interRAI")
    assert str(evaluation.evaluated_on) == "2026-11-02"
    assert {"url": codes.local_extension("score"), "valueDecimal": 62} in body["extension"]
    assert AccessLog.objects.filter(user=dui.user, person=person, category="evaluation", action="write").exists()

    bad = _response(zarit, person, 10)
    bad["item"][0]["item"][2]["answer"] = [{"valueCoding": {"code": "7"}}]
    refused = api.post("QuestionnaireResponse", bad)
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert issue["expression"] == ["QuestionnaireResponse.item.where(linkId='z03')"]
    assert "n'est pas proposée" in issue["diagnostics"]
    missing = _response(zarit, person, 10)
    del missing["item"][0]["item"][6]
    assert api.post("QuestionnaireResponse", missing).status_code == 400
    assert Evaluation.objects.count() == 1

    listed = valid(api.get("QuestionnaireResponse", patient=person.pk).json())
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(evaluation.pk)]
    read = valid(api.get(f"QuestionnaireResponse/{evaluation.pk}").json())
    assert read["subject"]["reference"] == f"Patient/{person.pk}" and len(read["item"][0]["item"]) == 22


def test_it_hides_a_stranger_person_from_the_software(api, zarit, admin_user, other_structure, nurse):
    from coordination import services as coordination_services

    outsider = coordination_services.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="DURAND",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1940-01-01",
        sex="M",
        birth_place_insee="75056",
    )
    assert api.post("QuestionnaireResponse", _response(zarit, outsider, 10)).status_code == 404
    assert api.get("QuestionnaireResponse", patient=outsider.pk).status_code == 404
    assert not Evaluation.objects.exists()
