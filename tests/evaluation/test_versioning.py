"""Versioning: an edit is a new version; earlier evaluations keep their questions,
answers and scores."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.models import Evaluation, QuestionnaireVersion, VersionStatus
from tests.evaluation.conftest import zarit_answers


def _structure_questionnaire(referent, structure):
    return services.questionnaire_create(
        actor=referent,
        structure=structure,
        code="chutes",
        title="Risque de chute",
        kind="evaluation",
        definition={
            "sections": [
                {
                    "title": "Chutes",
                    "questions": [
                        {
                            "code": "falls",
                            "text": "Chutes ces six derniers mois",
                            "type": "number",
                            "min": 0,
                            "required": True,
                            "scored": True,
                        },
                        {
                            "code": "help",
                            "text": "Se relève seule ?",
                            "type": "yes_no",
                            "scored": True,
                            "choices": [
                                {"value": "oui", "label": "Oui", "score": 0},
                                {"value": "non", "label": "Non", "score": 2},
                            ],
                        },
                    ],
                }
            ],
            "scoring": {
                "method": "sum",
                "bands": [
                    {"min": 0, "max": 1, "label": "Risque faible"},
                    {"min": 2, "max": 99, "label": "Risque élevé"},
                ],
            },
        },
    )


def test_it_keeps_an_old_evaluation_as_filled_when_a_new_version_is_published(referent, structure, nurse, person):
    questionnaire = _structure_questionnaire(referent, structure)
    first = services.current_version(questionnaire)
    old = services.evaluation_create(actor=nurse, person=person, version=first, answers={"falls": "1", "help": "non"})
    assert (old.score, old.band_label) == (Decimal(3), "Risque élevé")

    definition = copy.deepcopy(first.definition)
    definition["sections"][0]["questions"][0]["text"] = "Nombre de chutes depuis un an"
    definition["sections"][0]["questions"][1]["choices"][1]["score"] = 5
    definition["scoring"]["bands"] = [
        {"min": 0, "max": 4, "label": "Surveiller"},
        {"min": 5, "max": 99, "label": "Agir"},
    ]
    draft = services.version_draft(actor=referent, questionnaire=questionnaire, definition=definition)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert services.current_version(questionnaire) == first  # a draft is not used yet
    services.version_publish(actor=referent, version=draft, change_note="Barème revu")

    assert services.current_version(questionnaire).number == 2
    old.refresh_from_db()
    first.refresh_from_db()
    assert old.version == first
    assert first.parsed.questions["falls"].text == "Chutes ces six derniers mois"
    assert (old.answers, old.score, old.band_label) == ({"falls": 1, "help": "non"}, Decimal(3), "Risque élevé")
    new = services.evaluation_create(
        actor=nurse,
        person=person,
        version=services.current_version(questionnaire),
        answers={"falls": "1", "help": "non"},
    )
    assert (new.score, new.band_label) == (Decimal(6), "Agir")


def test_it_never_changes_a_published_version(referent, structure):
    questionnaire = _structure_questionnaire(referent, structure)
    first = services.current_version(questionnaire)
    with pytest.raises(ValidationError):
        services.version_publish(actor=referent, version=first)
    draft = services.version_draft(actor=referent, questionnaire=questionnaire)
    assert draft.definition == first.definition and draft.pk != first.pk
    # A second call edits the same draft: one draft at a time.
    assert services.version_draft(actor=referent, questionnaire=questionnaire).pk == draft.pk
    assert QuestionnaireVersion.objects.filter(questionnaire=questionnaire).count() == 2


def test_it_lets_only_the_structure_administrators_define_its_questionnaires(referent, structure, nurse):
    from django.http import Http404

    questionnaire = _structure_questionnaire(referent, structure)
    with pytest.raises(Http404):
        services.version_draft(actor=nurse, questionnaire=questionnaire)


def test_it_refuses_an_invalid_definition_and_saves_nothing(referent, structure):
    with pytest.raises(ValidationError):
        services.questionnaire_create(
            actor=referent, structure=structure, code="vide", title="Vide", kind="evaluation", definition={}
        )
    assert not structure.questionnaires.exists()


def test_it_ships_the_zarit_scale_published(zarit, person, nurse):
    assert zarit.status == VersionStatus.PUBLISHED
    evaluation = services.evaluation_create(actor=nurse, person=person, version=zarit, answers=zarit_answers(45))
    assert (evaluation.score, evaluation.band_label) == (Decimal(45), "Fardeau modéré à sévère")
    assert Evaluation.objects.filter(person=person).count() == 1
