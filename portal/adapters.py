"""allauth adapters: no public sign-up; accounts come from administrators or invitations."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


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
        from portal.accounts import device_signin_record

        device_signin_record(user=user, user_agent=request.META.get("HTTP_USER_AGENT", ""))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Pro Santé Connect / FranceConnect only sign in an existing account
        # (matched on its verified e-mail address); they never create one.
        return False
