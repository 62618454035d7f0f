from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coordination import access
from portal import dashboard
from portal.health import check_broker, check_cache, check_database, check_storage, heartbeat_warnings
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
    """The professional's day: what waits for them, each section linking to where it is
    done; a structure administrator also sees one structure's figures (`?structure=`)."""
    if not request.user.is_professional:
        return redirect("home")
    reach = dashboard.reach_for(request.user)  # the persons the page may show, read once
    day = dashboard.professional_day(request.user, path=request.path, reach=reach)
    structures = dashboard.administered(request.user)
    structure = None
    if structures:
        wanted = request.GET.get("structure", "")
        structure = next((s for s in structures if str(s.pk) == wanted), structures[0])
    return render(
        request,
        "portal/pro_dashboard.html",
        {
            "day": day,
            "structures": structures,
            "structure": structure,
            "figures": dashboard.structure_figures(request.user, structure, reach=reach) if structure else [],
        },
    )


@login_required
@require_GET
def pro_structure_export(request: HttpRequest, structure_id: int, slug: str) -> HttpResponse:
    """One of the structure's lists as CSV, for its administrators only (404 otherwise)."""
    if not request.user.is_professional or slug not in dashboard.EXPORT_SLUGS:
        raise Http404
    structure = access.require_structure_admin(request.user, structure_id)
    title, rows, persons = dashboard.export_rows(request.user, structure, slug)
    access.log_many(
        request.user,
        {p.pk: p for p in persons}.values(),
        dashboard.EXPORT_CATEGORY[slug],
        path=request.path,
        via=dashboard.EXPORT_VIA.get(slug, ""),
    )
    response = StreamingHttpResponse(dashboard.csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{title}-{structure.pk}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Readiness (its services) is /readyz."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 when the database, the cache, the broker or the private storage does
    not answer; the worker's and beat's signs of life are warnings only."""
    checks = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
        "storage": check_storage(),
    }
    ready = all(ok for ok, _detail in checks.values())
    body: dict = {"status": "ok" if ready else "error"}
    body.update({name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()})
    body["warnings"] = heartbeat_warnings() if checks["database"][0] else {}
    return JsonResponse(body, status=200 if ready else 503)


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
