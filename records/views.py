"""Pages of the whole-record export: ask for it, follow its progress (HTMX polling),
download it while it lasts. The requester only: anyone else gets 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from coordination import access, rules
from coordination.models import Person
from documents.uploads import private_file_response
from records import services
from records.models import RecordExport

EXPORTS_SHOWN = 20


def _person(request: HttpRequest, person_id: int) -> Person:
    return access.require_record_export(request.user, person_id)


def _export(request: HttpRequest, person: Person, export_id: int) -> RecordExport:
    export = RecordExport.objects.filter(pk=export_id, person=person, requested_by=request.user).first()
    if export is None:
        raise Http404
    return export


def _context(request: HttpRequest, person: Person, **extra) -> dict:
    return {
        "person": person,
        "is_person_side": rules.is_person_side(request.user, person),
        "settings_days": settings.RECORDS_EXPORT_DAYS,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest, person_id: int) -> HttpResponse:
    """What an export holds, the form to ask for one, my earlier exports."""
    person = _person(request, person_id)
    if request.method == "POST":
        export = services.export_request(actor=request.user, person=person)
        return redirect("records:export_detail", person.pk, export.pk)
    mine = RecordExport.objects.filter(person=person, requested_by=request.user)[:EXPORTS_SHOWN]
    return render(request, "records/exports.html", _context(request, person, exports=mine))


@login_required
def export_detail(request: HttpRequest, person_id: int, export_id: int) -> HttpResponse:
    person = _person(request, person_id)
    export = _export(request, person, export_id)
    return render(request, "records/export_detail.html", _context(request, person, export=export))


@login_required
def export_status(request: HttpRequest, person_id: int, export_id: int) -> HttpResponse:
    """The progress fragment, polled by HTMX while the export is being prepared."""
    person = _person(request, person_id)
    export = _export(request, person, export_id)
    return render(request, "records/snippets/export_status.html", _context(request, person, export=export))


@login_required
def export_download(request: HttpRequest, person_id: int, export_id: int) -> HttpResponse:
    """The ZIP, to its requester, until it expires (then 410 with a plain sentence)."""
    person = _person(request, person_id)
    export = _export(request, person, export_id)
    if not export.is_downloadable:
        return render(request, "records/export_gone.html", _context(request, person, export=export), status=410)
    services.export_downloaded(actor=request.user, export=export)
    response = private_file_response(
        export.file, content_type="application/zip", filename=f"dossier-{person.pk}-{export.pk}.zip"
    )
    return response
