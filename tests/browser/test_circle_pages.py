"""The professionals' circle-of-care pages in a real browser.

The structure's referent (a structure administrator) goes through the caseload (HTMX
search, and the same search without JavaScript), a person's overview, circle, consents
(with the error summary), the join-request, invite and delegation forms, the structure's
access log and their structures; a night nurse whom the person removed from every right
opens the record through break-the-glass.

Every page is checked with axe (no serious or critical violation), under the strict
Content Security Policy, and at 375px wide (no horizontal scrolling). The sign-in form
itself is covered by test_login_mfa.py: here the session cookie is injected.
Screenshots land in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from coordination import services
from coordination.models import CircleMember, Level
from tests.browser.test_login_mfa import check_page
from tests.conftest import _pro
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_RIGHTS = {c: Level.NONE for c in ("record", "agenda", "liaison", "ppa", "documents", "circle")}


# --- helpers -----------------------------------------------------------------------------


def session_cookie(user, live_server) -> dict:
    """A signed-in session for `user`, as a cookie for the live server."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def sign_in_as(page, live_server, user) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(user, live_server)])


def visit(page, live_server, path: str) -> None:
    response = page.goto(live_server.url + path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    assert page.get_by_role("heading", level=1).count() == 1, path


@pytest.fixture
def night_nurse(structure, person, person_user, admin_user):
    """A nurse of the accompanying structure whom the person removed from every right."""
    pro = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role="infirmier")
    member = CircleMember.objects.active().get(person=person, user=pro.user)
    services.grants_set(actor=person_user, member=member, levels=NO_RIGHTS)
    return pro.user


@pytest.fixture
def circle_data(person, person_user, structure, referent, nurse, carer, legal_rep, external_pro, admin_user):
    """Enough rows for the pages to show what they are made for."""
    services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DURAND",
        birth_first_names="Marcel Louis",
        first_name="Marcel",
        birth_date="1941-09-03",
        sex="M",
        birth_place_insee="75056",
    )
    now = timezone.now().replace(second=0, microsecond=0)
    services.delegation_create(
        actor=referent,
        person=person,
        delegate=nurse.professional,
        levels={"agenda": Level.WRITE, "liaison": Level.READ},
        starts_at=now,
        ends_at=now + datetime.timedelta(days=7),
        reason="Congés",
    )
    services.consent_record(
        actor=person_user, person=person, kind="dmp_feeding", decision="granted", collected_via="portal"
    )
    services.consent_record(
        actor=referent,
        person=person,
        kind="partner_sharing",
        decision="refused",
        collected_via="oral",
        partner="education_nationale",
        note="Refus exprimé lors de la réunion de synthèse.",
    )
    # An answered request to join another person's circle (pending ones are never listed).
    other = services.person_create(
        actor=admin_user,
        user=UserFactory(email="paul.petit@exemple.fr"),
        birth_name="PETIT",
        birth_first_names="Paul",
        birth_date="1945-02-17",
        sex="M",
        birth_place_insee="75056",
    )
    request = services.join_request_create(
        actor=referent, person=other, role="infirmier", message="Suivi à domicile après l'hospitalisation."
    )
    services.join_request_answer(
        actor=other.user, join_request=request, accept=False, note="Je suis déjà suivi par un autre cabinet."
    )


# --- test --------------------------------------------------------------------------------


