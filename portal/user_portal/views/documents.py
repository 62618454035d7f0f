"""My documents: the contract first, PPA PDFs, deposits to review."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from common.forms import add_service_errors
from coordination import access, news
from coordination.models import (
    Category,
    RecordVisit,
)
from documents import selectors as document_selectors
from documents import services as document_services
from documents.forms import PortalUploadForm
from documents.models import DocumentStatus, DocumentType
from portal.user_portal.spaces import open_space, page_context, portal_page

CONTRACT_TYPES = (DocumentType.STAY_CONTRACT, DocumentType.DIPC, DocumentType.CAST)


DOCUMENTS_SHOWN = 200


DEPOSITS_SHOWN = 50


@portal_page
def documents(request: HttpRequest) -> HttpResponse:
    """The contract first, then the PPA documents and the other validated documents; my
    deposits with their review status; a form to send a document (goes to review)."""
    grant = open_space(request, Category.DOCUMENTS, probe_write=True)
    person, can_write = grant.person, grant.can_write
    form = PortalUploadForm(request.POST or None, request.FILES or None) if can_write else None
    if request.method == "POST":
        if form is None:
            access.require(request.user, person, Category.DOCUMENTS, "write", path=request.path)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document_services.document_create(
                    actor=request.user,
                    person=person,
                    doc_type=data["doc_type"],
                    title=data["title"],
                    upload=data["file"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Document envoyé. Le référent va le regarder avant de l'ajouter au dossier.")
                return redirect("portal_documents")
    visible = document_selectors.documents_of(request.user, person)
    validated = list(
        visible.filter(status=DocumentStatus.VALIDATED, superseded_at__isnull=True)
        .select_related("author_structure")
        .order_by("-document_on", "-pk")[:DOCUMENTS_SHOWN]
    )
    contracts = [d for d in validated if d.doc_type in CONTRACT_TYPES]
    plans = [d for d in validated if d.doc_type == DocumentType.CARE_PLAN]
    others = [d for d in validated if d.doc_type not in CONTRACT_TYPES and d.doc_type != DocumentType.CARE_PLAN]
    deposits = list(
        visible.filter(author=request.user)
        .exclude(status=DocumentStatus.VALIDATED)
        .order_by("-created_at", "-pk")[:DEPOSITS_SHOWN]
    )
    visit = RecordVisit.objects.filter(user=request.user, person=person).values_list("visited_at", flat=True).first()
    for document in validated:
        document.is_new = visit is not None and document.validated_at is not None and document.validated_at > visit
    if request.method == "GET":
        news.record_visit(user=request.user, person=person)
    return render(
        request,
        "portal/user/documents.html",
        page_context(
            request,
            person,
            form=form,
            contracts=contracts,
            plans=plans,
            others=others,
            deposits=deposits,
        ),
        status=400 if form is not None and form.errors else 200,
    )
