"""The documents pages in a real browser: a referent adds a report, validates it and
cancels its DMP sending; the person deposits a document on the portal page and the
referent accepts it from the inbox. Each page is checked with axe (desktop and 375px)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.coordination.documents_helpers import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


PDF = {"name": "compte-rendu.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}


def test_a_referent_adds_validates_and_cancels_the_dmp_sending(page, live_server, screenshot, person, referent):
    sign_in_as(page, live_server, referent)
    visit(page, live_server, f"/coordination/personnes/{person.pk}/")
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Documents de")
    page.get_by_text("Ajouter un document").click()
    page.get_by_label("Type de document").select_option("compte_rendu")
    page.get_by_label(re.compile("^Titre")).fill("Compte rendu de consultation")
    page.get_by_label(re.compile("^Fichier")).set_input_files(PDF)
    check_page(page, screenshot, "documents-list")
    page.get_by_role("button", name="Ajouter le document").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu de consultation")
    page.get_by_role("button", name="Valider le document").click()
    expect(page.get_by_text("Programmé (annulable)")).to_be_visible()
    check_page(page, screenshot, "document-detail")
    page.get_by_role("button", name="Ne pas envoyer au DMP").click()
    expect(page.get_by_text("Envoi au DMP annulé")).to_be_visible()


def test_the_person_deposits_and_the_referent_accepts(page, live_server, screenshot, person, person_user, referent):
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, f"/mon-espace/personnes/{person.pk}/documents/")
    page.get_by_label("Type de document").select_option("attestation")
    page.get_by_label(re.compile("^Titre")).fill("Attestation CAF")
    page.get_by_label(re.compile("^Fichier")).set_input_files(PDF)
    page.get_by_role("button", name="Envoyer le document").click()
    expect(page.get_by_text("en attente : le référent va le regarder")).to_be_visible()
    check_page(page, screenshot, "documents-portal")
    sign_in_as(page, live_server, referent)
    visit(page, live_server, "/coordination/documents/a-examiner/")
    expect(page.get_by_role("heading", name="Attestation CAF")).to_be_visible()
    check_page(page, screenshot, "documents-inbox")
    page.get_by_role("button", name="Accepter dans le dossier").click()
    expect(page.get_by_text("Aucun document à examiner.")).to_be_visible()
