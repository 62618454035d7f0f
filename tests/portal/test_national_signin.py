"""Pro Santé Connect and FranceConnect+ end to end, against a local provider over HTTP.

The browser is Django's test client, stepping through the redirects by hand: the portal
sends it to the provider's authorization endpoint (fetched with `requests`, as a browser
would), the provider sends it back to the portal's callback with a code, and the portal
then calls the provider's token, userinfo and JWKS endpoints itself over HTTP.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.urls import reverse

from coordination.models import Professional
from tests.factories import PASSWORD, ProfessionalFactory, UserFactory, activate_totp
from tests.portal.oidc_provider import LocalProvider

pytestmark = [
    pytest.mark.django_db,
    # jwcrypto (the local provider's JOSE library) warns about one of its own classes.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:tests.portal.oidc_provider"),
]

RPPS = "10003456789"
GENERIC = "La connexion n'a pas pu être vérifiée. Aucun compte n'a été ouvert ni modifié."


@pytest.fixture(scope="module")
def portal_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _configure(settings, psc: LocalProvider | None = None, fc: LocalProvider | None = None) -> None:
    def apps(provider):
        if provider is None:
            return []
        return [
            {
                "client_id": provider.client_id,
                "secret": provider.client_secret,
                "settings": {"server_url": provider.issuer},
            }
        ]

    settings.SOCIALACCOUNT_PROVIDERS = {"pro_sante_connect": {"APPS": apps(psc)}, "franceconnect": {"APPS": apps(fc)}}


@pytest.fixture
def psc(settings):
    provider = LocalProvider("psc").start()
    _configure(settings, psc=provider)
    yield provider
    provider.stop()


@pytest.fixture
def fcplus(settings, client, portal_key_pem):
    settings.FRANCECONNECT_ENCRYPTION_KEY = portal_key_pem
    provider = LocalProvider("fcplus").start()
    _configure(settings, fc=provider)
    # FranceConnect+ reads the portal's public key where the portal publishes it.
    provider.portal_jwks = client.get(reverse("franceconnect_jwks")).json()
    yield provider
    provider.stop()


def sign_in(client, provider: LocalProvider, slug: str, *, tamper_state: bool = False):
    """Press the button, go through the provider, come back: the portal's last answer."""
    response = client.post(f"/accounts/{slug}/login/")
    assert response.status_code == 302, response.content.decode()[:500]
    authorize = response["Location"]
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    at_provider = requests.get(authorize, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == f"/accounts/{slug}/login/callback/"
    query = parse_qs(back.query)
    if tamper_state:
        query["state"] = ["x" * 43]
    return client.get(back.path, {k: v[0] for k, v in query.items()})


def assert_refused(client, response, message: str = GENERIC) -> None:
    assert response.status_code == 401
    page = response.content.decode()
    assert "La connexion n'a pas abouti" in page
    assert message in page.replace("&#x27;", "'")
    assert not client.get("/mon-espace/").wsgi_request.user.is_authenticated
    assert not SocialAccount.objects.exists()


# --- Pro Santé Connect ------------------------------------------------------------------


@pytest.fixture
def doctor():
    # Her portal address is not the one Pro Santé Connect knows: RPPS decides, not e-mail.
    return ProfessionalFactory(
        user=UserFactory(email="dr.lefevre@ehpad.exemple.fr", first_name="Anne", last_name="Lefèvre"),
        rpps=RPPS,
        profession="medecin",
    )


def psc_identity(rpps: str = RPPS, **extra) -> dict:
    return {
        "sub": "f3b5c2a0-psc-0001",
        "SubjectNameID": f"8{rpps}",
        "preferred_username": f"8{rpps}",
        "given_name": "ANNE",
        "family_name": "LEFEVRE",
        "email": "anne.lefevre@wallet.exemple.fr",
        "SubjectRefPro": {"codeCivilite": "MME", "exercices": [{"codeProfession": "10"}]},
        **extra,
    }


def test_it_signs_a_professional_in_with_pro_sante_connect_by_rpps(client, psc, doctor):
    psc.identity = psc_identity()
    response = sign_in(client, psc, "psc")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(doctor.user.pk)
    # No TOTP on this account: the Pro Santé Connect sign-in meets the MFA rule.
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == reverse("pro_dashboard")
    assert "Tableau de bord" in home.content.decode()
    account = SocialAccount.objects.get()
    assert (account.provider, account.uid, account.user) == ("pro_sante_connect", f"8{RPPS}", doctor.user)
    # Only what is needed is kept (not the professions and activities).
    assert "SubjectRefPro" not in account.extra_data["userinfo"]
    # The published flow: the wallet discovery name, eIDAS level 1, nonce, state, PKCE.
    assert ("GET", psc.discovery_path) in psc.requests
    request = psc.authorizations[-1]
    assert request["acr_values"] == "eidas1"
    assert set(request["scope"].split()) == {"openid", "scope_all"}
    assert len(request["nonce"]) >= 22 and len(request["state"]) >= 22
    assert request["code_challenge_method"] == "S256"


def test_it_accepts_pro_sante_connect_userinfo_as_plain_json_too(client, psc, doctor):
    psc.identity = psc_identity()
    psc.userinfo_format = "json"
    assert sign_in(client, psc, "psc").status_code == 302
    assert client.session["_auth_user_id"] == str(doctor.user.pk)


def test_it_signs_the_same_professional_in_again_by_the_linked_identity(client, psc, doctor):
    psc.identity = psc_identity()
    sign_in(client, psc, "psc")
    client.logout()
    assert sign_in(client, psc, "psc").status_code == 302
    assert client.session["_auth_user_id"] == str(doctor.user.pk)
    assert SocialAccount.objects.count() == 1


def test_it_does_not_ask_for_the_totp_code_after_pro_sante_connect(client, psc, doctor):
    activate_totp(doctor.user)
    psc.identity = psc_identity()
    response = sign_in(client, psc, "psc")
    assert response["Location"] != reverse("mfa_authenticate")
    assert client.get("/pro/").status_code == 200


def test_it_counts_pro_sante_connect_as_second_factor_only_for_that_session(client, psc, doctor):
    psc.identity = psc_identity()
    sign_in(client, psc, "psc")
    assert client.get("/pro/").status_code == 200
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": doctor.user.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(doctor.user.pk)
    response = client.get("/pro/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize(
    ("national_id", "message"),
    [
        ("899999999999", "aucun compte du portail ne correspond à votre numéro RPPS"),
        ("0751234567", "votre identifiant n'en est pas un"),
    ],
    ids=["unknown-rpps", "adeli-identifier"],
)
def test_it_refuses_a_professional_the_portal_does_not_know(client, psc, doctor, national_id, message):
    psc.identity = {**psc_identity(), "SubjectNameID": national_id}
    users_before = get_user_model().objects.count()
    assert_refused(client, sign_in(client, psc, "psc"), message)
    assert get_user_model().objects.count() == users_before


def test_it_refuses_an_inactive_professional(client, psc, doctor):
    Professional.objects.filter(pk=doctor.pk).update(is_active=False)
    psc.identity = psc_identity()
    assert_refused(client, sign_in(client, psc, "psc"), "aucun compte du portail ne correspond")


def test_it_refuses_a_wrong_nonce_from_pro_sante_connect(client, psc, doctor):
    psc.identity = psc_identity()
    psc.nonce_override = "n" * 43
    assert_refused(client, sign_in(client, psc, "psc"))


@pytest.mark.parametrize("acr", ["eidas0", None], ids=["lower-level", "no-acr"])
def test_it_refuses_a_pro_sante_connect_sign_in_without_the_eidas_level(client, psc, doctor, acr):
    psc.identity = psc_identity()
    psc.acr = acr
    assert_refused(client, sign_in(client, psc, "psc"), "Le niveau de sécurité de cette connexion est insuffisant")


@pytest.mark.parametrize("token", ["id_token", "userinfo"])
def test_it_refuses_a_pro_sante_connect_token_with_a_forged_signature(client, psc, doctor, token):
    psc.identity = psc_identity()
    psc.forge = {token}
    assert_refused(client, sign_in(client, psc, "psc"))


@pytest.mark.parametrize(
    "raw",
    [
        "pas-un-jeton",
        "a.b.c",
        "a.b.c.d.e",
        # alg "none": unsigned, whatever it says.
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiYWNyIjoiZWlkYXMxIn0.",
        # A valid header over a payload that is not JSON.
        "eyJhbGciOiJSUzI1NiIsImtpZCI6InBzYy1zaWduYXR1cmUifQ.bm9uIEpTT04.c2ln",
    ],
    ids=["garbage", "three-parts", "five-parts", "alg-none", "not-json"],
)
@pytest.mark.parametrize("kind", ["psc", "fcplus"])
def test_it_refuses_an_id_token_it_cannot_read_without_a_server_error(
    client, settings, portal_key_pem, person, doctor, raw, kind
):
    provider = LocalProvider(kind).start()
    try:
        settings.FRANCECONNECT_ENCRYPTION_KEY = portal_key_pem
        _configure(settings, **({"psc": provider} if kind == "psc" else {"fc": provider}))
        provider.identity = psc_identity() if kind == "psc" else fc_identity()
        provider.raw_id_token = raw
        assert_refused(client, sign_in(client, provider, "psc" if kind == "psc" else "franceconnect"))
    finally:
        provider.stop()


def test_it_refuses_an_expired_pro_sante_connect_id_token(client, psc, doctor):
    psc.identity = psc_identity()
    psc.id_token_lifetime = -120
    assert_refused(client, sign_in(client, psc, "psc"))


def test_it_refuses_a_callback_whose_state_is_not_the_one_it_sent(client, psc, doctor):
    psc.identity = psc_identity()
    assert_refused(client, sign_in(client, psc, "psc", tamper_state=True))


def test_it_asks_before_leaving_for_the_provider_in_french(client, psc):
    page = client.get("/accounts/psc/login/").content.decode()
    assert "Se connecter avec Pro Santé Connect" in page
    assert "Continuer vers Pro Santé Connect" in page
    assert psc.requests == []


def test_it_says_so_in_french_when_the_provider_does_not_answer(client, psc):
    psc.stop()
    response = client.post("/accounts/psc/login/")
    assert response.status_code == 401
    assert "Le service de connexion ne répond pas pour le moment" in response.content.decode().replace("&#x27;", "'")


def test_it_cannot_start_a_sign_in_with_a_provider_that_is_not_configured(client, settings):
    _configure(settings)
    assert client.post("/accounts/psc/login/").status_code == 404
    assert client.get("/accounts/franceconnect/login/callback/?code=x&state=y").status_code == 404
    assert "Pro Santé Connect" not in client.get("/accounts/login/").content.decode()


# --- FranceConnect+ ---------------------------------------------------------------------


def fc_identity(email: str = "jeanne.martin@exemple.fr", **extra) -> dict:
    return {
        "sub": "b6048e95bb134ec5b1d1e1fa69f287172e91722b9354d637a1bcf2ebb0fd2ef5v1",
        "given_name": "Jeanne Marie",
        "family_name": "MARTIN",
        "birthdate": "1938-04-12",
        "gender": "female",
        "birthplace": "75056",
        "email": email,
        **extra,
    }


def test_it_signs_a_person_in_with_franceconnect_plus(client, fcplus, person, person_user):
    fcplus.identity = fc_identity()
    response = sign_in(client, fcplus, "franceconnect")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person_user.pk)
    assert "Mon espace" in client.get("/mon-espace/").content.decode()
    account = SocialAccount.objects.get()
    assert (account.provider, account.uid, account.user) == ("franceconnect", fc_identity()["sub"], person_user)
    assert "birthplace" not in account.extra_data["userinfo"]
    request = fcplus.authorizations[-1]
    assert request["acr_values"] == "eidas2"
    assert len(request["nonce"]) >= 22 and len(request["state"]) >= 22


