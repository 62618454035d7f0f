"""What a national sign-in proves, for the rule that professionals use a second factor.

Pro Santé Connect only authenticates with two factors (the CPS card and its PIN, or the
e-CPS app unlocked by its code on the professional's phone) and says so with
`acr=eidas1`, checked in `portal.signin.oidc`. A professional who signed in that way
has met the MFA rule *for that session*: the session records the provider, the verified
level and the user, `RequireMFAMiddleware` accepts it, and allauth does not ask for the
TOTP code on top. A password sign-in in the same browser later gets nothing from it
(the record is removed at every sign-in that is not such a one, and a session ends with
its sign-in). FranceConnect+ does not count: the MFA rule concerns professional
accounts, which FranceConnect+ does not open.
"""

from __future__ import annotations

import time

from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage
from django.http import HttpRequest

from portal.signin.psc.provider import ProSanteConnectProvider

SESSION_KEY = "signin_assurance"
SECOND_FACTOR_PROVIDERS = {ProSanteConnectProvider.id: ProSanteConnectProvider}


def _verified_acr(sociallogin) -> str | None:
    """The acr of a national sign-in that counts as a second factor, else None."""
    if sociallogin is None or not hasattr(sociallogin, "account"):
        return None
    provider = SECOND_FACTOR_PROVIDERS.get(sociallogin.account.provider)
    if provider is None:
        return None
    acr = (sociallogin.account.extra_data or {}).get("id_token", {}).get("acr")
    # Checked already when the id_token was read; checked again because this decides MFA.
    return acr if acr in provider.requested_levels() else None


def record(request: HttpRequest, user, sociallogin) -> None:
    """At every sign-in: keep what a national sign-in proved, forget any older record."""
    acr = _verified_acr(sociallogin)
    if acr is None:
        request.session.pop(SESSION_KEY, None)
        return
    request.session[SESSION_KEY] = {
        "provider": sociallogin.account.provider,
        "acr": acr,
        "user_id": user.pk,
        "at": int(time.time()),
    }


def session_counts_as_second_factor(request: HttpRequest) -> bool:
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("user_id") != request.user.pk:
        return False
    provider = SECOND_FACTOR_PROVIDERS.get(entry.get("provider"))
    return provider is not None and entry.get("acr") in provider.requested_levels()


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's TOTP prompt, skipped for a sign-in that already had two factors."""

    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if _verified_acr(sociallogin) is not None:
            return False
        return super()._should_handle(request)
