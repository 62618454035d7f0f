"""REST API of the admission block, under /api/admission/: taking a person in, the
offer search, admission requests and their answers. Same services and gate as the pages.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from admission import selectors, services
from admission.models import AdmissionCopy, AdmissionEvent, AdmissionStatus
from admission.scope import SCOPE
from admission.serializers import (
    AccompanimentEndSerializer,
    AdmitCopySerializer,
    AdmitSerializer,
    AdmittedSerializer,
    AnswerSerializer,
    CopySerializer,
    DuplicatesSerializer,
    FileSerializer,
    IncomingSerializer,
    OfferFilterSerializer,
    OfferSerializer,
    RequestCreateSerializer,
    RequesterMessageSerializer,
    RequestSerializer,
)
from common.api import ERRORS, READ_ERRORS, DetailSerializer, PaginatedAPIView, ServiceAPIView
from coordination import access
from coordination.models import Accompaniment, Category, Person, Structure
from reference.models import SerafinCode, SerafinKind

TAG_INTAKE = "Admission : accueil"
TAG_OFFER = "Admission : offre"
TAG_REQUESTS = "Admission : demandes"


class AdmitView(ServiceAPIView):
    serializer_class = AdmitSerializer

    @extend_schema(
        operation_id="admission_persons_admit",
        tags=[TAG_INTAKE],
        summary="Accueillir une personne (identité, INS, proches, début d'accompagnement)",
        description="Pour les administrateurs, référents, secrétaires et la direction de la structure. Avant de "
        "créer, les doublons possibles (même INS, ou même nom de naissance sans accents, date, sexe et lieu de "
        "naissance) : 409 avec ceux que vous pouvez voir ; une personne qui vous est inaccessible n'est jamais "
        "nommée (`hidden_match`), `on_duplicate=refer` transmet la demande à un administrateur (202).",
        request=AdmitSerializer,
        responses={
            201: AdmittedSerializer,
            202: DetailSerializer,
            409: OpenApiResponse(DuplicatesSerializer, description="Doublon possible."),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = dict(self.validated(AdmitSerializer, request.data))
        structure = selectors.admitting_structures(request.user).filter(pk=data.pop("structure")).first()
        if structure is None:
            raise access.AccessDenied("Vous n'accueillez pas de personne pour cette structure.")
        invitees = [services.Invitee(**row) for row in data.pop("invitees", [])]
        started_on = data.pop("started_on", None)
        on_duplicate = data.pop("on_duplicate")
        link_person = data.pop("link_person", None)
        data["birth_name"] = data["birth_name"].strip().upper()
        data["used_name"] = data["used_name"].strip().upper()
        if link_person:
            person = get_object_or_404(access.persons_visible_to(request.user, Category.RECORD), pk=link_person)
            result = services.person_link(
                actor=request.user, structure=structure, person=person, started_on=started_on, invitees=invitees
            )
            return Response(AdmittedSerializer(result).data, status=status.HTTP_201_CREATED)
        duplicates = selectors.find_duplicates(
            request.user,
            ins_matricule=data["ins_matricule"],
            birth_name=data["birth_name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            birth_place_insee=data["birth_place_insee"],
        )
        if duplicates.hidden and on_duplicate == "refer":
            services.identity_review_ask(actor=request.user, structure=structure, started_on=started_on, **data)
            return Response({"detail": "Demande transmise à un administrateur du portail."}, status=202)
        if duplicates.hidden or (duplicates.visible and on_duplicate != "create"):
            body = {
                "detail": services.HIDDEN_DUPLICATE
                if duplicates.hidden
                else "Cette personne est peut-être déjà connue.",
                "matches": [
                    {"id": p.pk, "display_name": p.display_name, "birth_date": p.birth_date} for p in duplicates.visible
                ],
                "hidden_match": bool(duplicates.hidden),
            }
            return Response(DuplicatesSerializer(body).data, status=status.HTTP_409_CONFLICT)
        result = services.person_admit(
            actor=request.user,
            structure=structure,
            started_on=started_on,
            invitees=invitees,
            confirm_new=on_duplicate == "create",
            **data,
        )
        return Response(AdmittedSerializer(result).data, status=status.HTTP_201_CREATED)


class AccompanimentEndView(ServiceAPIView):
    serializer_class = AccompanimentEndSerializer

    @extend_schema(
        operation_id="admission_accompaniment_end",
        tags=[TAG_INTAKE],
        summary="Terminer un accompagnement (sortie, transfert, décès…)",
        description="Par le personnel d'accueil de la structure ; la structure et son équipe quittent le cercle.",
        request=AccompanimentEndSerializer,
        responses={200: DetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(AccompanimentEndSerializer, request.data)
        accompaniment = get_object_or_404(
            Accompaniment.objects.select_related("person"),
            pk=pk,
            structure__in=selectors.admitting_structures(request.user),
        )
        access.require(request.user, accompaniment.person, Category.RECORD, "read", path=request.path)
        services.accompaniment_close(actor=request.user, accompaniment=accompaniment, **data)
        return Response({"detail": "Accompagnement terminé."})


class OfferListView(PaginatedAPIView):
    @extend_schema(
        operation_id="admission_offers_list",
        tags=[TAG_OFFER],
        summary="Chercher dans l'offre des structures",
        description="Paginé, les plus pertinentes d'abord : le code postal lui-même, puis les places "
        "disponibles, les chiffres les plus récents.",
        parameters=[OfferFilterSerializer],
        responses={200: OfferSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        filters = dict(self.validated(OfferFilterSerializer, request.query_params))
        code = filters.pop("service", None)
        service = None
        if code:
            service = SerafinCode.objects.filter(kind=SerafinKind.SERVICE, code=code).first()
            if service is None:
                return Response({"service": ["Prestation : code SERAFIN-PH inconnu."]}, status=400)
        offers = selectors.offer_search(
            kind=filters.get("kind", ""),
            department=filters.get("department", ""),
            postcode=filters.get("postcode", ""),
            public=filters.get("public", ""),
            age=filters.get("age"),
            service=service,
            with_places=filters.get("with_places", False),
            text=filters.get("q", ""),
        )
        return self.paginated(offers, OfferSerializer)


def _requests_queryset(user):
    return (
        selectors.requests_of(user)
        .prefetch_related(
            "needs",
            Prefetch(
                "copies",
                queryset=AdmissionCopy.objects.select_related("structure").prefetch_related(
                    Prefetch("events", queryset=AdmissionEvent.objects.order_by("at", "pk"))
                ),
            ),
        )
        .order_by("-created_at", "-pk")
    )


class RequestListView(PaginatedAPIView):
    serializer_class = RequestCreateSerializer

    @extend_schema(
        operation_id="admission_requests_mine",
        tags=[TAG_REQUESTS],
        summary="Mes demandes d'admission",
        description="Celles que vous avez envoyées ; pour la personne et son représentant légal, toutes celles "
        "faites pour elle. Chaque structure a sa copie, son statut et son historique.",
        responses={200: RequestSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return self.paginated(_requests_queryset(request.user), RequestSerializer)

    @extend_schema(
        operation_id="admission_requests_create",
        tags=[TAG_REQUESTS],
        summary="Envoyer une demande d'admission à une ou plusieurs structures",
        description="Par la personne, un proche, son représentant légal, ou un professionnel qui lit son dossier "
        "(avec l'accord de la personne : `agreement_via`). Les documents s'ajoutent depuis les pages.",
        request=RequestCreateSerializer,
        responses={201: RequestSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = dict(self.validated(RequestCreateSerializer, request.data))
        try:
            person = Person.objects.get(pk=data.pop("person"))
        except Person.DoesNotExist:
            raise Http404 from None
        services.requester_kind(request.user, person)  # 404 before anything else for a stranger
        structures = list(Structure.objects.filter(pk__in=data.pop("structures")))
        needs = list(SerafinCode.objects.filter(kind=SerafinKind.NEED, code__in=data.pop("needs", [])))
        admission_request = services.create_request(
            actor=request.user, person=person, structures=structures, needs=needs, source="api", **data
        )
        return Response(
            RequestSerializer(_requests_queryset(request.user).get(pk=admission_request.pk)).data,
            status=status.HTTP_201_CREATED,
        )


def _requester_copy(request: Request, pk: int, copy_id: int) -> AdmissionCopy:
    admission_request = get_object_or_404(selectors.requests_of(request.user), pk=pk)
    return get_object_or_404(AdmissionCopy, pk=copy_id, request=admission_request)


class RequestWithdrawView(ServiceAPIView):
    serializer_class = RequesterMessageSerializer

    @extend_schema(
        operation_id="admission_requests_withdraw",
        tags=[TAG_REQUESTS],
        summary="Retirer la demande faite à une structure",
        request=RequesterMessageSerializer,
        responses={200: CopySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, copy_id: int) -> Response:
        data = self.validated(RequesterMessageSerializer, request.data)
        copy = services.copy_withdraw(actor=request.user, copy=_requester_copy(request, pk, copy_id), **data)
        return Response(CopySerializer(copy).data)


class RequestReplyView(ServiceAPIView):
    serializer_class = RequesterMessageSerializer

    @extend_schema(
        operation_id="admission_requests_reply",
        tags=[TAG_REQUESTS],
        summary="Répondre à une demande d'informations de la structure",
        request=RequesterMessageSerializer,
        responses={200: CopySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, copy_id: int) -> Response:
        data = self.validated(RequesterMessageSerializer, request.data)
        copy = services.copy_requester_answer(
            actor=request.user, copy=_requester_copy(request, pk, copy_id), message=data["message"]
        )
        return Response(CopySerializer(copy).data)


class IncomingListView(PaginatedAPIView):
    @extend_schema(
        operation_id="admission_incoming_list",
        tags=[TAG_REQUESTS],
        summary="Demandes reçues par mes structures",
        description="La personne est nommée tant que le dossier est ouvert à la structure (ou après son admission).",
        responses={200: IncomingSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        copies = (
            selectors.incoming_copies(request.user).select_related("request__person").order_by("-updated_at", "-pk")
        )
        page = self.paginate_queryset(copies)
        now = timezone.now()
        for copy in page:
            copy.names_person = copy.status == AdmissionStatus.ADMITTED or (copy.is_open and copy.access_until > now)
        return self.get_paginated_response(IncomingSerializer(page, many=True).data)


def _staff_copy(request: Request, copy_id: int) -> tuple[AdmissionCopy, Person]:
    copy = get_object_or_404(
        AdmissionCopy.objects.select_related("structure", "request__person"),
        pk=copy_id,
        structure__in=selectors.admitting_structures(request.user),
    )
    grant = access.require(
        request.user, copy.request.person_id, Category.RECORD, "read", path=request.path, scope=(SCOPE, copy.pk)
    )
    return copy, grant.person


class IncomingDetailView(ServiceAPIView):
    @extend_schema(
        operation_id="admission_incoming_retrieve",
        tags=[TAG_REQUESTS],
        summary="Le dossier d'une demande reçue",
        description="Ouvert à la structure tant que la demande est en cours (404 ensuite), puis par ses droits "
        "après l'admission. Chaque lecture est tracée.",
        responses={200: FileSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        copy, person = _staff_copy(request, pk)
        if copy.status == AdmissionStatus.SENT:
            copy = services.copy_mark_received(actor=request.user, copy=copy)
        return Response(FileSerializer({"copy": copy, "request": copy.request, "person": person}).data)


class IncomingAnswerView(ServiceAPIView):
    serializer_class = AnswerSerializer

    @extend_schema(
        operation_id="admission_incoming_answer",
        tags=[TAG_REQUESTS],
        summary="Répondre à une demande reçue",
        description="En cours d'examen, informations demandées (message), liste d'attente (rang), acceptée (date "
        "d'entrée proposée), refusée (motif). Le demandeur est prévenu.",
        request=AnswerSerializer,
        responses={200: CopySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(AnswerSerializer, request.data)
        copy, _person = _staff_copy(request, pk)
        copy = services.copy_answer(actor=request.user, copy=copy, **data)
        return Response(CopySerializer(copy).data)


class IncomingAdmitView(ServiceAPIView):
    serializer_class = AdmitCopySerializer

    @extend_schema(
        operation_id="admission_incoming_admit",
        tags=[TAG_REQUESTS],
        summary="Admettre la personne d'une demande acceptée",
        description="L'accompagnement commence ; l'équipe de la structure entre dans le cercle.",
        request=AdmitCopySerializer,
        responses={200: CopySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(AdmitCopySerializer, request.data)
        copy, _person = _staff_copy(request, pk)
        copy = services.copy_admit(actor=request.user, copy=copy, entered_on=data["entered_on"])
        return Response(CopySerializer(copy).data)
