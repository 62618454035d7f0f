from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# The base template's links for a signed-in user: {{ nav_urls.<name with _ for :> }}.
NAV_URLS = (
    "pro_dashboard",
    "coordination:caseload",
    "liaison:feed",
    "exchanges:list",
    "agenda:mine",
    "agenda:booking_requests",
    "coordination:my_structures",
    "documents:inbox",
    "ppa:overdue",
    "admission:offer_search",
    "evaluation:referral_new",
    "notifications:list",
    "mfa_index",
    "account_change_password",
    "account_logout",
)


@functools.lru_cache(maxsize=32)
def _nav_urls(urlconf, script_prefix: str, language: str | None) -> dict[str, str]:
    """Reversed once per URLconf, script prefix and language (all that `reverse` reads):
    the 16 `{% url %}` of every page's menus were about 1 ms of each request (issue 19)."""
    urls = {name.replace(":", "_"): reverse(name) for name in NAV_URLS}
    urls["exchanges_live_conversation"] = reverse("exchanges_live:conversation", args=[0])
    return urls


def nav_urls() -> dict[str, str]:
    return _nav_urls(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())


def navigation(request: HttpRequest) -> dict:
    """Which navigation the base template shows: professionals' or persons' and carers'."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_kind": None}
    from notifications.views import unread_count

    context = {
        "nav_kind": "pro" if user.is_professional else "portal",
        "unread_notifications": unread_count(user),
        "nav_urls": nav_urls(),
    }
    if context["nav_kind"] == "portal":
        from portal.user_portal.menu import PortalMenu

        context["portal_menu"] = PortalMenu(request)
    return context
