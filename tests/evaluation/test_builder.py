"""The builder page: a structure's administrator configures a questionnaire without
code, publishes it, and professionals fill it."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from evaluation import services
from evaluation.models import Questionnaire, VersionStatus
from tests.conftest import login


def test_it_builds_and_publishes_a_questionnaire_through_the_pages(referent, structure, nurse, person):
    client = login(referent)
    response = client.post(
        reverse("evaluation:builder", args=[structure.pk]),
        {"title": "Risque de chute", "code": "chutes", "kind": "evaluation"},
    )
    questionnaire = Questionnaire.objects.get(code="chutes")
    edit = reverse("evaluation:builder_edit", args=[structure.pk, questionnaire.pk])
    assert response.status_code == 302 and response.url == edit
    assert (
        client.post(
            edit,
            {
                "action": "question",
                "section": "Chutes",
                "text": "A-t-elle chuté cette année ?",
                "code": "fell",
                "type": "yes_no",
                "required": "on",
                "choices": "oui | Oui | 2\nnon | Non | 0",
                "scored": "on",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            edit,
            {
                "action": "question",
                "section": "Chutes",
                "text": "Combien de fois ?",
                "code": "times",
                "type": "number",
                "min": "1",
                "required": "on",
                "show_if_question": "fell",
                "show_if_values": "oui",
            },
        ).status_code
        == 302
    )
    # A condition on an unknown question is refused, named, and changes nothing.
    bad = client.post(
        edit,
        {
            "action": "question",
            "section": "Chutes",
            "text": "X",
            "code": "x",
            "type": "text",
            "show_if_question": "nope",
            "show_if_values": "oui",
        },
    )
    assert bad.status_code == 400 and "question précédente" in bad.content.decode()
    assert (
        client.post(
            edit,
            {"action": "scoring", "method": "sum", "bands": "0 | 1 | Risque faible\n2 | 2 | Risque élevé | Revoir"},
        ).status_code
        == 302
    )
    assert client.post(edit, {"action": "publish", "note": "Première version"}).status_code == 302
    version = services.current_version(questionnaire)
    assert version.status == VersionStatus.PUBLISHED and [q for q in version.parsed.questions] == ["fell", "times"]

    evaluation = services.evaluation_create(
        actor=nurse, person=person, version=version, answers={"fell": "oui", "times": 3}
    )
    assert (evaluation.score, evaluation.band_label) == (Decimal(2), "Risque élevé")
    page = login(nurse).get(reverse("evaluation:person", args=[person.pk])).content.decode()
    assert "Risque de chute" in page


def test_it_keeps_the_builder_to_the_structures_administrators(structure, nurse, stranger):
    for user in (nurse, stranger):
        assert login(user).get(reverse("evaluation:builder", args=[structure.pk])).status_code == 404
