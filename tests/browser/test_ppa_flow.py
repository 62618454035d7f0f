"""The projet personnalisé in a real browser, as the issue tells it.

The referent drafts a plan with a need (found through the HTMX SERAFIN-PH search), an
objective and a weekly action, submits it; the person and the referent sign; the
referent opens an amendment, changes it and sees the diff. Pages are checked with axe
(no serious or critical violation), under the strict CSP and at 375px wide.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ppa.models import PlanVersion, VersionStatus
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _no_deliveries(monkeypatch, serafin_codes):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)


def test_plan_is_drafted_validated_amended_and_compared(
    page, live_server, screenshot, person, person_user, referent, nurse
):
    sign_in_as(page, live_server, referent)
    visit(page, live_server, f"/ppa/personnes/{person.pk}/")
    check_page(page, screenshot, "ppa-empty")
    page.get_by_role("button", name="Commencer le projet personnalisé").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")

    needs = page.locator("#needs")
    needs.get_by_label("Chercher un code de besoin").fill("systeme nerveux")
    expect(needs.get_by_label("Besoin (nomenclature SERAFIN-PH)").locator("option")).to_have_count(1)
    needs.get_by_label("Description du besoin évalué").fill("Troubles de la mémoire récente")
    needs.get_by_role("button", name="Ajouter le besoin").click()
    expect(needs.get_by_role("status")).to_have_text("Besoin ajouté.")
    expect(needs).to_contain_text("Troubles de la mémoire récente")

    page.reload()
    objectives = page.locator("#objectives")
    objectives.get_by_label(re.compile("^Objectif")).fill("Garder ses repères")
    objectives.get_by_label("1.1.1 — Troubles de la mémoire récente").check()
    objectives.get_by_role("button", name="Ajouter l'objectif").click()
    expect(objectives.get_by_role("status")).to_have_text("Objectif ajouté.")

    page.reload()
    actions = page.locator("#actions")
    actions.get_by_label("Modalité d'accompagnement").fill("Atelier mémoire")
    actions.get_by_label("Garder ses repères").check()
    actions.get_by_label("Professionnel qui intervient").select_option(str(nurse.professional.pk))
    actions.get_by_label("lundi").check()
    actions.get_by_label("Heure").fill("10:00")
    actions.get_by_label("Durée (minutes)").fill("60")
    actions.get_by_label("Début", exact=True).fill("2026-01-05")
    actions.get_by_role("button", name="Ajouter la modalité").click()
    expect(actions.get_by_role("status")).to_have_text("Modalité ajoutée.")
    check_page(page, screenshot, "ppa-draft")

    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.get_by_text("il attend les signatures")).to_be_visible()
    sign_in_as(page, live_server, person_user)
    version = PlanVersion.objects.get(plan__person=person)
    visit(page, live_server, f"/ppa/versions/{version.pk}/")
    page.get_by_role("button", name="Signer le projet").click()
    expect(page.get_by_text("Signature enregistrée.")).to_be_visible()
    sign_in_as(page, live_server, referent)
    visit(page, live_server, f"/ppa/versions/{version.pk}/")
    page.get_by_role("button", name="Signer le projet").click()
    expect(page.get_by_text("Signature enregistrée.")).to_be_visible()
    version.refresh_from_db()
    assert version.status == VersionStatus.VALIDATED
    check_page(page, screenshot, "ppa-validated")

    visit(page, live_server, f"/ppa/personnes/{person.pk}/avenant/")
    page.get_by_label("Motif de l'avenant").fill("Bilan à trois mois")
    page.get_by_role("button", name="Ouvrir l'avenant").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 2")
    remarks = page.locator("#remarks")
    remarks.get_by_label("Texte").fill("Sa fille vient chaque dimanche.")
    remarks.get_by_role("button", name="Enregistrer").click()
    expect(remarks.get_by_role("status")).to_have_text("Enregistré.")

    amendment = PlanVersion.objects.get(plan__person=person, number=2)
    visit(page, live_server, f"/ppa/personnes/{person.pk}/historique/?old={version.pk}&new={amendment.pk}")
    expect(page.get_by_role("heading", name="De la version 1 à la version 2")).to_be_visible()
    expect(page.locator("ins", has_text="Sa fille vient chaque dimanche.")).to_be_visible()
    check_page(page, screenshot, "ppa-diff")
