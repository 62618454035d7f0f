"""An admission in a real browser, from the carer's search to the new team in the circle.

Claire (Jeanne's daughter) searches the offer, sends a request with a document to the
SSIAD; the SSIAD's référente asks for more information, Claire answers, the SSIAD
accepts and admits; Jeanne's circle then shows the SSIAD's team. Each page is checked
with axe at desktop width and at 375 px, under the strict CSP.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from admission.models import AdmissionCopy, AdmissionStatus
from coordination.models import Accompaniment, CircleMember
from tests.admission.conftest import offers, other_admin, third_structure  # noqa: F401 (fixtures)
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.uploads_corpus import CLEAN_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("offers", "other_admin")
def test_a_carer_follows_an_admission_request_to_the_end(
    page,
    live_server,
    screenshot,
    tmp_path,
    person,
    person_user,
    carer,
    other_structure,
    other_pro,
):
    ssiad_referent = get_user_model().objects.get(email="ssiad.referente@exemple.fr")
    document = tmp_path / "notification-mdph.pdf"
    document.write_bytes(CLEAN_PDF)

    # Claire searches the offer near the canal and opens the SSIAD's page.
    sign_in_as(page, live_server, carer)
    visit(page, live_server, "/admission/offre/")
    check_page(page, screenshot, "offre-recherche")
    page.get_by_label("Code postal").fill("75010")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="3 structures")).to_be_visible()
    page.get_by_role("link", name="SSIAD du Canal").click()
    expect(page.get_by_role("heading", level=1, name="SSIAD du Canal")).to_be_visible()
    check_page(page, screenshot, "offre-structure")

    # She sends a request with the MDPH notification.
    page.get_by_role("link", name="Demander une admission").click()
    expect(page.get_by_role("heading", level=1, name="Demander une admission")).to_be_visible()
    check_page(page, screenshot, "demande-formulaire")
    expect(page.get_by_label("SSIAD du Canal (SSIAD)")).to_be_checked()
    page.get_by_label("Présentation de la demande").fill("Maman rentre chez moi au printemps : il faudra des soins.")
    page.get_by_label("Référence de la décision MDPH").fill("MDPH75-2026-007")
    page.get_by_label("Titre du document").fill("Notification MDPH")
    page.get_by_label("Document (PDF ou image)").set_input_files(str(document))
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("Votre demande est envoyée à 1 structure.")).to_be_visible()
    check_page(page, screenshot, "demande-suivi")
    copy = AdmissionCopy.objects.get(structure=other_structure)
    request_url = f"/admission/mes-demandes/{copy.request_id}/"

    # The SSIAD's référente opens it and asks for more information.
    sign_in_as(page, live_server, ssiad_referent)
    visit(page, live_server, "/admission/")
    check_page(page, screenshot, "demandes-recues")
    page.get_by_role("link", name="Jeanne MARTIN").click()
    expect(page.get_by_role("heading", level=1, name="Demande d'admission de Jeanne MARTIN")).to_be_visible()
    expect(page.get_by_role("link", name="Notification MDPH")).to_be_visible()
    check_page(page, screenshot, "demande-dossier")
    page.get_by_label("Demander des informations ou des documents").check()
    page.get_by_label("Message au demandeur").fill("Merci de joindre la dernière ordonnance.")
    page.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.get_by_text("Réponse enregistrée ; le demandeur est prévenu.")).to_be_visible()

    # Claire answers with the prescription.
    sign_in_as(page, live_server, carer)
    visit(page, live_server, request_url)
    expect(page.get_by_text("La structure vous demande des informations.")).to_be_visible()
    check_page(page, screenshot, "demande-informations")
    page.get_by_label("Votre réponse").fill("Voici l'ordonnance.")
    page.locator(f"#id_c{copy.pk}-document").set_input_files(str(document))
    page.get_by_role("button", name="Envoyer ma réponse").click()
    expect(page.get_by_text("Votre réponse est envoyée à SSIAD du Canal.")).to_be_visible()

    # The SSIAD accepts, then admits Jeanne.
    sign_in_as(page, live_server, ssiad_referent)
    visit(page, live_server, f"/admission/demandes/{copy.pk}/")
    page.get_by_label("Accepter (proposer une date d'entrée)").check()
    entry = timezone.localdate() + timedelta(days=3)
    page.get_by_label("Date d'entrée proposée").fill(entry.isoformat())
    page.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.get_by_text("Réponse enregistrée ; le demandeur est prévenu.")).to_be_visible()
    check_page(page, screenshot, "demande-acceptee")
    page.get_by_role("button", name="Confirmer l'entrée").click()
    expect(page.get_by_text("Admission faite")).to_be_visible()
    copy.refresh_from_db()
    assert copy.status == AdmissionStatus.ADMITTED
    assert Accompaniment.objects.filter(person=person, structure=other_structure, ended_on__isnull=True).exists()
    assert CircleMember.objects.active().filter(person=person, user=other_pro, structure=other_structure).exists()

    # Claire reads the outcome; Jeanne's circle shows the SSIAD's team.
    sign_in_as(page, live_server, carer)
    visit(page, live_server, "/admission/mes-demandes/")
    expect(page.get_by_text("SSIAD du Canal : Admission faite")).to_be_visible()
    check_page(page, screenshot, "mes-demandes")
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/cercle/")
    expect(page.get_by_role("heading", name=other_pro.get_full_name())).to_be_visible()
    expect(page.get_by_role("heading", name=ssiad_referent.get_full_name())).to_be_visible()
    check_page(page, screenshot, "cercle-nouvelle-equipe")
    assert page.csp_violations == []
