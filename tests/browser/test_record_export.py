"""The person asks for a copy of her whole record in the portal, follows its progress
(the page polls with HTMX) and downloads the ZIP. axe on each page (desktop and 375px)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from records import tasks
from records.models import RecordExport
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page

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


def test_the_person_asks_for_her_export_sees_its_progress_and_downloads_it(
    page, live_server, screenshot, person, person_user, monkeypatch
):
    # The job waits in the queue until the test runs it, so that the page shows the progress.
    monkeypatch.setattr(tasks.build_export, "delay", lambda export_id: None)
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/dossier/")
    page.get_by_role("link", name="Obtenir une copie de tout le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Export du dossier de {person.display_name}")
    check_page(page, screenshot, "exports")
    page.get_by_role("button", name="Demander l'export du dossier").click()
    expect(page.get_by_role("status")).to_contain_text("En attente")
    expect(page.get_by_label("Avancement")).to_be_visible()
    check_page(page, screenshot, "export-pending")
    export = RecordExport.objects.get(requested_by=person_user)
    tasks.build_export(export.pk)
    link = page.get_by_role("link", name="Télécharger l'export")
    expect(link).to_be_visible(timeout=20_000)  # the next poll swaps the fragment in
    expect(page.get_by_role("status")).to_contain_text("Prêt à télécharger")
    check_page(page, screenshot, "export-ready")
    with page.expect_download() as info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    bundle = json.loads(archive.read("dossier.fhir.json"))
    assert bundle["type"] == "collection" and bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert {"synthese.pdf", "manifeste-sha256.txt"} <= set(archive.namelist())
    assert not page.csp_violations
