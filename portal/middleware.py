"""Cross-cutting request handling: request context, CSP, idle timeout, mandatory MFA."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from common.request_context import RequestContext, bind, unbind
from portal.accounts import requires_mfa, session_meets_mfa


def _client_ip(request: HttpRequest) -> str | None:
    if settings.SECURE_PROXY_SSL_HEADER:
        # Behind our reverse proxy, the last hop it appended is the client it saw.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        request.request_id = request_id
        token = bind(RequestContext(request_id=request_id, ip=_client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            unbind(token)
        response["X-Request-ID"] = request_id
        return response


STRICT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Django admin and the Swagger UI set a few inline style attributes; scripts stay strict.
RELAXED_STYLE_CSP = STRICT_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            relaxed = request.path.startswith(("/admin/", "/api/docs/"))
            response["Content-Security-Policy"] = RELAXED_STYLE_CSP if relaxed else STRICT_CSP
        response.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        return response


class IdleSessionTimeoutMiddleware:
    """Log out a user inactive for SESSION_IDLE_TIMEOUT seconds.

    The last-seen time is written at most once a minute so that a busy page does not
    write the session on every request.
    """

    KEY = "_last_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(self.KEY)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, "Votre session a expiré après une période d'inactivité. Reconnectez-vous.")
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Session expirée."}, status=401)
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            if last_seen is None or now - last_seen >= 60:
                request.session[self.KEY] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")


class RequireMFAMiddleware:
    """Professionals and administrators must set up MFA before any other page (a Pro Santé
    Connect sign-in meets the rule for its session: portal.accounts.session_meets_mfa)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and requires_mfa(user)
            and not session_meets_mfa(request)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Authentification à deux facteurs obligatoire : activez-la avant d'utiliser l'API."},
                    status=403,
                )
            messages.warning(
                request,
                "Votre compte doit être protégé par une double authentification. Activez-la pour continuer.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
