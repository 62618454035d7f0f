"""The OpenID Connect core shared by Pro Santé Connect and FranceConnect+.

allauth's generic `openid_connect` provider reads userinfo as JSON only, sends no nonce,
skips the id_token signature when the token came straight from the token endpoint and
knows nothing of `acr` or JWE. Here every token is verified as the national providers
require: the id_token (and a userinfo JWT) is signed with an asymmetric key published
in the provider's JWKS (ES256 or RS256, never `none` or a shared secret); for
FranceConnect+ it is first decrypted (JWE) with the portal's private key; `iss`, `aud`,
`exp`, `iat`, `nonce` and `acr` are checked; userinfo must speak of the same `sub`.
Any failure raises `SignInRefused`, which ends on a French page before any account is
looked up, created or linked.

JOSE is joserfc (pinned in requirements.txt); the HTTP calls go through allauth's
requests session (its timeout, `SOCIALACCOUNT_REQUESTS_TIMEOUT`).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2CallbackView
from django.utils.functional import cached_property
from joserfc import jwe, jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

logger = logging.getLogger("portal.signin")

# ANSSI and both providers' documentation: asymmetric signatures only.
SIGNATURE_ALGORITHMS = ("ES256", "RS256")
# FranceConnect+ encrypts for the service provider's RSA key (RSA-OAEP, A256GCM).
KEY_ENCRYPTION_ALGORITHMS = ("RSA-OAEP", "RSA-OAEP-256")
CONTENT_ENCRYPTION_ALGORITHMS = ("A256GCM",)
# Clock skew tolerated between the provider and us, in seconds.
LEEWAY = 60
# eIDAS levels as the French providers name them, lowest first.
EIDAS_LEVELS = ("eidas1", "eidas2", "eidas3")
# Both providers ask for at least 22 characters; 32 random bytes give 43.
RANDOM_BYTES = 32

GENERIC_REFUSAL = (
    "La connexion n'a pas pu être vérifiée. Aucun compte n'a été ouvert ni modifié. "
    "Réessayez ; si cela recommence, connectez-vous avec votre adresse e-mail et votre mot de passe."
)


class SignInRefused(OAuth2Error):
    """A national sign-in that must not open a session. `reason` is a short code for the
    logs and the tests; `message` is the French sentence shown to the person."""

    def __init__(self, reason: str, message: str = GENERIC_REFUSAL):
        super().__init__(reason)
        self.reason = reason
        self.message = message


def random_token() -> str:
    """A state or nonce: URL-safe, 43 characters."""
    return secrets.token_urlsafe(RANDOM_BYTES)


def levels_from(minimum: str) -> tuple[str, ...]:
    return EIDAS_LEVELS[EIDAS_LEVELS.index(minimum) :]


class NationalProvider(OAuth2Provider):
    """An OpenID Connect provider configured by `server_url` (the issuer, or the full
    discovery URL) that asks for an eIDAS level and checks it on return."""

    discovery_document = "openid-configuration"
    requested_acr: str
    # Whether id_token and userinfo arrive encrypted (JWE) for our key.
    encrypted = False
    # Whether userinfo may be plain JSON (else it must be a JWT).
    userinfo_may_be_json = True
    # Claims kept in SocialAccount.extra_data (data minimisation: not everything sent).
    kept_id_token_claims = ("iss", "sub", "acr", "amr", "auth_time", "iat", "exp")
    kept_userinfo_claims: tuple[str, ...] = ("sub",)
    pkce_enabled_default = True

    @classmethod
    def requested_levels(cls) -> tuple[str, ...]:
        """The levels accepted on return: the requested one or higher."""
        return levels_from(cls.requested_acr)

    @property
    def discovery_url(self) -> str:
        url = self.app.settings["server_url"].rstrip("/")
        if "/.well-known/" in url:
            return url
        return f"{url}/.well-known/{self.discovery_document}"

    def get_auth_params_from_request(self, request, action) -> dict:
        # allauth lets `?auth_params=…` on the login URL add or override parameters of
        # the authorization request (acr_values, even redirect_uri): not for these.
        return self.get_auth_params()

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        # The nonce goes to the provider and into allauth's stashed state (kept in the
        # session for 10 minutes, used once); the callback compares it with the id_token's.
        nonce = random_token()
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        auth_params["acr_values"] = self.requested_acr
        try:
            return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)
        except SignInRefused as refusal:
            # allauth reads the endpoints (our discovery fetch) outside its own error handling.
            return render_authentication_error(request, self, exception=refusal)

    def decryption_key(self):
        """The portal's private key for JWE (FranceConnect+ only)."""
        raise NotImplementedError

    def minimal_data(self, id_token: dict, userinfo: dict) -> dict:
        return {
            "id_token": {k: id_token[k] for k in self.kept_id_token_claims if k in id_token},
            "userinfo": {k: userinfo[k] for k in self.kept_userinfo_claims if k in userinfo},
        }

    def extract_uid(self, data: dict) -> str:
        return str(data["userinfo"]["sub"])

    def extract_common_fields(self, data: dict) -> dict:
        userinfo = data["userinfo"]
        return {"first_name": userinfo.get("given_name", ""), "last_name": userinfo.get("family_name", "")}

    def extract_email_addresses(self, data: dict) -> list:
        # Accounts are found by our own rules (portal.signin.linking), never by an
        # address the provider sends.
        return []


