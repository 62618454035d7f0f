"""Evaluation in a real browser, as the issue tells it: a nurse fills the Zarit scale
for the person's carer, sees the score and its band, and compares it with an earlier
one. Pages checked with axe (no serious or critical violation), under the strict CSP
and at 375px wide."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from evaluation import services
from evaluation.models import Evaluation
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.evaluation.conftest import zarit_answers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _no_deliveries(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)


@pytest.fixture
def zarit(serafin_codes):
    """The shipped instruments (a transactional test elsewhere may have emptied them)."""
    from evaluation.instruments import load_shipped
    from evaluation.models import Questionnaire, QuestionnaireVersion

    load_shipped(Questionnaire, QuestionnaireVersion)
    return QuestionnaireVersion.objects.get(questionnaire__code="zarit-22", number=1)


def test_a_nurse_fills_the_zarit_scale_for_a_carer_and_compares(
    page, live_server, screenshot, zarit, person, nurse, carer
):
    link = person.carer_links.get(user=carer)
    services.evaluation_create(
        actor=nurse,
        person=person,
        version=zarit,
        answers=zarit_answers(18),
        respondent_carer=link,
        evaluated_on=datetime.date.today() - datetime.timedelta(days=120),
    )
    sign_in_as(page, live_server, nurse)
    visit(page, live_server, f"/evaluation/personnes/{person.pk}/")
    page.get_by_role("link", name="Remplir : Échelle de Zarit — fardeau de l'aidant (22 items)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Échelle de Zarit — fardeau de l'aidant (22 items)")
    page.get_by_label("Aidant qui répond").select_option(str(link.pk))
    # 45 points: items 1–11 "assez souvent" (3), 12 "parfois" (2), then 10 × "rarement" (1).
    for n in range(1, 23):
        value = 3 if n <= 11 else 2 if n == 12 else 1
        page.locator(f"input[name='q_z{n:02d}'][value='{value}']").check()
    check_page(page, screenshot, "zarit-form")
    page.get_by_role("button", name="Enregistrer l'évaluation").click()

    expect(page.get_by_text("Évaluation enregistrée.")).to_be_visible()
    expect(page.locator("#score")).to_have_text("45")
    expect(page.locator("#band")).to_have_text("Fardeau modéré à sévère")
    expect(page.get_by_text("Claire Martin")).to_be_visible()
    check_page(page, screenshot, "zarit-result")
    assert Evaluation.objects.filter(person=person).count() == 2

    page.get_by_role("link", name="Évolution et comparaison").click()
    expect(page.locator("svg.chart circle")).to_have_count(2)
    comparison = page.locator("#comparison")
    expect(comparison).to_contain_text("18 — Fardeau absent ou léger")
    expect(comparison).to_contain_text("45 — Fardeau modéré à sévère")
    expect(comparison).to_contain_text("Assez souvent")
    check_page(page, screenshot, "zarit-history")
    assert page.csp_violations == []
