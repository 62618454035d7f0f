"""REST API of the person's documents, under /api/coordination/.

The same gate (category `documents`), visibility (`document_selectors`) and services
(`document_services`) as the pages. A stranger gets 404, a member without the right 403.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, PaginatedAPIView
from coordination import access
from coordination.models import Category
from documents import selectors as document_selectors
from documents import services as document_services
from documents.models import DmpShare, Document, DocumentStatus, DocumentType
from documents.serializers import (
    DmpShareSerializer,
    DocumentDetailSerializer,
    DocumentFilterSerializer,
    DocumentListItemSerializer,
    DocumentUploadSerializer,
    MssanteSendingSerializer,
    MssanteSendSerializer,
)

TAGS = ["Documents"]


class DocumentAPIView(PaginatedAPIView):
    def load(self, document_id: int, action: str = "read") -> Document:
        document = get_object_or_404(Document.objects.select_related("person"), pk=document_id)
        access.require(self.request.user, document.person, Category.DOCUMENTS, action, path=self.request.path)
        if not document_selectors.can_see(self.request.user, document):
            raise Http404
        return document

    def detail(self, document: Document, status_code: int = status.HTTP_200_OK) -> Response:
        loaded = (
            Document.objects.select_related("author", "author_structure")
            .prefetch_related("dmp_shares", "mssante_sendings")
            .get(pk=document.pk)
        )
        return Response(DocumentDetailSerializer(loaded).data, status=status_code)


class PersonDocumentsView(DocumentAPIView):
    serializer_class = DocumentUploadSerializer
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        operation_id="documents_list",
        tags=TAGS,
        summary="Documents d'une personne",
        description="Droit « documents » en lecture. Versions en vigueur (ajoutez `history=true` pour les "
        "anciennes), les plus récentes d'abord, avec l'état du partage au DMP.",
        parameters=[
            OpenApiParameter("doc_type", str, enum=DocumentType.values),
            OpenApiParameter("status", str, enum=DocumentStatus.values),
            OpenApiParameter("since", str, description="Date du document, à partir de (AAAA-MM-JJ)."),
            OpenApiParameter("until", str, description="Date du document, jusqu'à (AAAA-MM-JJ)."),
            OpenApiParameter("history", bool),
        ],
        responses={200: DocumentListItemSerializer(many=True), 400: ERRORS[400], **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.DOCUMENTS, "read", path=request.path)
        filters = self.validated(DocumentFilterSerializer, request.query_params)
        queryset = document_selectors.documents_of(request.user, person)
        if filters.get("doc_type"):
            queryset = queryset.filter(doc_type=filters["doc_type"])
        if filters.get("status"):
            queryset = queryset.filter(status=filters["status"])
        if filters.get("since"):
            queryset = queryset.filter(document_on__gte=filters["since"])
        if filters.get("until"):
            queryset = queryset.filter(document_on__lte=filters["until"])
        if not filters.get("history"):
            queryset = queryset.filter(superseded_at__isnull=True)
        queryset = document_selectors.with_list_details(queryset).order_by("-document_on", "-pk")
        return self.paginated(queryset, DocumentListItemSerializer)

    @extend_schema(
        operation_id="documents_upload",
        tags=TAGS,
        summary="Ajouter un document",
        description="Droit « documents » en écriture ; multipart/form-data. PDF ou image, vérifié par son "
        "contenu. Un professionnel crée un brouillon (ou le valide avec `validate=true`) ; la personne "
        "ou un proche dépose un document « à examiner » par le référent.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.DOCUMENTS, "write", path=request.path)
        data = self.validated(DocumentUploadSerializer, request.data)
        document = document_services.document_create(
            actor=request.user,
            person=person,
            doc_type=data["doc_type"],
            title=data["title"],
            upload=data["file"],
            document_on=data["document_on"],
            validate=data["validate"] and request.user.is_professional,
        )
        return self.detail(document, status.HTTP_201_CREATED)


class DocumentView(DocumentAPIView):
    @extend_schema(
        operation_id="documents_detail",
        tags=TAGS,
        summary="Un document et l'état de ses envois",
        description="Statut, partage au DMP (file d'envoi) et envois MSSanté.",
        responses={200: DocumentDetailSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.detail(self.load(pk))


class DocumentValidateView(DocumentAPIView):
    @extend_schema(
        operation_id="documents_validate",
        tags=TAGS,
        summary="Valider un brouillon",
        description="Le document est figé. S'il est d'un type partagé au DMP et que la personne ne s'y "
        "oppose pas, l'envoi est programmé après un délai pendant lequel l'auteur peut "
        "l'annuler.",
        request=None,
        responses={200: DocumentDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        document = document_services.document_validate(actor=request.user, document=self.load(pk, "write"))
        return self.detail(document)


class DocumentMssanteView(DocumentAPIView):
    serializer_class = MssanteSendSerializer

    @extend_schema(
        operation_id="documents_send_mssante",
        tags=TAGS,
        summary="Envoyer par MSSanté",
        description="Envoi en tâche de fond ; son état se lit sur le document.",
        request=MssanteSendSerializer,
        responses={202: MssanteSendingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        document = self.load(pk, "write")
        data = self.validated(MssanteSendSerializer, request.data)
        sending = document_services.document_send_mssante(actor=request.user, document=document, **data)
        sending.refresh_from_db()
        return Response(MssanteSendingSerializer(sending).data, status=status.HTTP_202_ACCEPTED)


class DmpShareCancelView(DocumentAPIView):
    @extend_schema(
        operation_id="documents_dmp_cancel",
        tags=TAGS,
        summary="Annuler un envoi au DMP",
        description="Pendant le délai, par l'auteur du document. 400 si l'envoi est déjà parti.",
        request=None,
        responses={200: DmpShareSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        share = get_object_or_404(DmpShare.objects.select_related("document__person"), pk=pk)
        self.load(share.document_id, "write")
        share = document_services.dmp_share_cancel(actor=request.user, share=share)
        return Response(DmpShareSerializer(share).data)
