"""Pro Santé Connect, the ANS's sign-in for health professionals (e-CPS app or CPS card).

Published flow: OpenID Connect authorization code; discovery document at
`<realm>/.well-known/wallet-openid-configuration` (not the standard name);
`acr_values=eidas1`; userinfo comes back as JSON or as a signed JWT; the professional's
national identifier is the userinfo claim `SubjectNameID` (idNatPS: `8` + RPPS for
RPPS-registered professionals).
"""

from __future__ import annotations

import re

from portal.signin.oidc import NationalOAuth2Adapter, NationalProvider, SignInRefused

RPPS_NATIONAL_ID = re.compile(r"8(\d{11})")


def rpps_from_national_id(national_id: str) -> str | None:
    """The RPPS number inside an idNatPS, or None for another kind of identifier
    (ADELI `0…`, structure-bound `3…`) that the portal cannot match."""
    match = RPPS_NATIONAL_ID.fullmatch(national_id or "")
    return match.group(1) if match else None


class ProSanteConnectAdapter(NationalOAuth2Adapter):
    provider_id = "pro_sante_connect"


class ProSanteConnectProvider(NationalProvider):
    id = "pro_sante_connect"
    slug = "psc"
    name = "Pro Santé Connect"
    discovery_document = "wallet-openid-configuration"
    requested_acr = "eidas1"
    kept_userinfo_claims = ("sub", "SubjectNameID", "given_name", "family_name")
    oauth2_adapter_class = ProSanteConnectAdapter

    def get_default_scope(self) -> list[str]:
        return ["openid", "scope_all"]

    def extract_uid(self, data: dict) -> str:
        national_id = data["userinfo"].get("SubjectNameID")
        if not isinstance(national_id, str) or not national_id:
            raise SignInRefused("national_id_missing")
        return national_id