def test_circle_pages_are_accessible(
    page, browser, live_server, screenshot, person, structure, referent, circle_data, night_nurse
):
    base = f"/coordination/personnes/{person.pk}"
    sign_in_as(page, live_server, referent)

    # Caseload: typing in the search box updates the results in place (HTMX).
    visit(page, live_server, "/coordination/")
    results = page.locator("#resultats")
    assert "Marcel DURAND" in results.inner_text()
    check_page(page, screenshot, "file-active")
    page.evaluate("document.body.dataset.sansRechargement = 'oui'")
    with page.expect_response(lambda r: "/coordination/?" in r.url and r.request.headers.get("hx-request")):
        page.get_by_label("Rechercher une personne").fill("jean")
    page.wait_for_url(re.compile(r"[?&]q=jean"))  # hx-push-url: the search can be bookmarked
    assert results.get_by_role("link", name="Jeanne MARTIN").count() == 1
    assert "Marcel DURAND" not in results.inner_text()
    assert "1 personne." in results.inner_text()
    assert page.evaluate("document.body.dataset.sansRechargement") == "oui", "the whole page was reloaded"
    check_page(page, screenshot, "file-active-recherche")

    # The same search without JavaScript: Enter submits the form to the same URL.
    no_js = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        no_js.add_cookies([session_cookie(referent, live_server)])
        plain = no_js.new_page()
        plain.goto(live_server.url + "/coordination/")
        plain.get_by_label("Rechercher une personne").fill("durand")
        with plain.expect_navigation():
            plain.get_by_label("Rechercher une personne").press("Enter")
        assert re.search(r"/coordination/\?q=durand", plain.url), plain.url
        plain_results = plain.locator("#resultats")
        assert plain_results.get_by_role("link", name="Marcel DURAND").count() == 1
        assert "Jeanne MARTIN" not in plain_results.inner_text()
        screenshot("file-active-sans-js", plain)
    finally:
        no_js.close()

    # A person's overview, then the circle.
    page.locator("#resultats").get_by_role("link", name="Jeanne MARTIN").click()
    page.wait_for_url(live_server.url + base + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Jeanne MARTIN"
    check_page(page, screenshot, "personne")

    page.get_by_role("link", name="Voir le cercle et les droits").click()
    page.wait_for_url(live_server.url + base + "/cercle/")
    matrix = page.get_by_role("table")
    assert matrix.get_by_role("rowheader", name=re.compile("Karim Kiné")).count() == 1
    check_page(page, screenshot, "cercle")

    # Consents: an empty submission shows the error summary, whose links lead to the fields.
    visit(page, live_server, base + "/consentements/")
    check_page(page, screenshot, "consentements")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    summary = page.locator(".form-errors")
    assert summary.get_attribute("role") == "alert"
    first_link = summary.get_by_role("link").first
    assert first_link.inner_text() == "Décision de la personne"
    target_id = first_link.get_attribute("href").removeprefix("#")
    target = page.locator(f"[id='{target_id}']")
    assert target.count() == 1, f"the error summary links to #{target_id}, which does not exist"
    assert target.evaluate("element => element.matches('input, select, textarea')"), target_id
    assert target.get_attribute("aria-invalid") == "true"
    first_link.click()
    assert page.evaluate("document.activeElement.id") == target_id
    check_page(page, screenshot, "consentements-erreur")

    for label, path in [
        ("demande-entree", "/coordination/demande-d-entree/"),
        ("proposer", base + "/cercle/proposer/"),
        ("delegation", base + "/delegations/nouvelle/"),
    ]:
        visit(page, live_server, path)
        check_page(page, screenshot, label)

    # The night nurse breaks the glass: read access, with the warning banner.
    sign_in_as(page, live_server, night_nurse)
    assert page.goto(live_server.url + base + "/").status == 403
    visit(page, live_server, base + "/urgence/")
    check_page(page, screenshot, "bris-de-glace")
    page.get_by_label(re.compile("Motif de l'accès en urgence")).fill(
        "Chute nocturne, le SAMU demande les traitements en cours."
    )
    page.get_by_role("button", name="Ouvrir le dossier en urgence").click()
    page.wait_for_url(live_server.url + base + "/")
    banners = page.locator(".message--warning")
    assert banners.count() == 2  # the flash message, and the banner the page keeps while the access lasts
    assert "Accès en urgence (bris de glace)" in banners.nth(1).inner_text()
    check_page(page, screenshot, "personne-bris-de-glace")

    # Back as the referent: the structure's access log shows the break-the-glass reads.
    sign_in_as(page, live_server, referent)
    visit(page, live_server, "/coordination/mes-structures/")
    check_page(page, screenshot, "mes-structures")
    page.get_by_role("link", name="traces d'accès aux dossiers").click()
    page.wait_for_url(live_server.url + f"/coordination/structures/{structure.pk}/traces/")
    assert page.locator("tr.row--alert").count() >= 1
    check_page(page, screenshot, "traces")
