"""Admission requests: sent by the person, a carer, a legal representative or a
professional of the circle ("Mes demandes d'admission"), answered by each structure
(its incoming list and each request's file).

The structure reads the file through the gate's "admission" scope while its copy is
open (then 404), through the matrix once it has admitted the person; each read is logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from admission import selectors, services
from admission.forms import (
    AdmitCopyForm,
    AnswerForm,
    IncomingFilterForm,
    RequesterAnswerForm,
    RequestForm,
    WithdrawForm,
)
from admission.models import (
    OPEN_STATUSES,
    AdmissionAttachment,
    AdmissionCopy,
    AdmissionEvent,
    AdmissionRequest,
    AdmissionStatus,
)
from admission.scope import SCOPE
from admission.views import professional_required
from common.forms import add_service_errors
from coordination import access, rules
from coordination.models import CarerLink, Category, Person, Structure
from documents import uploads
from reference.models import SerafinCode, SerafinKind

PAGE_SIZE = 25

# What the requester reads, in plain words.
PLAIN_STATUS = {
    AdmissionStatus.SENT: "Envoyée. La structure ne l'a pas encore ouverte.",
    AdmissionStatus.RECEIVED: "Reçue. La structure a ouvert votre demande.",
    AdmissionStatus.UNDER_REVIEW: "En cours d'examen par la structure.",
    AdmissionStatus.INFO_REQUESTED: "La structure vous demande des informations. Répondez-lui plus bas.",
    AdmissionStatus.WAITING_LIST: "Sur liste d'attente.",
    AdmissionStatus.ACCEPTED: "Acceptée. La structure propose une date d'entrée.",
    AdmissionStatus.REFUSED: "Refusée.",
    AdmissionStatus.WITHDRAWN: "Vous avez retiré cette demande.",
    AdmissionStatus.ADMITTED: "Admission faite : la structure accompagne maintenant la personne.",
}


def _requestable_persons(user):
    """Persons the user may ask an admission for: themself, those they are a carer of,
    and, for a professional, those whose record they read."""
    if not getattr(user, "is_authenticated", False):
        return Person.objects.none()
    side = Q(user=user) | Q(pk__in=CarerLink.objects.filter(user=user, ended_on__isnull=True).values("person_id"))
    if rules.is_professional(user):
        return Person.objects.filter(
            side | Q(pk__in=access.persons_visible_to(user, Category.RECORD).values("pk"))
        ).distinct()
    return Person.objects.filter(side)


def _listed_structures():
    """Structures of the directory (the service refuses those that take no request, by name)."""
    return Structure.objects.filter(is_active=True, offer__is_published=True).order_by("name")


def _uploaded(form) -> list:
    upload = form.cleaned_data.get("document")
    return [(form.cleaned_data.get("document_title", ""), upload)] if upload else []


# --- The requester ----------------------------------------------------------------------------------


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    """The admission file, sent to the structures chosen (one or several)."""
    persons = _requestable_persons(request.user).order_by("birth_name", "pk")
    if not persons.exists():
        raise Http404
    asked = [*request.GET.getlist("structure"), *request.POST.getlist("structures")]
    basket = [value for value in asked if value.isdigit()][:10]
    listed = _listed_structures()
    chosen = list(listed.filter(pk__in=basket).select_related("offer")) if basket else []
    departments = {s.offer.department for s in chosen}
    nearby = listed.filter(offer__accepts_requests=True)
    if departments:
        nearby = nearby.filter(offer__department__in=departments)
    needs = SerafinCode.objects.filter(kind=SerafinKind.NEED, depth__lte=2).order_by("code")
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        structures=listed,
        needs=needs,
        with_agreement=rules.is_professional(request.user),
        persons=persons,
        initial={"structures": chosen, "person": request.GET.get("personne") or persons.first()},
    )
    # Show the structures of the basket and those of the same departments (a bounded list).
    form.fields["structures"].choices = [
        (s.pk, f"{s.name} ({s.get_kind_display()})") for s in list(dict.fromkeys([*chosen, *nearby[:40]]))
    ]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            admission_request = services.create_request(
                actor=request.user,
                person=data["person"],
                structures=list(data["structures"]),
                message=data["message"],
                needs=data["needs"],
                mdph_reference=data["mdph_reference"],
                mdph_decided_on=data["mdph_decided_on"],
                mdph_valid_until=data["mdph_valid_until"],
                agreement_via=data.get("agreement_via", ""),
                agreement_note=data.get("agreement_note", ""),
                attachments=_uploaded(form),
                source="pro" if rules.is_professional(request.user) else "portal",
            )
        except ValidationError as error:
            add_service_errors(form, error, renames={"documents": "document"})
        else:
            count = len(data["structures"])
            messages.success(
                request,
                f"Votre demande est envoyée à {count} structure{'s' if count > 1 else ''}. "
                "Vous serez prévenu·e à chaque réponse.",
            )
            return redirect("admission:my_request", request_id=admission_request.pk)
    return render(
        request,
        "admission/request_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    """« Mes demandes d'admission »: each structure's status in plain French."""
    requests = (
        selectors.requests_of(request.user)
        .select_related("person")
        .prefetch_related(Prefetch("copies", queryset=AdmissionCopy.objects.select_related("structure").order_by("pk")))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    for admission_request in page.object_list:
        for copy in admission_request.copies.all():
            copy.plain_status = PLAIN_STATUS[copy.status]
    return render(request, "admission/my_requests.html", {"page": page})


def _my_request(request: HttpRequest, request_id) -> AdmissionRequest:
    return get_object_or_404(selectors.requests_of(request.user).select_related("person"), pk=request_id)


@login_required
def my_request(request: HttpRequest, request_id: int) -> HttpResponse:
    admission_request = _my_request(request, request_id)
    copies = list(
        admission_request.copies.select_related("structure").prefetch_related(
            Prefetch("events", queryset=AdmissionEvent.objects.select_related("by").order_by("at", "pk"))
        )
    )
    admitted = [c for c in copies if c.status == AdmissionStatus.ADMITTED]
    others = []
    if admitted:
        others = list(services.other_open_copies(admitted[0]).filter(request__in=selectors.requests_of(request.user)))
    for copy in copies:
        copy.plain_status = PLAIN_STATUS[copy.status]
        copy.answer_form = (
            RequesterAnswerForm(prefix=f"c{copy.pk}") if copy.status == AdmissionStatus.INFO_REQUESTED else None
        )
        copy.withdraw_form = WithdrawForm(prefix=f"w{copy.pk}") if copy.is_open else None
    return render(
        request,
        "admission/my_request.html",
        {
            "admission_request": admission_request,
            "copies": copies,
            "others": others,
            "attachments": admission_request.attachments.all(),
            "needs": admission_request.needs.order_by("code"),
        },
    )


@login_required
@require_POST
def my_request_answer(request: HttpRequest, request_id: int, copy_id: int) -> HttpResponse:
    admission_request = _my_request(request, request_id)
    copy = get_object_or_404(AdmissionCopy, pk=copy_id, request=admission_request)
    form = RequesterAnswerForm(request.POST, request.FILES, prefix=f"c{copy.pk}")
    if form.is_valid():
        try:
            services.copy_requester_answer(
                actor=request.user, copy=copy, message=form.cleaned_data["message"], attachments=_uploaded(form)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Votre réponse est envoyée à {copy.structure.name}.")
    else:
        messages.error(request, "Votre réponse n'a pas pu être envoyée : vérifiez le document.")
    return redirect("admission:my_request", request_id=admission_request.pk)


@login_required
@require_POST
def my_request_withdraw(request: HttpRequest, request_id: int, copy_id: int) -> HttpResponse:
    admission_request = _my_request(request, request_id)
    copy = get_object_or_404(AdmissionCopy.objects.select_related("structure"), pk=copy_id)
    if copy.request.person_id != admission_request.person_id:
        raise Http404
    form = WithdrawForm(request.POST, prefix=f"w{copy.pk}")
    form.is_valid()
    try:
        services.copy_withdraw(actor=request.user, copy=copy, message=form.cleaned_data.get("message", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Demande à {copy.structure.name} retirée.")
    return redirect("admission:my_request", request_id=admission_request.pk)


@login_required
def my_request_document(request: HttpRequest, request_id: int, attachment_id: int) -> HttpResponse:
    admission_request = _my_request(request, request_id)
    attachment = get_object_or_404(AdmissionAttachment, pk=attachment_id, request=admission_request)
    return uploads.private_file_response(
        attachment.file, content_type=attachment.content_type, filename=attachment.title
    )


# --- The structure ------------------------------------------------------------------------------------


@professional_required
def incoming(request: HttpRequest) -> HttpResponse:
    """Requests received by my structures, filtered by status, date, public. A closed
    request no longer names the person (its file is no longer open to the structure)."""
    structures = selectors.admitting_structures(request.user).order_by("name")
    if not structures.exists():
        raise Http404
    form = IncomingFilterForm(request.GET or None, structures=structures)
    copies = selectors.incoming_copies(request.user).select_related("structure", "request__person")
    if form.is_valid():
        data = form.cleaned_data
        if data["status"] == "open":
            copies = copies.filter(status__in=OPEN_STATUSES)
        elif data["status"]:
            copies = copies.filter(status=data["status"])
        if data["structure"]:
            copies = copies.filter(structure=data["structure"])
        if data["since"]:
            copies = copies.filter(created_at__date__gte=data["since"])
        if data["until"]:
            copies = copies.filter(created_at__date__lte=data["until"])
        today = timezone.localdate()
        if data["public"] == "minor":
            copies = copies.filter(request__person__birth_date__gt=today.replace(year=today.year - 18))
        elif data["public"] == "adult":
            copies = copies.filter(
                request__person__birth_date__lte=today.replace(year=today.year - 18),
                request__person__birth_date__gt=today.replace(year=today.year - 60),
            )
        elif data["public"] == "older":
            copies = copies.filter(request__person__birth_date__lte=today.replace(year=today.year - 60))
    copies = copies.order_by("-updated_at", "-pk")
    page = Paginator(copies, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for copy in page.object_list:
        copy.names_person = copy.status == AdmissionStatus.ADMITTED or (copy.is_open and copy.access_until > now)
    template = "admission/snippets/incoming_results.html" if request.htmx else "admission/incoming.html"
    return render(request, template, {"form": form, "page": page})


def _open_copy(request: HttpRequest, copy_id, category: str = Category.RECORD) -> tuple[AdmissionCopy, access.Access]:
    """The copy and the gate's answer: the admission scope while open, the matrix after
    an admission; 404 otherwise (a closed request's file is no longer the structure's)."""
    copy = get_object_or_404(
        AdmissionCopy.objects.select_related("structure", "request__person", "request__created_by"),
        pk=copy_id,
        structure__in=selectors.admitting_structures(request.user),
    )
    grant = access.require(
        request.user, copy.request.person_id, category, "read", path=request.path, scope=(SCOPE, copy.pk)
    )
    return copy, grant


@professional_required
def copy_detail(request: HttpRequest, copy_id: int) -> HttpResponse:
    copy, grant = _open_copy(request, copy_id)
    if copy.status == AdmissionStatus.SENT:
        copy = services.copy_mark_received(actor=request.user, copy=copy)
    return _render_copy(request, copy, grant.person)


def _render_copy(request, copy, person, *, answer_form=None, admit_form=None, status=200):
    admission_request = copy.request
    return render(
        request,
        "admission/copy_detail.html",
        {
            "copy": copy,
            "person": person,
            "admission_request": admission_request,
            "needs": admission_request.needs.order_by("code"),
            "attachments": admission_request.attachments.select_related("uploaded_by"),
            "events": copy.events.select_related("by").order_by("at", "pk"),
            "answer_form": answer_form or (AnswerForm() if copy.status in services.STAFF_TRANSITIONS else None),
            "admit_form": admit_form
            or (
                AdmitCopyForm(initial={"entered_on": copy.proposed_entry_on})
                if copy.status == AdmissionStatus.ACCEPTED
                else None
            ),
            "other_structures": admission_request.copies.exclude(pk=copy.pk).count(),
            "is_admitted": copy.status == AdmissionStatus.ADMITTED,
        },
        status=status,
    )


@professional_required
@require_POST
def copy_answer(request: HttpRequest, copy_id: int) -> HttpResponse:
    copy, grant = _open_copy(request, copy_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.copy_answer(actor=request.user, copy=copy, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Réponse enregistrée ; le demandeur est prévenu.")
            return redirect("admission:copy", copy_id=copy.pk)
    return _render_copy(request, copy, grant.person, answer_form=form, status=400)


@professional_required
@require_POST
def copy_admit(request: HttpRequest, copy_id: int) -> HttpResponse:
    copy, grant = _open_copy(request, copy_id)
    form = AdmitCopyForm(request.POST)
    if form.is_valid():
        try:
            services.copy_admit(actor=request.user, copy=copy, entered_on=form.cleaned_data["entered_on"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Admission faite : la structure accompagne la personne, son équipe est dans son cercle."
            )
            return redirect("coordination:person", person_id=copy.request.person_id)
    return _render_copy(request, copy, grant.person, admit_form=form, status=400)


@professional_required
def copy_document(request: HttpRequest, copy_id: int, attachment_id: int) -> HttpResponse:
    copy, _grant = _open_copy(request, copy_id, Category.DOCUMENTS)
    attachment = get_object_or_404(AdmissionAttachment, pk=attachment_id, request_id=copy.request_id)
    return uploads.private_file_response(
        attachment.file, content_type=attachment.content_type, filename=attachment.title
    )