def test_it_signs_a_carer_in_with_franceconnect_plus(client, fcplus, carer):
    fcplus.identity = fc_identity("fille@exemple.fr", sub="carer-sub-0001", birthdate="1970-01-01")
    assert sign_in(client, fcplus, "franceconnect").status_code == 302
    assert client.session["_auth_user_id"] == str(carer.pk)


def test_it_publishes_only_the_public_half_of_its_encryption_key(client, fcplus):
    keys = client.get(reverse("franceconnect_jwks")).json()["keys"]
    assert [(k["kty"], k["use"], k["alg"]) for k in keys] == [("RSA", "enc", "RSA-OAEP")]
    assert "d" not in keys[0] and "p" not in keys[0]


def test_it_refuses_a_wrong_nonce_from_franceconnect_plus(client, fcplus, person):
    fcplus.identity = fc_identity()
    fcplus.nonce_override = "n" * 43
    assert_refused(client, sign_in(client, fcplus, "franceconnect"))


def test_it_refuses_franceconnect_at_a_lower_eidas_level(client, fcplus, person):
    fcplus.identity = fc_identity()
    fcplus.acr = "eidas1"
    assert_refused(
        client, sign_in(client, fcplus, "franceconnect"), "Le niveau de sécurité de cette connexion est insuffisant"
    )


