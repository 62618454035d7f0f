from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """Which navigation the base template shows: professionals' or persons' and carers'."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_kind": None}
    from notifications.views import unread_count

    context = {"nav_kind": "pro" if user.is_professional else "portal", "unread_notifications": unread_count(user)}
    if context["nav_kind"] == "portal":
        from portal.user_portal.menu import PortalMenu

        context["portal_menu"] = PortalMenu(request)
    return context
