"""allauth adapters: no public sign-up; accounts come from administrators or invitations.

National sign-ins (Pro Santé Connect, FranceConnect+) open an existing account only,
chosen by `portal.signin.linking`; what they prove for the MFA rule is recorded in the
session by `portal.signin.assurance`.
"""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from common.notify import notify
from portal.accounts import device_signin_record
from portal.middleware import client_ip
from portal.signin import assurance, linking
from portal.signin.oidc import SignInRefused, random_token

logger = logging.getLogger("portal.signin")

# The owner is told (once an hour at most) after this many wrong passwords, from anywhere.
LOGIN_FAILURES_NOTICE = 5
LOGIN_FAILURES_WINDOW = 3600


class AccountAdapter(DefaultAccountAdapter):
    # allauth's French catalogue leaves this one untranslated.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": "Trop de tentatives de connexion échouées. Réessayez dans quelques minutes.",
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # The per-account limit of LOGIN_FAILED_RATE_LIMIT counts an address *from one
        # client IP*: five wrong passwords slow that guesser down, while the owner, from
        # their own network, still signs in (anyone knowing a nurse's address could
        # otherwise lock her out). The per-IP limit stays as it is.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_ip(request) or '-'}"

    def authentication_failed(self, request, **credentials) -> None:
        """Count wrong passwords per address, from every IP; at the fifth within the hour,
        tell the owner (no detail beyond the fact: no address, no health data)."""
        login = (credentials.get("email") or credentials.get("username") or "").strip().lower()
        if not login:
            return
        key = f"login-failures:{login}"
        cache.add(key, 0, timeout=LOGIN_FAILURES_WINDOW)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            return
        if failures != LOGIN_FAILURES_NOTICE:
            return
        owner = get_user_model().objects.filter(email__iexact=login, is_active=True).first()
        if owner is not None:
            notify("security.login_failures", person=None, recipients=[owner], url=reverse("account_change_password"))

    def login(self, request, user):
        super().login(request, user)

        device_signin_record(user=user, user_agent=request.META.get("HTTP_USER_AGENT", ""))

    def post_login(self, request, user, *, signal_kwargs=None, **kwargs):
        assurance.record(request, user, (signal_kwargs or {}).get("sociallogin"))
        return super().post_login(request, user, signal_kwargs=signal_kwargs, **kwargs)

    def get_login_stages(self) -> list[str]:
        # Same stages as allauth, with a TOTP prompt that a Pro Santé Connect sign-in skips.
        return [
            "portal.signin.assurance.AuthenticateStage" if path == "allauth.mfa.stages.AuthenticateStage" else path
            for path in super().get_login_stages()
        ]


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # National sign-ins only open an existing account; they never create one.
        return False

    def generate_state_param(self, state: dict) -> str:
        # FranceConnect+ asks for at least 22 characters (allauth makes 16).
        return random_token()

    def pre_social_login(self, request, sociallogin) -> None:
        """Link the national identity to its account (or refuse) before allauth goes on."""
        try:
            user = linking.account_for(request, sociallogin)
        except SignInRefused as refusal:
            raise ImmediateHttpResponse(
                render_authentication_error(request, sociallogin.provider, exception=refusal)
            ) from None
        if user is None or sociallogin.is_existing or sociallogin.state.get("process") == AuthProcess.CONNECT:
            return
        sociallogin.connect(request, user)
        logger.info("signin: %s identity linked to user %s", sociallogin.account.provider, user.pk)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        reason = exception.reason if isinstance(exception, SignInRefused) else (error or type(exception).__name__)
        logger.warning("signin: %s sign-in refused (%s)", getattr(provider, "id", provider), reason)
        super().on_authentication_error(
            request, provider, error=error, exception=exception, extra_context=extra_context
        )
