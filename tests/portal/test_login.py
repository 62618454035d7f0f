from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_it_logs_a_person_in_with_email_and_password(client):
    user = UserFactory(email="jeanne@exemple.fr")
    response = client.post(LOGIN_URL, {"login": "jeanne@exemple.fr", "password": PASSWORD})
    assert response.status_code == 302
    assert response.wsgi_request.user == user
    home = client.get(response["Location"], follow=True)
    assert home.redirect_chain[-1][0] == reverse("portal_home")
    assert "Mon espace" in home.content.decode()


def test_it_gives_the_same_french_error_whether_the_email_exists_or_not(client):
    UserFactory(email="jeanne@exemple.fr")
    known = client.post(LOGIN_URL, {"login": "jeanne@exemple.fr", "password": "mauvais-mot-de-passe"})
    unknown = client.post(LOGIN_URL, {"login": "personne@exemple.fr", "password": "mauvais-mot-de-passe"})
    message = "L’adresse e-mail ou le mot de passe sont incorrects."
    assert known.status_code == unknown.status_code == 200
    assert message in known.content.decode()
    assert message in unknown.content.decode()
    assert not known.wsgi_request.user.is_authenticated


def test_five_wrong_passwords_slow_the_guesser_down_but_never_lock_the_owner_out(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="jeanne@exemple.fr")
    guesser = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(LOGIN_URL, {"login": "jeanne@exemple.fr", "password": "mauvais-mot-de-passe"}, **guesser)
    # From the guesser's address, even the right password is refused for a while…
    response = client.post(LOGIN_URL, {"login": "jeanne@exemple.fr", "password": PASSWORD}, **guesser)
    assert "Trop de tentatives de connexion échouées" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    # …the owner, from elsewhere, signs in at once.
    response = Client().post(
        LOGIN_URL, {"login": "jeanne@exemple.fr", "password": PASSWORD}, REMOTE_ADDR="198.51.100.2"
    )
    assert response.status_code == 302 and response.wsgi_request.user == owner
    # And was told, once, without any detail.
    [notice] = [m for m in mailoutbox if m.to == ["jeanne@exemple.fr"]]
    assert "mots de passe erronés" in notice.body and "203.0.113.7" not in notice.body


def test_many_failures_from_one_address_are_limited_whatever_the_account(client):
    for n in range(20):
        client.post(LOGIN_URL, {"login": f"inconnu{n}@exemple.fr", "password": "x"}, REMOTE_ADDR="203.0.113.9")
    UserFactory(email="jeanne@exemple.fr")
    response = client.post(LOGIN_URL, {"login": "jeanne@exemple.fr", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert "Trop de tentatives de connexion échouées" in response.content.decode()


def test_it_has_no_public_signup(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "inscriptions sont fermées" in response.content.decode().lower() or "fermé" in response.content.decode()
    assert not response.context.get("form")


def test_it_ends_the_session_after_inactivity(client, settings):
    import time

    user = UserFactory()
    client.force_login(user)
    assert client.get("/mon-espace/").status_code == 200
    session = client.session
    session["_last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()
    response = client.get("/mon-espace/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert client.get("/mon-espace/").status_code == 302
