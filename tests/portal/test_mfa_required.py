from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.factories import PASSWORD, ProfessionalFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


def test_it_sends_a_professional_without_mfa_to_the_mfa_setup_before_any_page(client):
    professional = ProfessionalFactory()
    response = client.post("/accounts/login/", {"login": professional.user.email, "password": PASSWORD})
    assert response.status_code == 302
    for path in ("/", "/pro/", "/mon-espace/", "/coordination/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp"), path
    assert client.get("/api/schema/").status_code == 403
    _assert_reaches_totp_setup(client)


def _assert_reaches_totp_setup(client):
    """allauth asks for the password again before showing the secret, then shows the QR code."""
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    reauthenticate = f"{reverse('account_reauthenticate')}?next={reverse('mfa_activate_totp')}"
    assert unquote(response.redirect_chain[-1][0]) == reauthenticate
    response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert "totp_svg" in response.context


def test_it_lets_a_professional_with_mfa_reach_the_dashboard():
    professional = ProfessionalFactory()
    activate_totp(professional.user)
    response = login(professional.user).get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("pro_dashboard")
    assert "Tableau de bord" in response.content.decode()


def test_it_requires_mfa_for_administrators_too(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.post("/accounts/login/", {"login": admin.email, "password": PASSWORD})
    response = client.get("/admin/")
    assert response["Location"] == reverse("mfa_activate_totp")
    _assert_reaches_totp_setup(client)
    activate_totp(admin)
    assert client.get("/admin/").status_code == 200


def test_it_leaves_mfa_optional_for_persons_and_carers():
    response = login(UserFactory()).get("/mon-espace/")
    assert response.status_code == 200


def test_it_asks_for_the_totp_code_after_the_password(client):
    from tests.factories import current_totp

    professional = ProfessionalFactory()
    secret = activate_totp(professional.user)
    response = client.post("/accounts/login/", {"login": professional.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not client.get("/pro/").wsgi_request.user.is_authenticated
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp(secret)})
    assert response.status_code == 302
    assert client.get("/pro/").status_code == 200
