from __future__ import annotations

import pytest

from evaluation.models import Questionnaire


@pytest.fixture
def instruments(db, serafin_codes):
    """The shipped instruments come from a data migration; a transactional test elsewhere
    in the run empties every table after itself, so load them again then."""
    if not Questionnaire.objects.filter(code="zarit-22").exists():
        from evaluation.instruments import load_shipped
        from evaluation.models import QuestionnaireVersion

        load_shipped(Questionnaire, QuestionnaireVersion)
    return {q.code: q for q in Questionnaire.objects.all()}


@pytest.fixture
def zarit(instruments):
    return instruments["zarit-22"].versions.get(number=1)


@pytest.fixture
def referral_form(instruments):
    return instruments["orientation-dac"].versions.get(number=1)


def zarit_answers(total: int) -> dict[str, str]:
    """Answers to the 22 items adding up to `total` (0–88): as many 4s as fit, then the rest."""
    answers = {}
    left = total
    for n in range(1, 23):
        item = min(4, left)
        answers[f"z{n:02d}"] = str(item)
        left -= item
    assert left == 0
    return answers
