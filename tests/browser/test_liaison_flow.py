"""The liaison notebook in a real browser, as the issue tells it.

A nurse posts a targeted, important transmission with a photo, addressed to the
structure's referent with a receipt requested; the referent sees the alert among their
notifications, follows it to the notebook and acknowledges (HTMX swap); the nurse then
sees the receipt. The notebook, "my feed" and the transmission's page are checked with
axe (no serious or critical violation), under the strict Content Security Policy and at
375px wide. Screenshots land in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from liaison.models import Addressee, Transmission
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAR = {
    "Données": "Douleur au talon droit, EVA 6/10 au lever ; rougeur de 3 cm.",
    "Actions": "Antalgique selon prescription, décharge du talon, photo jointe.",
    "Résultats": "EVA 3/10 une heure après.",
}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploads go to a temporary directory, never to var/private."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _no_deliveries(monkeypatch):
    """The notifications are recorded; their e-mail deliveries are not sent."""
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)


@pytest.fixture
def photo(tmp_path):
    """A real small JPEG on disk, for the file input."""
    image = Image.new("RGB", (480, 360), (236, 214, 196))
    draw = ImageDraw.Draw(image)
    draw.ellipse((170, 110, 310, 250), fill=(190, 70, 60))
    path = tmp_path / "talon-droit.jpg"
    image.save(path, format="JPEG", quality=85)
    return path


def test_targeted_alert_with_photo_is_acknowledged(page, live_server, screenshot, person, nurse, referent, photo):
    notebook = f"/liaison/personnes/{person.pk}/"

    # --- The nurse writes the transmission ---------------------------------------------------
    sign_in_as(page, live_server, nurse)
    visit(page, live_server, notebook)
    assert page.get_by_role("heading", level=1).inner_text() == "Cahier de liaison de Jeanne MARTIN"
    check_page(page, screenshot, "cahier-vide")

    new = page.get_by_role("region", name="Nouvelle transmission")
    new.locator("summary").click()
    form = new.locator("form")
    expect(form).to_be_visible()
    check_page(page, screenshot, "cahier-formulaire")

    form.get_by_role("radio", name=re.compile("^Ciblée")).check()
    form.get_by_label("Catégorie").select_option(label="Symptômes")
    form.get_by_label("Cible (transmission ciblée)").fill("douleur")
    for label, value in DAR.items():  # by role: the "Ciblée (Données, Actions, Résultats)" radio has the words too
        form.get_by_role("textbox", name=label, exact=True).fill(value)
    form.get_by_label("Important", exact=True).check()
    alert = form.get_by_role("group", name="Alerter (destinataires)")
    alert.get_by_label("Rémi Référent").check()
    form.get_by_label("Demander un accusé de réception").check()
    form.get_by_label("Photos ou PDF").set_input_files(photo)
    page.evaluate("window.notReloaded = true")
    form.get_by_role("button", name="Enregistrer la transmission").click()

    expect(page.locator(".message--success")).to_contain_text("Transmission enregistrée.")
    # Posted with HTMX: the timeline was swapped in place, the page did not reload.
    assert page.evaluate("window.notReloaded === true")
    assert page.url == live_server.url + notebook
    transmission = Transmission.objects.get(person=person)
    assert (transmission.kind, transmission.target, transmission.is_important) == ("targeted", "douleur", True)
    assert transmission.requests_receipt
    assert list(transmission.addressees.values_list("user", flat=True)) == [referent.pk]
    article = page.locator(f"#t{transmission.pk}")
    expect(article.get_by_role("heading", level=3)).to_contain_text("Symptômes — cible : douleur")
    expect(article.locator(".badge", has_text="Important")).to_be_visible()
    expect(article.get_by_text("EVA 3/10 une heure après.")).to_be_visible()
    thumbnail = article.get_by_role("img", name=re.compile("Photo jointe"))
    thumbnail.scroll_into_view_if_needed()
    # decode() resolves once the picture is loaded (it is served through the gate).
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    response = page.request.get(live_server.url + thumbnail.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    expect(article.locator("details", has_text="Destinataires")).to_contain_text("accusé de réception attendu")
    check_page(page, screenshot, "cahier-auteur")

    # --- The referent is alerted, follows the alert and acknowledges --------------------------
    sign_in_as(page, live_server, referent)
    visit(page, live_server, "/notifications/")
    badge = page.locator("#notification-badge")
    expect(badge.locator(".badge")).to_have_text(re.compile(r"[1-9]\d*"))
    link = page.get_by_role("link", name=re.compile("Alerte qui vous est adressée"))
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(f"{live_server.url}{notebook}#t{transmission.pk}")
    article = page.locator(f"#t{transmission.pk}")
    acknowledge = article.get_by_role("button", name="Accuser réception")
    expect(acknowledge).to_be_visible()
    page.evaluate("document.body.dataset.sansRechargement = 'oui'")
    acknowledge.click()
    receipt = article.get_by_role("status")
    expect(receipt).to_contain_text("Accusé de réception envoyé le")
    expect(acknowledge).to_have_count(0)
    assert page.evaluate("document.body.dataset.sansRechargement") == "oui", "the whole page was reloaded"
    assert Addressee.objects.get(transmission=transmission, user=referent).acknowledged_at is not None
    check_page(page, screenshot, "cahier-destinataire-accuse")

    visit(page, live_server, notebook)
    expect(page.locator(f"#t{transmission.pk}").get_by_role("button", name="Accuser réception")).to_have_count(0)
    check_page(page, screenshot, "cahier-destinataire")

    visit(page, live_server, "/liaison/")
    expect(page.locator(f"#t{transmission.pk}")).to_be_visible()
    check_page(page, screenshot, "mon-fil")

    # --- The author sees the receipt ---------------------------------------------------------
    sign_in_as(page, live_server, nurse)
    visit(page, live_server, notebook)
    recipients = page.locator(f"#t{transmission.pk}").locator("details", has_text="Destinataires")
    recipients.locator("summary").click()
    expect(recipients.get_by_role("listitem")).to_contain_text(
        re.compile(r"Rémi Référent : accusé de réception le \d{2}/\d{2}/\d{4} \d{2}:\d{2}")
    )
    check_page(page, screenshot, "cahier-auteur-accuse")

    # The search finds it; the filters stay open on the results.
    visit(page, live_server, notebook + "?q=talon")
    expect(page.get_by_role("search", name="Filtrer les transmissions")).to_be_visible()
    expect(page.locator("article.transmission")).to_have_count(1)
    visit(page, live_server, notebook + "?q=hanche")
    expect(page.locator("article.transmission")).to_have_count(0)
    check_page(page, screenshot, "cahier-recherche-vide")

    visit(page, live_server, f"/liaison/transmissions/{transmission.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Transmission du ")
    expect(page.get_by_role("heading", name="Modifier ou retirer")).to_be_visible()
    check_page(page, screenshot, "transmission")