@pytest.mark.parametrize("token", ["id_token", "userinfo"])
def test_it_refuses_a_franceconnect_token_with_a_forged_signature(client, fcplus, person, token):
    fcplus.identity = fc_identity()
    fcplus.forge = {token}
    assert_refused(client, sign_in(client, fcplus, "franceconnect"))


def test_it_refuses_franceconnect_tokens_that_are_not_encrypted(client, fcplus, person):
    fcplus.identity = fc_identity()
    fcplus.encrypt = False
    assert_refused(client, sign_in(client, fcplus, "franceconnect"))


def test_it_refuses_franceconnect_tokens_encrypted_for_another_key(client, fcplus, person):
    from jwcrypto import jwk

    fcplus.identity = fc_identity()
    fcplus.encrypt_for = jwk.JWK.generate(kty="RSA", size=2048, kid="someone-else")
    assert_refused(client, sign_in(client, fcplus, "franceconnect"))


def test_it_refuses_an_expired_franceconnect_id_token(client, fcplus, person):
    fcplus.identity = fc_identity()
    fcplus.id_token_lifetime = -120
    assert_refused(client, sign_in(client, fcplus, "franceconnect"))


def test_it_opens_no_account_for_an_identity_it_does_not_know(client, fcplus, person):
    fcplus.identity = fc_identity("inconnue@exemple.fr", sub="unknown-sub")
    users_before = get_user_model().objects.count()
    assert_refused(client, sign_in(client, fcplus, "franceconnect"), "Aucun compte du portail ne correspond")
    assert get_user_model().objects.count() == users_before
    assert not get_user_model().objects.filter(email="inconnue@exemple.fr").exists()


