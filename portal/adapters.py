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

from portal.accounts import device_signin_record
from portal.signin import assurance, linking
from portal.signin.oidc import SignInRefused, random_token

logger = logging.getLogger("portal.signin")


class AccountAdapter(DefaultAccountAdapter):
    # allauth's French catalogue leaves this one untranslated.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": "Trop de tentatives de connexion échouées. Réessayez dans quelques minutes.",
    }

    def is_open_for_signup(self, request) -> bool:
        return False

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
