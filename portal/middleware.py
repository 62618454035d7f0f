"""Cross-cutting request handling: request context, CSP, input guard, idle timeout,
mandatory MFA."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render

from common.request_context import RequestContext, bind, unbind
from portal.accounts import requires_mfa, session_meets_mfa


def client_ip(request: HttpRequest) -> str | None:
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
        token = bind(RequestContext(request_id=request_id, ip=client_ip(request)))
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
    write the session on every request. A live stream (`Accept: text/event-stream`, the
    exchanges' open conversation reconnecting every few seconds) is not activity: an
    open tab left alone still ends its session.
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
            is_stream = request.headers.get("Accept", "").startswith("text/event-stream")
            if (last_seen is None or now - last_seen >= 60) and not is_stream:
                request.session[self.KEY] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/i18n/")


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


NUL = "\x00"
MAX_ID = 2**63 - 1
NUL_MESSAGE = "Ce champ contient un caractère interdit (caractère nul) : retirez-le et réessayez."


def refusal(request: HttpRequest, status: int, message: str, errors: dict | None = None) -> HttpResponse:
    """A refused request, in French: JSON for the API ({field: [message]} or {detail}),
    the error page otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse(errors or {"detail": message}, status=status)
    return render(request, "400.html", {"message": message, "code": status}, status=status)


def _json_strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every key and string of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, str(key)
            yield from _json_strings(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))
    elif isinstance(value, str):
        yield path, value


class InputGuardMiddleware:
    """Refuse, before any view, what no view can take, with a French answer:

    - a body larger than the limits (413): DATA_UPLOAD_MAX_MEMORY_SIZE for a form or JSON,
      UPLOAD_REQUEST_MAX_BYTES for a multipart body (files);
    - a NUL character anywhere a text comes in — the path, the query string, a form field,
      an uploaded file's name, a JSON key or string (400 naming the field). Nobody types
      one, PostgreSQL cannot store one, and every page, API operation and future import
      is covered here at once. Forms and serializers refuse it too (Django's and DRF's
      CharField), as a second line.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self._too_large(request) or self._nul(request)
        return refused or self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        # An id in the path beyond a bigint names nothing; the database would refuse the
        # query itself (SQLite raises OverflowError): 404 like any unknown id.
        if any(isinstance(value, int) and not 0 <= value <= MAX_ID for value in (*view_args, *view_kwargs.values())):
            return refusal(request, 404, "Introuvable.")
        return None

    def _too_large(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request, 400, "La taille de la demande est illisible.")
        multipart = request.content_type == "multipart/form-data"
        limit = settings.UPLOAD_REQUEST_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length <= limit:
            return None
        megabytes = max(1, limit // (1024 * 1024))
        what = "Les fichiers envoyés ensemble dépassent" if multipart else "Le texte envoyé dépasse"
        return refusal(request, 413, f"Demande trop volumineuse : {what} {megabytes} Mo.")

    def _nul(self, request: HttpRequest) -> HttpResponse | None:
        if NUL in request.path:
            return refusal(request, 400, "L'adresse demandée contient un caractère interdit.")
        field = self._nul_field(request)
        if field is None:
            return None
        label = field.replace(NUL, "")
        message = f"Le champ « {label} » contient un caractère interdit (caractère nul)."
        return refusal(request, 400, message, {label: [NUL_MESSAGE]})

    @staticmethod
    def _nul_field(request: HttpRequest) -> str | None:
        for key, values in request.GET.lists():
            if NUL in key or any(NUL in value for value in values):
                return key
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            try:
                if request.method == "POST":
                    form, files = request.POST, request.FILES
                elif request.content_type == "application/x-www-form-urlencoded":
                    # Django parses a form body only for POST; the body stays readable.
                    form, files = QueryDict(request.body, encoding=request.encoding), None
                else:
                    # A multipart PUT or PATCH: left to the serializers' CharField checks.
                    return None
            except (MultiPartParserError, ValueError):
                return None  # the view's parser answers 400 for a malformed body
            for key, values in form.lists():
                if NUL in key or any(NUL in value for value in values):
                    return key
            for key, uploads in files.lists() if files else ():
                if NUL in key or any(NUL in (upload.name or "") for upload in uploads):
                    return key
            return None
        if request.content_type == "application/json" or request.content_type.endswith("+json"):
            try:
                document = json.loads(request.body or b"null")
            except (ValueError, UnicodeDecodeError):
                return None  # DRF answers 400 "JSON invalide"
            for path, text in _json_strings(document):
                if NUL in text:
                    return path or "body"
        return None
