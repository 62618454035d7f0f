"""Sign-in of a professional in a real browser: password, then the TOTP code, then the
dashboard; every page checked with axe (no serious or critical violation) and under
the strict Content Security Policy (no violation reported in the console).

Screenshots land in test-artifacts/ (gitignored), at desktop and phone (375px) widths.
"""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model

from coordination.models import Professional

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Un-mot-de-passe-solide-2024"
PHONE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = {"serious", "critical"}
EMAIL_LABEL = re.compile(r"courriel|e-mail", re.I)


# --- helpers -----------------------------------------------------------------------------


def make_user(email: str):
    first_name, last_name = (part.capitalize() for part in email.split("@")[0].split("."))
    user = get_user_model().objects.create_user(
        email=email, password=PASSWORD, first_name=first_name, last_name=last_name
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def make_professional(email: str, *, with_totp: bool) -> tuple[object, str | None]:
    user = make_user(email)
    Professional.objects.create(user=user, profession="infirmier")
    secret = None
    if with_totp:
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    return user, secret


def current_totp_code(secret: str) -> str:
    """The code of the current period, leaving at least 5 seconds to use it."""
    period = mfa_settings.TOTP_PERIOD
    remaining = period - (time.time() % period)
    if remaining < 5:
        time.sleep(remaining + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def assert_accessible(page, label: str) -> None:
    """axe finds no serious or critical violation, and the CSP blocked nothing."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    details = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node['html'][:200]}" for node in v["nodes"])
        for v in blocking
    )
    assert not blocking, f"axe, page « {label} » ({page.url}) :\n{details}"
    assert not page.csp_violations, f"CSP, page « {label} » : {page.csp_violations}"


def check_page(page, screenshot, label: str) -> None:
    """axe at desktop width, then again at phone width; screenshots of both."""
    assert_accessible(page, label)
    screenshot(label)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        assert_accessible(page, f"{label} (375px)")
        # Nothing wider than the phone screen: no horizontal scrolling.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{label}: la page déborde de {overflow}px à 375px de large"
        screenshot(f"{label}-375")
    finally:
        page.set_viewport_size(size)


def sign_in_with_password(page, live_server, email: str, password: str = PASSWORD) -> None:
    page.goto(live_server.url + "/")
    page.get_by_label(EMAIL_LABEL).fill(email)
    page.get_by_label(re.compile("mot de passe", re.I)).fill(password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_load_state()


# --- tests -------------------------------------------------------------------------------


def test_professional_signs_in_with_password_and_totp(page, live_server, screenshot):
    _, secret = make_professional("camille.martin@example.org", with_totp=True)

    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion"
    assert page.get_by_role("link", name="Aller au contenu").count() == 1
    # No public sign-up: the login page offers no way to create an account.
    assert page.locator("a[href*='/accounts/signup/']").count() == 0
    check_page(page, screenshot, "connexion")

    page.get_by_label(EMAIL_LABEL).fill("camille.martin@example.org")
    page.get_by_label(re.compile("mot de passe", re.I)).fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()

    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Authentification à deux facteurs"
    check_page(page, screenshot, "code-mfa")

    page.get_by_label(re.compile("code", re.I)).fill(current_totp_code(secret))
    page.get_by_role("button", name="Connexion").click()

    page.wait_for_url(live_server.url + "/pro/")
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord"
    nav = page.get_by_role("navigation", name="Navigation principale")
    assert nav.get_by_role("link", name="Tableau de bord").get_attribute("aria-current") == "page"
    account = page.get_by_role("navigation", name="Mon compte")
    assert account.get_by_role("button", name="Se déconnecter").count() == 1
    check_page(page, screenshot, "tableau-de-bord")

    # Signing out is a POST (CSRF-protected) and leads back to the login page.
    account.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto(live_server.url + "/pro/")
    assert "/accounts/login/" in page.url


def test_wrong_password_shows_a_french_error(page, live_server, screenshot):
    make_professional("claude.bernard@example.org", with_totp=True)

    sign_in_with_password(page, live_server, "claude.bernard@example.org", "pas-le-bon-mot-de-passe")

    assert "/accounts/login/" in page.url
    alert = page.get_by_role("alert")
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in alert.inner_text()
    # The e-mail typed is kept; the password is not.
    assert page.get_by_label(EMAIL_LABEL).input_value() == "claude.bernard@example.org"
    assert page.get_by_label(re.compile("mot de passe", re.I)).input_value() == ""
    check_page(page, screenshot, "connexion-erreur")


def test_account_pages_are_accessible(page, live_server, screenshot):
    """A professional without MFA must activate it; then every account page is checked."""
    make_professional("dominique.petit@example.org", with_totp=False)

    sign_in_with_password(page, live_server, "dominique.petit@example.org")
    # RequireMFAMiddleware sends them to the activation of an authenticator app, which
    # allauth guards with a password confirmation (MFA_REAUTHENTICATION_REQUIRED).
    page.wait_for_url(re.compile(r"/accounts/(reauthenticate|2fa/totp/activate)/"))
    if "/accounts/reauthenticate/" in page.url:
        assert "double authentification" in page.get_by_role("alert").inner_text()
        check_page(page, screenshot, "reauthentification")
        page.get_by_label(re.compile("mot de passe", re.I)).fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name="Confirmer").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert page.locator("img.qr-code").count() == 1
    secret_field = page.get_by_label(re.compile("secret", re.I))
    secret = secret_field.input_value()
    assert re.fullmatch(r"[A-Z2-7]+=*", secret)
    check_page(page, screenshot, "activation-totp")

    # A wrong code: the error is tied to the field.
    code_field = page.get_by_label(re.compile("code", re.I))
    code_field.fill("000000" if current_totp_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Activer").click()
    page.wait_for_load_state()
    code_field = page.get_by_label(re.compile("code", re.I))
    assert code_field.get_attribute("aria-invalid") == "true"
    error_id = code_field.get_attribute("aria-describedby").split()[-1]
    assert page.locator(f"#{error_id}").inner_text().strip()
    check_page(page, screenshot, "activation-totp-erreur")

    code_field.fill(current_totp_code(secret))
    page.get_by_role("button", name="Activer").click()
    page.wait_for_load_state()
    assert "/accounts/2fa/totp/activate/" not in page.url

    for label, path in [
        ("mfa-index", "/accounts/2fa/"),
        ("codes-de-recuperation", "/accounts/2fa/recovery-codes/"),
        ("mot-de-passe", "/accounts/password/change/"),
        ("reauthentification-directe", "/accounts/reauthenticate/"),
        ("deconnexion", "/accounts/logout/"),
    ]:
        page.goto(live_server.url + path)
        assert page.get_by_role("heading", level=1).count() == 1, label
        check_page(page, screenshot, label)

    page.get_by_role("main").get_by_role("button").click()  # "Se déconnecter" on the logout page
    page.wait_for_url(re.compile(r"/accounts/login/"))

    for label, path in [
        ("mot-de-passe-oublie", "/accounts/password/reset/"),
        ("mot-de-passe-oublie-envoye", "/accounts/password/reset/done/"),
        ("mot-de-passe-lien-invalide", "/accounts/password/reset/key/0-invalide/"),
        ("confirmation-email-invalide", "/accounts/confirm-email/invalide/"),
        ("page-introuvable", "/cette-page-n-existe-pas/"),
    ]:
        page.goto(live_server.url + path)
        assert page.get_by_role("heading", level=1).count() == 1, label
        check_page(page, screenshot, label)


def test_person_space_is_accessible(page, live_server, screenshot):
    """A person (not a professional) signs in with a password only and sees their space."""
    make_user("rose.durand@example.org")

    sign_in_with_password(page, live_server, "rose.durand@example.org")

    page.wait_for_url(live_server.url + "/mon-espace/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mon espace"
    nav = page.get_by_role("navigation", name="Navigation principale")
    assert nav.get_by_role("link", name="Mon espace").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Tableau de bord").count() == 0
    check_page(page, screenshot, "mon-espace")
