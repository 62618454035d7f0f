"""Pages of the whole-record export: ask for it, follow its progress (HTMX polling),
download it while it lasts. The requester only: anyone else gets 404."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.forms import Form, add_service_errors
from coordination import access, rules
from coordination import services as kernel
from coordination.models import Category, CollectionMethod, Person, RecordDestruction, Structure
from documents.models import Document
from documents.uploads import private_file_response
from records import handover as handovers
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


class LegalHoldForm(Form):
    reason = forms.CharField(
        label="Motif du gel", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@login_required
@require_http_methods(["GET", "POST"])
def legal_hold(request: HttpRequest, person_id: int) -> HttpResponse:
    """The retention state of a record, and the legal hold an administrator of a
    structure that accompanies (or accompanied) the person sets or lifts. Anyone else: 404."""
    person = Person.objects.filter(pk=person_id).first() if 0 < person_id < 2**62 else None
    if person is None or not rules.administered_structures(request.user).filter(accompaniments__person=person).exists():
        raise Http404
    form = LegalHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        hold = request.POST.get("action") == "hold"
        try:
            kernel.legal_hold_set(actor=request.user, person=person, hold=hold, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Gel juridique posé." if hold else "Gel juridique levé.")
            return redirect("records:legal_hold", person.pk)
    destructions = RecordDestruction.objects.filter(person=person)
    return render(
        request,
        "records/legal_hold.html",
        {"person": person, "form": form, "destructions": destructions},
    )


class HandOverForm(Form):
    to_structure = forms.ModelChoiceField(
        label="Structure qui accueille la personne",
        queryset=Structure.objects.none(),
        help_text="Le dossier part vers son adresse MSSanté.",
    )
    with_summary = forms.BooleanField(label="Joindre la synthèse du dossier (PDF)", required=False, initial=True)
    documents = forms.ModelMultipleChoiceField(
        label="Documents à joindre",
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agreement_via = forms.ChoiceField(
        label="Comment la personne a donné son accord",
        choices=[("", "—"), *CollectionMethod.choices],
        required=False,
    )
    agreed = forms.BooleanField(
        label="La personne (ou son représentant légal) est d'accord pour que son dossier soit transmis.",
        required=True,
        error_messages={"required": "L'accord de la personne est nécessaire pour transmettre son dossier."},
    )

    def __init__(self, *args, structures, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_structure"].queryset = structures
        self.fields["documents"].queryset = documents
        self.fields["documents"].label_from_instance = lambda d: f"{d.title} ({d.document_on:%d/%m/%Y})"


@login_required
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, person_id: int) -> HttpResponse:
    """End the accompaniment by a transfer and send the record to the receiving structure
    (its référent only: a circle member otherwise gets 403, anyone else 404)."""
    person = access.get_person_or_404(request.user, person_id, Category.RECORD, path=request.path)
    accompaniment = handovers.ongoing_accompaniment(request.user, person)
    if accompaniment is None:
        raise access.AccessDenied("Seul un référent d'une structure qui accompagne la personne peut la transférer.")
    structures = (
        Structure.objects.filter(is_active=True).exclude(mssante_address="").exclude(pk=accompaniment.structure_id)
    )
    form = HandOverForm(
        request.POST or None,
        structures=structures.order_by("name"),
        documents=handovers.sendable_documents(request.user, person),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = handovers.handover_send(
                actor=request.user,
                accompaniment=accompaniment,
                to_structure=data["to_structure"],
                agreement_via=data["agreement_via"],
                with_summary=data["with_summary"],
                documents=list(data["documents"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Le dossier part vers {done.to_structure.name} par MSSanté ; l'accompagnement est terminé."
            )
            return redirect("coordination:caseload")
    return render(request, "records/handover.html", {"person": person, "form": form, "accompaniment": accompaniment})
