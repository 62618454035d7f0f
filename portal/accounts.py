"""Account rules shared by middleware, views and admin."""

from __future__ import annotations

import hashlib

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from portal.models import KnownDevice
from portal.signin.assurance import session_counts_as_second_factor


def requires_mfa(user) -> bool:
    """Administrators and professionals must sign in with a second factor."""
    if user.is_staff or user.is_superuser:
        return True
    return settings.MFA_REQUIRED_FOR_PROFESSIONALS and user.is_professional


def user_has_mfa(user) -> bool:
    return is_mfa_enabled(user, types=["totp"])


@transaction.atomic
def device_signin_record(*, user, user_agent: str) -> bool:
    """Remember the browser a user signed in from; tell them when it is a new one
    (not for their very first device). Returns True for a new device."""
    fingerprint = hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()
    now = timezone.now()
    device, created = KnownDevice.objects.get_or_create(
        user=user,
        fingerprint=fingerprint,
        defaults={"label": user_agent[:200], "first_seen_at": now, "last_seen_at": now},
    )
    if not created:
        KnownDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        return False
    if KnownDevice.objects.filter(user=user).count() > 1:
        notify("security.new_device", person=None, recipients=[user], url=reverse("account_change_password"))
    return True


def session_meets_mfa(request: HttpRequest) -> bool:
    """The MFA rule is met by a TOTP authenticator on the account, or, for this session
    only, by a Pro Santé Connect sign-in at eIDAS level (see portal.signin.assurance)."""
    return user_has_mfa(request.user) or session_counts_as_second_factor(request)
