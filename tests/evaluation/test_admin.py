"""The Django admin defines questionnaires through the services: a definition that does
not hold together is refused in French, a version is published by an action, published
versions cannot be edited."""

from __future__ import annotations

import json

from django.urls import reverse

from evaluation.models import Questionnaire, QuestionnaireVersion, VersionStatus
from tests.conftest import login

DEFINITION = {
    "sections": [
        {
            "title": "Humeur",
            "questions": [
                {"code": "mood", "text": "Humeur du jour", "type": "scale", "min": 0, "max": 10, "required": True}
            ],
        }
    ]
}


def test_it_creates_a_questionnaire_and_publishes_a_new_version_from_the_admin(admin_user, instruments):
    client = login(admin_user)
    add = reverse("admin:evaluation_questionnaire_add")
    bad = client.post(add, {"code": "humeur", "title": "Humeur", "kind": "evaluation", "definition": "{}"})
    assert bad.status_code == 200 and "au moins une partie" in bad.content.decode()
    assert not Questionnaire.objects.filter(code="humeur").exists()
    response = client.post(
        add, {"code": "humeur", "title": "Humeur", "kind": "evaluation", "definition": json.dumps(DEFINITION)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    questionnaire = Questionnaire.objects.get(code="humeur")
    first = questionnaire.versions.get()
    assert first.status == VersionStatus.PUBLISHED

    changed = json.loads(json.dumps(DEFINITION))
    changed["sections"][0]["questions"][0]["max"] = 5
    response = client.post(
        reverse("admin:evaluation_questionnaireversion_add"),
        {"questionnaire": questionnaire.pk, "definition": json.dumps(changed), "change_note": "Sur 5"},
    )
    assert response.status_code == 302
    draft = questionnaire.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT
    client.post(
        reverse("admin:evaluation_questionnaireversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED and draft.change_note == "Sur 5"
    assert client.get(reverse("admin:evaluation_questionnaireversion_change", args=[first.pk])).status_code in (
        200,
        403,
    )
    first.refresh_from_db()
    assert first.definition == DEFINITION
    assert QuestionnaireVersion.objects.filter(questionnaire=questionnaire).count() == 2
