"""Account rules shared by middleware, views and admin."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings


def requires_mfa(user) -> bool:
    """Administrators and professionals must sign in with a second factor."""
    if user.is_staff or user.is_superuser:
        return True
    return settings.MFA_REQUIRED_FOR_PROFESSIONALS and user.is_professional


def user_has_mfa(user) -> bool:
    return is_mfa_enabled(user, types=["totp"])
