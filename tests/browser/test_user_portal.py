"""The user portal in a real browser.

Jeanne Martin signs in with her password (no second factor for persons), sees her home,
gives her daughter the right to see her agenda in plain words using the keyboard only,
and the change is effective. Every portal page is checked with axe (no serious or
critical violation), under the strict CSP, and at 375px wide. Her guardian reads who
accessed her data, break-the-glass included.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coordination import access, services
from coordination.models import Category, CircleMember
from liaison import services as liaison_services
from liaison.models import Scope
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page, sign_in_with_password
from tests.conftest import _pro
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL_PAGES = [
    ("/mon-espace/", "accueil"),
    ("/mon-espace/dossier/", "dossier"),
    ("/mon-espace/cahier-de-liaison/", "cahier"),
    ("/mon-espace/cercle/", "cercle"),
    ("/mon-espace/consentements/", "consentements"),
    ("/mon-espace/acces/", "acces"),
    ("/notifications/", "notifications"),
    ("/notifications/preferences/", "preferences"),
]


@pytest.fixture
def portal_data(person, person_user, nurse, carer, legal_rep, structure, admin_user):
    liaison_services.transmission_create(
        actor=nurse,
        person=person,
        category="observations",
        text="Jeanne a fait une belle promenade.",
        scope=Scope.SHARED,
    )
    services.consent_record(
        actor=person_user, person=person, kind="dmp_feeding", decision="refused", collected_via="portal"
    )
    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=night, role="infirmier")
    # The person removed every right of the night nurse: only break-the-glass opens the record.
    services.grants_set(
        actor=person_user,
        member=CircleMember.objects.active().get(person=person, user=night.user),
        levels={c: 0 for c in Category.values},
    )
    services.break_glass_open(actor=night.user, person=person, reason="Chute dans la nuit, besoin des traitements.")
    access.require(night.user, person, Category.RECORD, "read")
    return night.user


def test_the_person_changes_a_right_in_plain_words_with_the_keyboard(
    page, live_server, screenshot, person, person_user, carer, portal_data
):
    assert access.check(carer, person, Category.AGENDA) is None
    sign_in_with_password(page, live_server, person_user.email, PASSWORD)
    page.wait_for_url(live_server.url + "/mon-espace/")
    expect(page.get_by_text("Jeanne a fait une belle promenade.")).to_be_visible()
    for path, label in PORTAL_PAGES:
        visit(page, live_server, path)
        check_page(page, screenshot, f"portail-{label}")

    visit(page, live_server, "/mon-espace/cercle/")
    member = CircleMember.objects.active().get(person=person, user=carer)
    article = page.get_by_role("article", name=re.compile(carer.get_full_name()))
    article.locator("summary").click()  # the row's rights are folded (one compact row per member)
    agenda = article.get_by_role("group", name=re.compile("^Mon agenda"))
    # Keyboard only: focus the agenda group's checked radio, arrow to "Voir", tab to the button.
    agenda.get_by_role("radio", name="Rien").focus()
    page.keyboard.press("ArrowRight")
    expect(agenda.get_by_role("radio", name="Voir", exact=True)).to_be_checked()
    save = article.get_by_role("button", name=f"Enregistrer les droits de {member.display_name}")
    for _ in range(20):
        page.keyboard.press("Tab")
        if save.evaluate("button => button === document.activeElement"):
            break
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_text(f"Les droits de {member.display_name} sont changés.")).to_be_visible()
    assert access.check(carer, person, Category.AGENDA, "read") is not None
    assert access.check(carer, person, Category.AGENDA, "write") is None


def test_the_guardian_reads_who_accessed_the_data(page, live_server, screenshot, person, legal_rep, portal_data):
    sign_in_as(page, live_server, legal_rep)
    visit(page, live_server, "/mon-espace/")
    expect(page.get_by_text(f"Espace de {person.display_name}").first).to_be_visible()
    visit(page, live_server, "/mon-espace/acces/")
    expect(page.get_by_text("Chute dans la nuit, besoin des traitements.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Noé Nuit, .* a consulté le dossier de Jeanne en urgence"))).to_be_visible()
    check_page(page, screenshot, "portail-acces-tuteur")


def test_a_carer_without_rights_sees_only_their_space(page, live_server, person, carer, portal_data):
    sign_in_as(page, live_server, carer)
    visit(page, live_server, "/mon-espace/")
    expect(page.get_by_text("Jeanne a fait une belle promenade.")).to_have_count(0)
    response = page.goto(live_server.url + "/mon-espace/cahier-de-liaison/")
    assert response.status == 403
