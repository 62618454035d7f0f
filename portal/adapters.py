"""allauth adapters: no public sign-up; accounts come from administrators or invitations."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from common.notify import notify
from portal.middleware import client_ip

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
        from coordination.services import device_signin_record

        device_signin_record(user=user, user_agent=request.META.get("HTTP_USER_AGENT", ""))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Pro Santé Connect / FranceConnect only sign in an existing account
        # (matched on its verified e-mail address); they never create one.
        return False
