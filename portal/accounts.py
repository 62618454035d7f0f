"""Account rules shared by middleware, views and admin."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest

from portal.signin.assurance import session_counts_as_second_factor


def requires_mfa(user) -> bool:
    """Administrators and professionals must sign in with a second factor."""
    if user.is_staff or user.is_superuser:
        return True
    return settings.MFA_REQUIRED_FOR_PROFESSIONALS and user.is_professional


def user_has_mfa(user) -> bool:
    return is_mfa_enabled(user, types=["totp"])


def session_meets_mfa(request: HttpRequest) -> bool:
    """The MFA rule is met by a TOTP authenticator on the account, or, for this session
    only, by a Pro Santé Connect sign-in at eIDAS level (see portal.signin.assurance)."""
    return user_has_mfa(request.user) or session_counts_as_second_factor(request)