class NationalOAuth2Adapter(OAuth2Adapter):
    provider_id: str
    # The stashed allauth state of this callback (set by NationalCallbackView).
    state: dict | None = None

    def _session(self) -> requests.Session:
        return get_adapter().get_requests_session()

    @cached_property
    def openid_config(self) -> dict:
        url = self.get_provider().discovery_url
        try:
            with self._session() as session:
                response = session.get(url)
                response.raise_for_status()
                config = response.json()
        except (requests.RequestException, ValueError) as error:
            logger.warning("signin: discovery document unreachable at %s: %s", url, error)
            raise SignInRefused(
                "discovery",
                "Le service de connexion ne répond pas pour le moment. Réessayez dans quelques minutes, "
                "ou connectez-vous avec votre adresse e-mail et votre mot de passe.",
            ) from error
        required = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
        if not isinstance(config, dict) or not all(isinstance(config.get(k), str) for k in required):
            raise SignInRefused("discovery")
        return config

    @property
    def authorize_url(self) -> str:
        return self.openid_config["authorization_endpoint"]

    @property
    def access_token_url(self) -> str:
        return self.openid_config["token_endpoint"]

    @property
    def profile_url(self) -> str:
        return self.openid_config["userinfo_endpoint"]

    @property
    def basic_auth(self) -> bool:
        methods = self.openid_config.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return "client_secret_post" not in methods

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        try:
            return super().get_access_token_data(request, app, client, pkce_code_verifier=pkce_code_verifier)
        except (OAuth2Error, requests.RequestException) as error:
            raise SignInRefused("token_endpoint") from error

    def complete_login(self, request, app, token, **kwargs):
        provider = self.get_provider()
        nonce = (self.state or {}).get("nonce")
        if not nonce:
            raise SignInRefused("state")
        raw_id_token = kwargs["response"].get("id_token")
        if not isinstance(raw_id_token, str):
            raise SignInRefused("id_token_missing")
        id_token = self._read_jwt(raw_id_token)
        self._check_id_token(id_token, app.client_id, nonce, provider.requested_levels())
        userinfo = self._fetch_userinfo(token.token, app.client_id, id_token["sub"])
        return provider.sociallogin_from_response(request, provider.minimal_data(id_token, userinfo))

    def _jwks(self) -> KeySet:
        try:
            with self._session() as session:
                response = session.get(self.openid_config["jwks_uri"])
                response.raise_for_status()
                return KeySet.import_key_set(response.json())
        except (requests.RequestException, ValueError, KeyError, TypeError, JoseError) as error:
            raise SignInRefused("jwks") from error

    def _read_jwt(self, value: str) -> dict[str, Any]:
        """Decrypt (FranceConnect+) then verify the signature; returns the claims."""
        provider = self.get_provider()
        value = value.strip()
        if provider.encrypted:
            if value.count(".") != 4:
                raise SignInRefused("not_encrypted")
            try:
                decrypted = jwe.decrypt_compact(
                    value,
                    provider.decryption_key(),
                    algorithms=[*KEY_ENCRYPTION_ALGORITHMS, *CONTENT_ENCRYPTION_ALGORITHMS],
                )
            except Exception as error:  # whatever was sent, it is not a token we can read
                raise SignInRefused("decryption") from error
            value = decrypted.plaintext.decode("ascii", "replace")
        if value.count(".") != 2:
            raise SignInRefused("not_signed")
        try:
            return jwt.decode(value, self._jwks(), algorithms=list(SIGNATURE_ALGORITHMS)).claims
        except SignInRefused:
            raise
        except Exception as error:  # whatever was sent, it is not a token we can trust
            raise SignInRefused("signature") from error

    def _check_id_token(self, claims: dict, client_id: str, nonce: str, accepted_acr: tuple[str, ...]) -> None:
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": self.openid_config["issuer"]},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
            acr={"essential": True, "values": list(accepted_acr)},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise SignInRefused("expired") from error
        except (MissingClaimError, JoseError) as error:
            claim = getattr(error, "claim", "")
            if "acr" in claim:
                raise SignInRefused(
                    "acr",
                    "Le niveau de sécurité de cette connexion est insuffisant pour ce service. "
                    "Aucun compte n'a été ouvert ni modifié.",
                ) from error
            raise SignInRefused("nonce" if "nonce" in claim else f"claim_{claim or 'invalid'}") from error
        # With several audiences, OpenID Connect Core 3.1.3.7 wants azp to be us.
        if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and claims.get("azp") != client_id:
            raise SignInRefused("claim_azp")

    def _fetch_userinfo(self, access_token: str, client_id: str, sub: str) -> dict[str, Any]:
        provider = self.get_provider()
        try:
            with self._session() as session:
                response = session.get(
                    self.profile_url,
                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/jwt, application/json"},
                )
                response.raise_for_status()
        except requests.RequestException as error:
            raise SignInRefused("userinfo") from error
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/jwt":
            claims = self._read_jwt(response.text)
            # A signed userinfo SHOULD carry iss and aud (OpenID Connect Core 5.3.2).
            if "iss" in claims and claims["iss"] != self.openid_config["issuer"]:
                raise SignInRefused("userinfo_iss")
            audience = claims.get("aud")
            if audience is not None and client_id not in (audience if isinstance(audience, list) else [audience]):
                raise SignInRefused("userinfo_aud")
        elif content_type == "application/json" and provider.userinfo_may_be_json:
            try:
                claims = response.json()
            except ValueError as error:
                raise SignInRefused("userinfo") from error
        else:
            raise SignInRefused("userinfo_format")
        if not isinstance(claims, dict) or claims.get("sub") != sub:
            raise SignInRefused("userinfo_sub")
        return claims


class NationalCallbackView(OAuth2CallbackView):
    def _get_state(self, request, provider):
        # allauth does not hand the stashed state to complete_login; the adapter needs
        # its nonce. (If allauth renamed this hook the nonce would be missing and every
        # sign-in refused: it fails closed.)
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


def provider_views(adapter_class: type[NationalOAuth2Adapter]):
    """The login and callback views of one provider; 404 while it is not configured."""
    from allauth.account.internal.decorators import login_not_required
    from allauth.socialaccount.models import SocialApp
    from allauth.socialaccount.providers.oauth2.views import OAuth2LoginView
    from django.http import Http404

    def wrap(view_class):
        @login_not_required
        def view(request, *args, **kwargs):
            try:
                return view_class.adapter_view(adapter_class(request))(request, *args, **kwargs)
            except SocialApp.DoesNotExist:
                raise Http404 from None

        return view

    return wrap(OAuth2LoginView), wrap(NationalCallbackView)
