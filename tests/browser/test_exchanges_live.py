"""Exchanges in a real browser: a nurse writes, the coordinator's open conversation page shows
the message without a reload (Server-Sent Events, static/js/exchanges-live.js); axe at 1280 px
and 375 px under the strict CSP; the person's portal messages page at 375 px."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from exchanges import services
from exchanges.models import ConversationKind
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import PHONE, assert_accessible, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _short_streams(settings):
    # Streams end and reconnect often: the reconnection path is exercised too.
    settings.EXCHANGES_STREAM_SECONDS = 3
    settings.EXCHANGES_POLL_SECONDS = 0.3


@pytest.fixture(autouse=True)
def _no_deliveries(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)


def test_a_message_arrives_live_in_the_open_conversation(
    browser, page, live_server, screenshot, person, referent, nurse
):
    conversation = services.conversation_start(
        actor=referent,
        kind=ConversationKind.PERSON,
        person=person,
        subject="Retour d'hospitalisation",
        participants=[nurse],
        body="Jeanne rentre jeudi, qui passe le soir ?",
    )
    path = reverse("exchanges:conversation", args=[conversation.pk])

    # The coordinator's page is open.
    sign_in_as(page, live_server, referent)
    visit(page, live_server, path)
    expect(page.locator("#conversation-messages")).to_have_attribute("data-exchanges-state", "open", timeout=10_000)
    check_page(page, screenshot, "echange-ouvert")

    # The nurse writes from her own browser.
    other = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        nurse_page = other.new_page()
        sign_in_as(nurse_page, live_server, nurse)
        visit(nurse_page, live_server, path)
        nurse_page.get_by_role("textbox", name="Message").fill("Je passe jeudi à 19 h.")
        nurse_page.get_by_role("button", name="Envoyer").click()
        expect(nurse_page.locator("#conversation-messages")).to_contain_text("Je passe jeudi à 19 h.")
        # Her own message comes back by the HTMX answer (a fresh composer) and by the
        # stream (the list's last id): shown once.
        expect(nurse_page.get_by_role("textbox", name="Message")).to_have_value("")
        last = str(conversation.messages.order_by("-pk").first().pk)
        expect(nurse_page.locator("#conversation-messages")).to_have_attribute(
            "data-last-message-id", last, timeout=15_000
        )
        expect(nurse_page.locator("#conversation-messages article")).to_have_count(2)
    finally:
        other.close()

    # Without a reload, on the coordinator's page.
    expect(page.locator("#conversation-messages")).to_contain_text("Je passe jeudi à 19 h.", timeout=15_000)
    assert page.locator("#conversation-messages article").count() == 2
    check_page(page, screenshot, "echange-message-recu")
    assert page.csp_violations == []


def test_the_persons_messages_page_reads_well_on_a_phone(page, live_server, screenshot, person, person_user, structure):
    sign_in_as(page, live_server, person_user)
    page.set_viewport_size(PHONE)
    visit(page, live_server, reverse("portal_message_new"))
    page.get_by_label("L'équipe de EHPAD Les Tilleuls").check()
    page.get_by_label("En quelques mots, de quoi voulez-vous parler ?").fill("Mon genou")
    page.get_by_label("Votre message").fill("J'ai mal au genou depuis hier.")
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon genou")
    assert_accessible(page, "portail-conversation (375px)")
    screenshot("portail-conversation-375")
    visit(page, live_server, reverse("portal_messages"))
    assert_accessible(page, "portail-messages (375px)")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot("portail-messages-375")
    assert page.csp_violations == []


def test_the_teams_message_arrives_live_on_the_persons_phone(
    browser, page, live_server, screenshot, person, person_user, structure, referent
):
    """The referent writes to Jeanne from his page; her portal conversation, open on her
    phone, shows the answer without a reload."""
    conversation = services.conversation_start(
        actor=referent,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        participants=[person_user],
        subject="Votre rendez-vous",
        body="Bonjour Madame Martin, le kiné passe mardi.",
    )
    sign_in_as(page, live_server, person_user)
    page.set_viewport_size(PHONE)
    visit(page, live_server, reverse("portal_conversation", args=[conversation.pk]))
    expect(page.locator("#conversation-messages")).to_have_attribute("data-exchanges-state", "open", timeout=10_000)

    other = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        pro_page = other.new_page()
        sign_in_as(pro_page, live_server, referent)
        visit(pro_page, live_server, reverse("exchanges:conversation", args=[conversation.pk]))
        pro_page.get_by_role("textbox", name="Message").fill("Il viendra à 10 h.")
        pro_page.get_by_role("button", name="Envoyer").click()
        expect(pro_page.locator("#conversation-messages")).to_contain_text("Il viendra à 10 h.")
    finally:
        other.close()

    expect(page.locator("#conversation-messages")).to_contain_text("Il viendra à 10 h.", timeout=15_000)
    assert_accessible(page, "portail-conversation-live (375px)")
    screenshot("portail-conversation-live-375")
    assert page.csp_violations == []
