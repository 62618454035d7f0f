"""The notification centre and preferences in a browser: axe, CSP, phone width, HTMX mark-as-read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from common.notify import notify
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page

pytestmark = pytest.mark.browser


def test_notification_pages_are_accessible_and_mark_read_updates_the_badge(
    page, live_server, screenshot, person, nurse, referent, monkeypatch
):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)
    for _ in range(2):
        notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    notify("liaison.remarkable_event", person=person, actor=referent, recipients=[nurse])
    sign_in_as(page, live_server, nurse)

    visit(page, live_server, "/notifications/")
    # Two groups (the alerts about Jeanne, the remarkable event): the badge counts groups.
    badge = page.locator("#notification-badge")
    assert "2" in badge.inner_text()
    expect(page.get_by_role("link", name="2 alertes qui vous sont adressées pour Jeanne MARTIN")).to_be_visible()
    check_page(page, screenshot, "notifications")

    mark = re.compile("Marquer comme lu")
    page.get_by_role("button", name=mark).first.click()
    # Locator assertions poll from the test side: no eval in the page (the CSP forbids it).
    expect(page.locator("#notification-badge")).to_contain_text("1")
    expect(page.get_by_role("button", name=mark)).to_have_count(1)

    visit(page, live_server, "/notifications/preferences/")
    check_page(page, screenshot, "notification-preferences")
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    page.wait_for_load_state()
    assert "préférences de notification sont enregistrées" in page.content()
