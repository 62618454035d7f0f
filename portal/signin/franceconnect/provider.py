"""FranceConnect+, the State's sign-in for citizens at the eIDAS substantial level.

Published flow: OpenID Connect authorization code; `acr_values=eidas2`, the returned
`acr` must be eidas2 or eidas3; `state` and `nonce` of at least 22 characters; the
id_token and the userinfo are signed (ES256) by FranceConnect+ and encrypted (JWE,
RSA-OAEP with A256GCM) for the service provider's public key, which the portal publishes
at `/accounts/franceconnect/jwks/` (the private key is `FRANCECONNECT_ENCRYPTION_KEY`).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from joserfc.jwk import RSAKey

from portal.signin.oidc import NationalOAuth2Adapter, NationalProvider, SignInRefused


@lru_cache(maxsize=4)
def _load_key(pem: str) -> RSAKey:
    key = RSAKey.import_key(pem, parameters={"use": "enc"})
    if not key.is_private:
        raise ValueError("FRANCECONNECT_ENCRYPTION_KEY must be a private RSA key")
    key.ensure_kid()
    return key


def encryption_key() -> RSAKey | None:
    """The portal's RSA key for FranceConnect+'s JWE, or None when not configured."""
    pem = getattr(settings, "FRANCECONNECT_ENCRYPTION_KEY", "")
    return _load_key(pem) if pem else None


def public_jwks() -> dict:
    key = encryption_key()
    if key is None:
        return {"keys": []}
    return {"keys": [{**key.as_dict(private=False), "use": "enc", "alg": "RSA-OAEP"}]}


class FranceConnectPlusAdapter(NationalOAuth2Adapter):
    provider_id = "franceconnect"


class FranceConnectPlusProvider(NationalProvider):
    id = "franceconnect"
    slug = "franceconnect"
    name = "FranceConnect+"
    requested_acr = "eidas2"
    encrypted = True
    userinfo_may_be_json = False
    kept_userinfo_claims = ("sub", "given_name", "family_name", "birthdate", "email")
    oauth2_adapter_class = FranceConnectPlusAdapter

    def get_default_scope(self) -> list[str]:
        return ["openid", "given_name", "family_name", "birthdate", "email"]

    def decryption_key(self) -> RSAKey:
        key = encryption_key()
        if key is None:
            raise SignInRefused("no_encryption_key")
        return key
