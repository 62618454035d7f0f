"""At 375 px (#16, item 4): the menu is folded and opens by keyboard, the person edits one
member's rights from a compact row; axe finds nothing serious, menu open or closed. At
desktop width the menus show without a click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coordination import access
from coordination.models import Category, CircleMember
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import PHONE, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tab_to(page, locator, presses: int = 40) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("never reached by the keyboard")


def test_the_menu_is_folded_on_a_phone_and_opens_by_keyboard(page, live_server, screenshot, person, person_user):
    page.set_viewport_size(PHONE)
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/")
    nav = page.get_by_role("navigation", name="Navigation principale")
    agenda_link = nav.get_by_role("link", name="Mon agenda")
    expect(agenda_link).to_be_hidden()
    toggle = page.locator("summary", has_text="Menu")
    expect(toggle).to_be_visible()
    # The folded menu leaves the page's title on the first screen.
    assert page.get_by_role("heading", level=1).bounding_box()["y"] < PHONE["height"] / 2
    assert_accessible(page, "menu fermé (375px)")
    _tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(agenda_link).to_be_visible()
    assert_accessible(page, "menu ouvert (375px)")
    screenshot("menu-ouvert-375")
    _tab_to(page, agenda_link)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/mon-espace/agenda/"))


def test_the_menus_show_without_a_click_on_a_desktop(page, live_server, person, person_user):
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/")
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mon agenda")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_the_person_edits_one_members_rights_on_a_phone(page, live_server, screenshot, person, person_user, carer):
    assert access.check(carer, person, Category.AGENDA) is None
    page.set_viewport_size(PHONE)
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/cercle/")
    assert_accessible(page, "cercle (375px)")
    # Compact: the page is a list of rows, far from the 9,700 px of one form per member.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, height
    member = CircleMember.objects.active().get(person=person, user=carer)
    row = page.get_by_role("article", name=re.compile(carer.get_full_name()))
    edit = row.locator("summary")
    _tab_to(page, edit)
    page.keyboard.press("Enter")
    agenda = row.get_by_role("group", name=re.compile("^Mon agenda"))
    expect(agenda).to_be_visible()
    assert_accessible(page, "cercle, un membre ouvert (375px)")
    agenda.get_by_role("radio", name="Rien").focus()
    page.keyboard.press("ArrowRight")
    expect(agenda.get_by_role("radio", name="Voir", exact=True)).to_be_checked()
    save = row.get_by_role("button", name=f"Enregistrer les droits de {member.display_name}")
    _tab_to(page, save)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_text(f"Les droits de {member.display_name} sont changés.")).to_be_visible()
    expect(
        page.get_by_role("article", name=re.compile(carer.get_full_name())).get_by_text("Voit : agenda.")
    ).to_be_visible()
    screenshot("cercle-375")
    assert access.check(carer, person, Category.AGENDA, "read") is not None
    assert access.check(carer, person, Category.AGENDA, "write") is None
