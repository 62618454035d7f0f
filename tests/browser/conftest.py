"""Fixtures of the browser tests: Debian's Chromium driven by Playwright (sync API).

The browser is the system one (/usr/bin/chromium); no browser is ever downloaded.
Without it the tests are skipped, unless REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread: Django would otherwise
# refuse the ORM calls the tests make to prepare data.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium introuvable ({CHROMIUM}) : installez le paquet chromium."
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) in French, with a phone-sized variant at hand.

    Content Security Policy violations reported in the console are collected in
    `page.csp_violations`: our templates must work under the strict policy.
    """
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_violations = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.csp_violations.append(message.text)

    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(page, request):
    """screenshot("name") saves the full page to test-artifacts/ (gitignored) for a look."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, target=None) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take
