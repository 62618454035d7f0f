"""REST API of the liaison notebook, under /api/liaison/.

The same gate, selectors and services as the pages (`liaison.views`): a person's notebook
goes through `access.get_person_or_404`, one transmission through `views._load`, every
write through `liaison.services`. A stranger gets 404, a member without the right 403,
a change after the grace period 409.

Reading through the API does not mark transmissions read: clients say what they showed
with POST /api/liaison/read/.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, DetailSerializer, ServiceAPIView
from coordination import access
from coordination.models import Category
from liaison import selectors, services
from liaison.forms import NotebookFilterForm
from liaison.models import Transmission, TransmissionCategory, TransmissionKind
from liaison.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CorrectionCreateSerializer,
    FeedPageSerializer,
    MarkedSerializer,
    MarkReadSerializer,
    TransmissionCreateSerializer,
    TransmissionEditSerializer,
    TransmissionPageSerializer,
    TransmissionSerializer,
)
from liaison.views import _load, _with_details

TAGS = ["Cahier de liaison"]
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(DetailSerializer, description="Délai de modification passé, ou transmission retirée."),
}

FILTERS = [
    OpenApiParameter(
        "q", str, description="Recherche plein texte (en français sur PostgreSQL : « chutes » trouve « chute »)."
    ),
    OpenApiParameter("category", str, enum=TransmissionCategory.values, description="Catégorie."),
    OpenApiParameter("kind", str, enum=TransmissionKind.values, description="Type : générale ou ciblée."),
    OpenApiParameter("author", str, description="Nom ou prénom de l'auteur."),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Observées à partir de ce jour."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Observées jusqu'à ce jour inclus."),
    OpenApiParameter("after", str, description="Curseur `next` de la page précédente."),
]
STRUCTURE_FILTER = OpenApiParameter(
    "structure", int, description="Écrites au titre de cette structure (une structure qui accompagne la personne)."
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "La transmission ne peut plus changer."
    default_code = "conflict"


class LiaisonAPIView(ServiceAPIView):
    """The coordination error mapping, plus 409 when the grace period is over. The
    service names the files `attachments`; the client sent them as `files`."""

    person = None  # set by the views whose input names addressees

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.GracePeriodOver):
            exc = Conflict(" ".join(exc.messages))
        elif isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict") and "attachments" in exc.error_dict:
            exc = DjangoValidationError(
                {"files" if field == "attachments" else field: errors for field, errors in exc.error_dict.items()}
            )
        return super().handle_exception(exc)

    def get_serializer_context(self) -> dict:
        # Input serializers choose addressees among this person's readers.
        return {**super().get_serializer_context(), "person": self.person}

    def filtered(self, queryset, **form_kwargs):
        """The page's filters (`NotebookFilterForm`); invalid ones answer 400 instead of being ignored."""
        form = NotebookFilterForm(self.request.query_params, **form_kwargs)
        if not form.is_valid():
            raise exceptions.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        return form.apply(queryset)

    def cursor(self) -> str | None:
        cursor = self.request.query_params.get("after") or None
        if cursor is not None and selectors.decode_cursor(cursor) is None:
            # Starting over silently would make a client loop forever.
            raise exceptions.ValidationError({"after": ["Curseur invalide : reprenez depuis la première page."]})
        return cursor

    def details(self, queryset):
        """What the output serializer reads, prefetched: a constant number of queries."""
        return _with_details(selectors.with_read_state(queryset, self.request.user))

    def item(self, transmission: Transmission, status_code: int = status.HTTP_200_OK) -> Response:
        loaded = self.details(Transmission.objects.filter(pk=transmission.pk)).get()
        return Response(TransmissionSerializer(loaded).data, status=status_code)