def test_it_does_not_link_on_an_address_the_portal_has_not_verified(client, fcplus, person, person_user):
    person_user.emailaddress_set.update(verified=False)
    fcplus.identity = fc_identity()
    assert_refused(client, sign_in(client, fcplus, "franceconnect"), "Aucun compte du portail ne correspond")


def test_it_refuses_a_person_whose_birth_date_differs_from_the_record(client, fcplus, person):
    fcplus.identity = fc_identity(birthdate="1938-04-13")
    assert_refused(client, sign_in(client, fcplus, "franceconnect"), "ne correspond pas à celle de votre dossier")


def test_it_does_not_open_a_professional_account_with_franceconnect(client, fcplus, nurse):
    fcplus.identity = fc_identity(nurse.email, sub="nurse-sub")
    assert_refused(client, sign_in(client, fcplus, "franceconnect"), "Ce compte est un compte professionnel")


def test_it_lets_the_browser_choose_no_parameter_of_the_authorization_request(client, fcplus, person):
    chosen = urlencode({"acr_values": "eidas1", "redirect_uri": "https://ailleurs.exemple.fr/", "nonce": "court"})
    response = client.post("/accounts/franceconnect/login/?" + urlencode({"auth_params": chosen}))
    sent = parse_qs(urlsplit(response["Location"]).query)
    assert sent["acr_values"] == ["eidas2"]
    assert sent["redirect_uri"] == ["http://testserver/accounts/franceconnect/login/callback/"]
    assert len(sent["nonce"][0]) >= 22


def test_it_lets_a_signed_in_person_link_franceconnect_plus_to_her_account(client, fcplus, person, person_user):
    client.force_login(person_user)
    # FranceConnect+ knows another address: signed in already, she proves the account is hers.
    fcplus.identity = fc_identity("jeanne.perso@exemple.fr")
    response = client.post("/accounts/franceconnect/login/?process=connect")
    at_provider = requests.get(response["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    response = client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert response.status_code == 302
    assert SocialAccount.objects.get().user == person_user
    client.logout()
    assert sign_in(client, fcplus, "franceconnect").status_code == 302
    assert client.session["_auth_user_id"] == str(person_user.pk)
