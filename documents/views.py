"""Pages of the person's documents. Every page loads the person through the gate
(category `documents`); files are served only here, never from a public URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access
from coordination.models import Category, CircleMember, Structure
from coordination.views import professional_required
from documents import dmp
from documents import selectors as document_selectors
from documents import services as document_services
from documents.forms import (
    DocumentFilterForm,
    DocumentUploadForm,
    MssanteForm,
    NewVersionForm,
    ReasonForm,
)
from documents.models import DmpShare, DmpShareStatus, Document, DocumentStatus
from documents.uploads import private_file_response

PAGE_SIZE = 25


def _load(request, document_id: int, action: str = "read") -> Document:
    document = get_object_or_404(Document.objects.select_related("person"), pk=document_id)
    access.require(request.user, document.person, Category.DOCUMENTS, action, path=request.path)
    if not document_selectors.can_see(request.user, document):
        raise Http404
    return document


def _error_message(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@professional_required
def document_list(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's documents: filters (type, status, period), upload."""
    try:
        person_id = int(person_id)
    except (TypeError, ValueError):
        raise Http404 from None
    grant = access.require(request.user, person_id, Category.DOCUMENTS, "read", path=request.path, probe_write=True)
    person, can_write = grant.person, grant.can_write
    form = None
    if can_write:
        form = DocumentUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                document = document_services.document_create(
                    actor=request.user,
                    person=person,
                    doc_type=data["doc_type"],
                    title=data["title"],
                    upload=data["file"],
                    document_on=data["document_on"],
                    validate=data["validate"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    "Document ajouté." if document.status == DocumentStatus.DRAFT else "Document ajouté et validé.",
                )
                return redirect("documents:detail", document_id=document.pk)
    elif request.method == "POST":
        raise access.AccessDenied("Vous n'avez pas le droit d'ajouter des documents à ce dossier.")
    filters = DocumentFilterForm(request.GET or None)
    documents = document_selectors.with_list_details(
        filters.apply(document_selectors.documents_of(request.user, person))
    ).order_by("-document_on", "-pk")
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    for document in page.object_list:
        document.dmp_label = DmpShareStatus(document.dmp_status).label if document.dmp_status else ""
    return render(
        request,
        "documents/list.html",
        {
            "person": person,
            "page": page,
            "filters": filters,
            "form": form,
            "can_write": can_write,
        },
        status=400 if form is not None and form.errors else 200,
    )


@professional_required
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    """One document: its versions, its DMP outbox items, its MSSanté sendings, actions."""
    document = _load(request, document_id)
    can_write = access.check(request.user, document.person, Category.DOCUMENTS, "write") is not None
    versions = []
    cursor = document
    # The chain back to the first version (a handful of rows).
    while cursor.replaces_id:
        cursor = Document.objects.select_related("author").get(pk=cursor.replaces_id)
        versions.append(cursor)
    newer = Document.objects.filter(replaces=document).first()
    shares = list(document.dmp_shares.select_related("created_by", "cancelled_by"))
    # Known MSSanté addresses: the circle's professionals and structures, and the accompanying structures.
    addresses = (
        sorted(
            {
                *CircleMember.objects.active()
                .filter(person=document.person)
                .exclude(professional__mssante_address="")
                .filter(professional__isnull=False)
                .values_list("professional__mssante_address", flat=True),
                *Structure.objects.filter(
                    Q(accompaniments__person=document.person, accompaniments__ended_on__isnull=True)
                    | Q(circle_memberships__person=document.person, circle_memberships__ended_at__isnull=True)
                )
                .exclude(mssante_address="")
                .values_list("mssante_address", flat=True),
            }
        )
        if can_write
        else []
    )
    sendings = list(document.mssante_sendings.select_related("sent_by"))
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "person": document.person,
            "can_write": can_write,
            "versions": versions,
            "newer": newer,
            "shares": shares,
            "sendings": sendings,
            "reason_form": ReasonForm(),
            "mssante_form": MssanteForm(addresses=addresses),
            "is_author": request.user.pk in (document.author_id, document.validated_by_id),
            "dmp_simulated": dmp.is_simulated(),
        },
    )


@professional_required
@require_POST
def document_validate(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _load(request, document_id, "write")
    try:
        document_services.document_validate(actor=request.user, document=document)
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, "Document validé.")
    return redirect("documents:detail", document_id=document.pk)


@professional_required
def document_new_version(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _load(request, document_id, "write")
    form = NewVersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = document_services.document_replace(
                actor=request.user,
                document=document,
                upload=data["file"],
                title=data["title"],
                document_on=data["document_on"],
                validate=data["validate"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Version {new.version} enregistrée.")
            return redirect("documents:detail", document_id=new.pk)
    return render(
        request,
        "documents/new_version.html",
        {"document": document, "person": document.person, "form": form},
        status=400 if form.errors else 200,
    )


@professional_required
@require_POST
def document_withdraw(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _load(request, document_id, "write")
    try:
        document_services.document_withdraw(
            actor=request.user, document=document, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, "Document retiré.")
    return redirect("documents:detail", document_id=document.pk)


@professional_required
@require_POST
def document_send_mssante(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _load(request, document_id, "write")
    form = MssanteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Adresse MSSanté invalide.")
        return redirect("documents:detail", document_id=document.pk)
    try:
        document_services.document_send_mssante(
            actor=request.user,
            document=document,
            recipient_address=form.cleaned_data["recipient_address"],
            recipient_label=form.cleaned_data["recipient_label"],
        )
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, "Envoi par MSSanté demandé. Son état s'affiche ci-dessous.")
    return redirect("documents:detail", document_id=document.pk)


@professional_required
@require_POST
def dmp_share_cancel(request: HttpRequest, share_id: int) -> HttpResponse:
    share = get_object_or_404(DmpShare.objects.select_related("document__person"), pk=share_id)
    _load(request, share.document_id, "write")
    try:
        document_services.dmp_share_cancel(actor=request.user, share=share)
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, "Envoi au DMP annulé : le document ne sera pas partagé.")
    return redirect("documents:detail", document_id=share.document_id)


@professional_required
def documents_inbox(request: HttpRequest) -> HttpResponse:
    """Documents deposited on the portal, waiting for my review (as referent)."""
    documents = list(document_selectors.inbox(request.user)[:200])
    return render(request, "documents/inbox.html", {"documents": documents, "reason_form": ReasonForm()})


@professional_required
@require_POST
def document_review(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _load(request, document_id, "write")
    accept = request.POST.get("decision") == "accept"
    try:
        document_services.document_review(
            actor=request.user, document=document, accept=accept, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(
            request, "Document accepté dans le dossier." if accept else "Document refusé ; la personne verra le motif."
        )
    return redirect("documents:inbox")


@login_required
def download(request: HttpRequest, document_id: int) -> FileResponse:
    """The file, only through the gate: PDFs as downloads, images inline."""
    document = _load(request, document_id)
    extension = document.file.name.rsplit(".", 1)[-1]
    return private_file_response(
        document.file,
        content_type=document.content_type,
        filename=f"document-{document.pk}-v{document.version}.{extension}",
    )
