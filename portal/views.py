from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.health import check_broker, check_database
from portal.middleware import refusal


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send professionals to their dashboard and persons and carers to their space."""
    if request.user.is_professional:
        return redirect("pro_dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("portal_home")


@login_required
def pro_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_professional:
        return redirect("home")
    return render(request, "portal/pro_dashboard.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = check_database()
    broker_ok, broker_detail = check_broker()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if healthy else 503,
    )


def error_400(request, exception=None):
    """Also what Django answers when a body passes its own limits (read after the input
    guard, e.g. a chunked body), in French, as JSON for the API."""
    if isinstance(exception, RequestDataTooBig):
        return refusal(request, 413, "Demande trop volumineuse : envoyez moins de texte ou des fichiers plus petits.")
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return refusal(request, 400, "Demande refusée : elle contient trop de champs ou de fichiers.")
    if request.path.startswith("/api/"):
        return refusal(request, 400, "Demande incorrecte.")
    return render(request, "400.html", status=400)


def error_403(request, exception=None):
    # The reason given by the access gate is safe to show (it names no data).
    reason = str(exception) if exception and getattr(exception, "is_public", False) else ""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason or "Accès refusé."}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def error_404(request, exception=None):
    # An API client gets JSON even for an address no route matches.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Introuvable."}, status=404)
    return render(request, "404.html", status=404)


def error_500(request):
    import sys

    from django.db import InterfaceError, OperationalError

    from common.cache import CacheUnavailable

    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError | CacheUnavailable):
        # A dependency is down (database unreachable, sign-in counters unavailable): a
        # plain "try again in a moment", never a traceback (issue #25).
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": "Service momentanément indisponible : réessayez dans un instant."})
            response.status_code = 503
        else:
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Erreur du serveur : réessayez plus tard."}, status=500)
    # No context processors: they may need the database that just failed.
    return HttpResponseServerError(loader.get_template("500.html").render())
