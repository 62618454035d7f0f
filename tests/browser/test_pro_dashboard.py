"""The professional's day in a browser: every section filled, axe at desktop and 375 px
width, no sideways scrolling, a section's link leads to where the work is done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.portal.test_pro_dashboard import seed_day

pytestmark = pytest.mark.browser


def test_the_professionals_day_is_accessible_and_leads_to_the_work(
    page, live_server, screenshot, person, referent, nurse, other_pro
):
    seed_day(person, referent, nurse, other_pro)
    sign_in_as(page, live_server, referent)
    visit(page, live_server, "/pro/")
    expect(page.get_by_role("heading", name="Réunions qui attendent ma réponse")).to_be_visible()
    expect(page.get_by_role("heading", name="Chiffres de EHPAD Les Tilleuls")).to_be_visible()
    check_page(page, screenshot, "pro-dashboard")
    page.locator("#receipts").get_by_role("link", name="Jeanne MARTIN").click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Accuser réception")).to_be_visible()
