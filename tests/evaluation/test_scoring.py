"""The shipped instruments' scores and bands, conditions, and the definition's checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evaluation.definition import evaluate, parse, proposed_needs
from evaluation.instruments import REFERRAL, ZARIT
from tests.evaluation.conftest import zarit_answers

ZARIT_DEFINITION = parse(ZARIT["definition"])


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "Fardeau absent ou léger"),
        (20, "Fardeau absent ou léger"),
        (21, "Fardeau léger à modéré"),
        (40, "Fardeau léger à modéré"),
        (41, "Fardeau modéré à sévère"),
        (60, "Fardeau modéré à sévère"),
        (61, "Fardeau sévère"),
        (88, "Fardeau sévère"),
    ],
)
def test_it_scores_the_zarit_scale_and_gives_its_band(total, band):
    result = evaluate(ZARIT_DEFINITION, zarit_answers(total))
    assert result.score == Decimal(total)
    assert result.band.label == band
    assert result.band.interpretation


def test_it_counts_the_zarit_items_from_0_to_4_with_item_22_on_its_own_labels():
    assert len(ZARIT_DEFINITION.questions) == 22
    assert [c.label for c in ZARIT_DEFINITION.questions["z01"].choices][-1] == "Presque toujours"
    assert [c.label for c in ZARIT_DEFINITION.questions["z22"].choices][-1] == "Extrêmement"
    assert ZARIT_DEFINITION.bands[0].min == 0 and ZARIT_DEFINITION.bands[-1].max == 88


def test_it_refuses_a_zarit_answer_out_of_range_naming_the_question():
    answers = zarit_answers(10) | {"z03": "5"}
    with pytest.raises(ValidationError) as error:
        evaluate(ZARIT_DEFINITION, answers)
    assert list(error.value.message_dict) == ["z03"]
    assert "tiraillé" in error.value.message_dict["z03"][0]
    assert "n'est pas proposée" in error.value.message_dict["z03"][0]


def test_it_refuses_a_missing_required_answer_naming_the_question():
    answers = zarit_answers(10)
    del answers["z07"]
    with pytest.raises(ValidationError) as error:
        evaluate(ZARIT_DEFINITION, answers)
    assert error.value.message_dict == {
        "z07": ["« Avez-vous peur de ce que l'avenir réserve à votre proche ? » : une réponse est obligatoire."]
    }


def test_it_proposes_the_mapped_needs_from_the_score_and_from_an_answer():
    light = evaluate(ZARIT_DEFINITION, zarit_answers(30))
    assert proposed_needs(ZARIT_DEFINITION, light.answers, light.score) == []
    heavy = zarit_answers(41)
    heavy["z15"], heavy["z01"] = heavy["z01"], heavy["z15"]  # the money item answered "presque toujours"
    result = evaluate(ZARIT_DEFINITION, heavy)
    assert result.answers["z15"] == "4"
    assert [r.serafin for r in proposed_needs(ZARIT_DEFINITION, result.answers, result.score)] == [
        "1.3.3.4",
        "1.3.5.1",
    ]


# --- Conditions ------------------------------------------------------------------------------

REFERRAL_DEFINITION = parse(REFERRAL["definition"])
REFERRAL_ANSWERS = {
    "person_name": "Jeanne Martin",
    "address": "Paris",
    "difficulties": ["isolation"],
    "situation": "Vit seule, chutes répétées.",
    "requester_role": "carer",
    "requester_phone": "0600000000",
    "urgency": "medium",
    "consent": "oui",
    "consent_how": "oral",
}


def test_it_neither_requires_nor_stores_a_hidden_question():
    # "Précisez l'autre difficulté" and the requester's structure are shown only on their
    # condition: left empty while hidden, and dropped when answered anyway.
    result = evaluate(
        REFERRAL_DEFINITION,
        REFERRAL_ANSWERS | {"difficulties_other": "ignoré", "requester_organisation": "ignoré aussi"},
    )
    assert "difficulties_other" not in result.answers
    assert "requester_organisation" not in result.answers
    assert result.answers["consent_how"] == "oral"


def test_it_requires_a_question_once_its_condition_shows_it():
    with pytest.raises(ValidationError) as error:
        evaluate(REFERRAL_DEFINITION, REFERRAL_ANSWERS | {"difficulties": ["isolation", "other"]})
    assert list(error.value.message_dict) == ["difficulties_other"]
    result = evaluate(
        REFERRAL_DEFINITION, REFERRAL_ANSWERS | {"difficulties": ["other"], "difficulties_other": "Dettes"}
    )
    assert result.answers["difficulties_other"] == "Dettes"


def test_it_hides_a_question_whose_condition_hangs_on_a_hidden_one():
    definition = parse(
        {
            "sections": [
                {
                    "title": "Chaîne",
                    "questions": [
                        {"code": "a", "text": "A ?", "type": "yes_no"},
                        {"code": "b", "text": "B ?", "type": "yes_no", "show_if": {"question": "a", "values": ["oui"]}},
                        {
                            "code": "c",
                            "text": "C ?",
                            "type": "text",
                            "required": True,
                            "show_if": {"question": "b", "values": ["oui"]},
                        },
                    ],
                }
            ]
        }
    )
    # b answered "oui" but hidden (a is "non"): c stays hidden, neither required nor kept.
    assert evaluate(definition, {"a": "non", "b": "oui", "c": "x"}).answers == {"a": "non"}


def test_it_computes_a_weighted_sum_with_scales_and_numbers():
    definition = parse(
        {
            "sections": [
                {
                    "title": "Mesures",
                    "questions": [
                        {
                            "code": "pain",
                            "text": "Douleur",
                            "type": "scale",
                            "min": 0,
                            "max": 10,
                            "scored": True,
                            "weight": 2,
                        },
                        {
                            "code": "falls",
                            "text": "Chutes",
                            "type": "number",
                            "min": 0,
                            "scored": True,
                            "weight": "1.5",
                        },
                        {"code": "when", "text": "Depuis", "type": "date"},
                    ],
                }
            ],
            "scoring": {"method": "weighted_sum", "bands": [{"min": 0, "max": 100, "label": "Tout"}]},
        }
    )
    result = evaluate(definition, {"pain": "3", "falls": "2", "when": "2026-01-05"})
    assert result.score == Decimal("9.0")
    with pytest.raises(ValidationError) as error:
        evaluate(definition, {"pain": "11", "falls": "2"})
    assert error.value.message_dict["pain"] == ["« Douleur » : la valeur doit être au plus 10."]
    with pytest.raises(ValidationError) as error:
        evaluate(definition, {"pain": "2.5", "falls": "x", "when": "31/02/2026"})
    assert set(error.value.message_dict) == {"pain", "falls", "when"}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"sections": []}, "au moins une partie"),
        ({"sections": [{"title": "T", "questions": [{"code": "a", "text": "A", "type": "single"}]}]}, "choix"),
        (
            {
                "sections": [
                    {
                        "title": "T",
                        "questions": [
                            {"code": "a", "text": "A", "type": "text", "show_if": {"question": "b", "values": ["x"]}},
                            {"code": "b", "text": "B", "type": "yes_no"},
                        ],
                    }
                ]
            },
            "question précédente",
        ),
        (
            {
                "sections": [
                    {
                        "title": "T",
                        "questions": [{"code": "a", "text": "A", "type": "scale", "min": 0, "max": 4, "scored": True}],
                    }
                ],
                "scoring": {
                    "method": "sum",
                    "bands": [{"min": 0, "max": 2, "label": "X"}, {"min": 2, "max": 4, "label": "Y"}],
                },
            },
            "chevauchent",
        ),
    ],
)
def test_it_refuses_a_definition_that_does_not_hold_together(definition, message):
    with pytest.raises(ValidationError) as error:
        parse(definition)
    assert message in " ".join(error.value.messages)