class NotebookView(LiaisonAPIView):
    serializer_class = TransmissionCreateSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="liaison_notebook_list",
        tags=TAGS,
        summary="Cahier de liaison d'une personne",
        description="Droit « cahier de liaison » en lecture. Les transmissions partagées, et les internes de vos "
        "structures ; de la plus récente à la plus ancienne observation, par pages de "
        f"{selectors.PAGE_SIZE} (`next` → `?after=`). Mêmes filtres que la page.",
        parameters=[*FILTERS, STRUCTURE_FILTER],
        responses={200: TransmissionPageSerializer, 400: ERRORS[400], **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.LIAISON, "read", path=request.path)
        queryset = self.filtered(selectors.notebook(request.user, person), person=person)
        page = selectors.newest_first(self.details(queryset), self.cursor())
        return Response({"results": TransmissionSerializer(page.items, many=True).data, "next": page.next_cursor})

    @extend_schema(
        operation_id="liaison_transmission_create",
        tags=TAGS,
        summary="Écrire une transmission",
        description="Droit « cahier de liaison » en écriture. JSON, ou multipart/form-data pour joindre des "
        "fichiers (`files`, répété). Une transmission interne appartient à votre structure ; un "
        "aidant ou la personne écrit dans le cahier partagé. Les destinataires sont alertés.",
        request={"application/json": TransmissionCreateSerializer, "multipart/form-data": TransmissionCreateSerializer},
        responses={201: TransmissionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = self.person = access.get_person_or_404(request.user, pk, Category.LIAISON, "write", path=request.path)
        data = self.validated(TransmissionCreateSerializer, request.data)
        transmission = services.transmission_create(actor=request.user, person=person, **data)
        return self.item(transmission, status.HTTP_201_CREATED)


class FeedView(LiaisonAPIView):
    @extend_schema(
        operation_id="liaison_feed",
        tags=TAGS,
        summary="Mon fil : les transmissions de toutes les personnes que je suis",
        description="Les non lues d'abord (de la plus récente à la plus ancienne), puis les lues ; par pages de "
        f"{selectors.PAGE_SIZE} (`next` → `?after=`). `unread` compte les non lues de tout le fil.",
        parameters=FILTERS,
        responses={200: FeedPageSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        scope, since = selectors.feed_start(request.user)
        queryset = self.filtered(selectors.feed(request.user, scope))
        # `unread_first` sets `is_read` itself.
        page = selectors.unread_first(request.user, _with_details(queryset), self.cursor(), since=since)
        if page.items:
            # The page lists several persons' notebooks: one access-log row each, like a list of records.
            persons = access.persons_visible_to(request.user, Category.LIAISON).filter(
                pk__in={item.person_id for item in page.items}
            )
            access.log_many(request.user, persons, Category.LIAISON, path=request.path)
        unread = selectors.unread_count(request.user, since, scope)
        return Response(
            {"results": TransmissionSerializer(page.items, many=True).data, "next": page.next_cursor, "unread": unread}
        )


class TransmissionView(LiaisonAPIView):
    serializer_class = TransmissionEditSerializer

    @extend_schema(
        operation_id="liaison_transmission_retrieve",
        tags=TAGS,
        summary="Une transmission",
        description="Droit « cahier de liaison » en lecture, et la transmission doit vous être visible.",
        responses={200: TransmissionSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.item(_load(request, pk))

    @extend_schema(
        operation_id="liaison_transmission_edit",
        tags=TAGS,
        summary="Modifier ma transmission pendant le délai de saisie",
        description="Par son auteur, pendant le délai de modification ; seuls les champs envoyés changent et "
        "le contenu précédent est conservé. Après le délai : 409, ajoutez une correction.",
        request=TransmissionEditSerializer,
        responses={200: TransmissionSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        transmission = _load(request, pk, "write")
        changes = self.validated(TransmissionEditSerializer, request.data)
        return self.item(services.transmission_edit(actor=request.user, transmission=transmission, **changes))


class WithdrawView(LiaisonAPIView):
    @extend_schema(
        operation_id="liaison_transmission_withdraw",
        tags=TAGS,
        summary="Retirer ma transmission pendant le délai de saisie",
        description="Par son auteur, pendant le délai de modification. Elle reste lisible, marquée retirée.",
        request=None,
        responses={200: TransmissionSerializer, **{code: WRITE_ERRORS[code] for code in (403, 404, 409)}},
    )
    def post(self, request: Request, pk: int) -> Response:
        transmission = _load(request, pk, "write")
        return self.item(services.transmission_withdraw(actor=request.user, transmission=transmission))


class CorrectionView(LiaisonAPIView):
    serializer_class = CorrectionCreateSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="liaison_transmission_correct",
        tags=TAGS,
        summary="Corriger une transmission",
        description="Droit « cahier de liaison » en écriture. Une nouvelle transmission, liée à l'originale "
        "(`corrects`) et de même diffusion ; l'originale reste lisible et liste ses corrections "
        "(`corrected_by`).",
        request={"application/json": CorrectionCreateSerializer, "multipart/form-data": CorrectionCreateSerializer},
        responses={201: TransmissionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        original = _load(request, pk, "write")
        self.person = original.person
        data = self.validated(CorrectionCreateSerializer, request.data)
        correction = services.transmission_correct(actor=request.user, original=original, **data)
        return self.item(correction, status.HTTP_201_CREATED)


class AttachmentsView(LiaisonAPIView):
    serializer_class = AttachmentUploadSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="liaison_attachments_add",
        tags=TAGS,
        summary="Joindre des fichiers à ma transmission",
        description="Par son auteur, pendant le délai de modification ; "
        f"{services.MAX_ATTACHMENTS} fichiers au maximum par transmission. Le contenu est vérifié "
        "(pas seulement le nom) ; les métadonnées des photos sont effacées.",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer(many=True), **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        transmission = _load(request, pk, "write")
        files = self.validated(AttachmentUploadSerializer, request.data)["files"]
        attachments = services.attachments_add(actor=request.user, transmission=transmission, files=files)
        return Response(AttachmentSerializer(attachments, many=True).data, status=status.HTTP_201_CREATED)


class AcknowledgeView(LiaisonAPIView):
    @extend_schema(
        operation_id="liaison_transmission_acknowledge",
        tags=TAGS,
        summary="Accuser réception d'une transmission qui m'est adressée",
        description="L'auteur voit l'accusé de réception dans `addressees`. La transmission est aussi marquée lue.",
        request=None,
        responses={200: TransmissionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        transmission = _load(request, pk)
        services.acknowledge(actor=request.user, transmission=transmission)
        return self.item(transmission)


class MarkReadView(LiaisonAPIView):
    serializer_class = MarkReadSerializer

    @extend_schema(
        operation_id="liaison_mark_read",
        tags=TAGS,
        summary="Marquer des transmissions comme lues",
        description="Celles que vous ne pouvez pas lire sont ignorées.",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer, 400: ERRORS[400]},
    )
    def post(self, request: Request) -> Response:
        ids = self.validated(MarkReadSerializer, request.data)["transmissions"]
        visible = list(selectors.feed(request.user).filter(pk__in=ids).only("pk"))
        services.mark_read(actor=request.user, transmissions=visible)
        return Response({"marked": len(visible)})
