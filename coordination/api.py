"""REST API of the coordination kernel: persons, circle and matrix, join requests,
delegations, access log.

Views are thin: they load the person through the gate (`coordination.access`), call a
service for every write (`coordination.services`) and serialize what they prefetched.
A stranger gets 404; a member without the right gets 403 with the gate's message.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, DetailSerializer, PaginatedAPIView, ServiceAPIView
from coordination import access, matrix, rules, services
from coordination.models import (
    Accompaniment,
    BreakGlassAccess,
    Category,
    CircleMember,
    Delegation,
    JoinRequest,
    JoinRequestStatus,
    Person,
)
from coordination.serializers import (
    AccessLogEntrySerializer,
    BreakGlassOpenSerializer,
    BreakGlassSerializer,
    CircleFilterSerializer,
    CircleMemberAddSerializer,
    CircleMemberEndSerializer,
    CircleMemberSerializer,
    ConsentRecordSerializer,
    ConsentSerializer,
    ConsentsSerializer,
    DelegationAnswerSerializer,
    DelegationCreateSerializer,
    DelegationSerializer,
    GrantsInputSerializer,
    JoinRequestAnswerSerializer,
    JoinRequestCreateSerializer,
    JoinRequestFilterSerializer,
    JoinRequestSerializer,
    MyJoinRequestSerializer,
    PersonDetailSerializer,
    PersonFilterSerializer,
    PersonSerializer,
)

JOIN_REQUEST_TRANSMITTED = "Votre demande a été transmise si la personne est connue."


def _person(request: Request, person_id: int, category: str = Category.CIRCLE, action: str = "read") -> Person:
    return access.get_person_or_404(request.user, person_id, category, action, path=request.path)


def _person_for_service(request: Request, person_id: int, category: str = Category.CIRCLE) -> Person:
    """The person, for a write the service authorises itself (e.g. a delegator who may
    not read the circle). 404 outside the circle, like the gate; no right is granted here."""
    try:
        return _person(request, person_id, category)
    except access.AccessDenied:
        # The gate refused with 403: the user is in the circle, the service decides.
        return Person.objects.get(pk=person_id)


def _active_accompaniments() -> Prefetch:
    return Prefetch(
        "accompaniments",
        queryset=Accompaniment.objects.filter(ended_on__isnull=True)
        .select_related("structure")
        .order_by("started_on", "pk"),
        to_attr="active_accompaniments",
    )


def _members(person: Person) -> QuerySet[CircleMember]:
    return CircleMember.objects.filter(person=person).select_related("user", "structure")


def _member(person: Person, member_id: int) -> CircleMember:
    return matrix.with_levels([_members(person).get(pk=member_id)], person)[0]


def _delegations(person: Person) -> QuerySet[Delegation]:
    return (
        Delegation.objects.filter(person=person)
        .select_related("delegator__user", "delegator__structure", "delegate__user")
        .prefetch_related("grants")
    )


# --- Persons ------------------------------------------------------------------------------------


class PersonListView(PaginatedAPIView):
    @extend_schema(
        operation_id="persons_list",
        tags=["Personnes"],
        summary="Personnes dont je peux consulter le dossier",
        description="Paginé. Chaque personne listée est tracée dans l'historique des accès (lecture du dossier).",
        parameters=[PersonFilterSerializer],
        responses={200: PersonSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        filters = self.validated(PersonFilterSerializer, request.query_params)
        persons = access.persons_visible_to(request.user, Category.RECORD, "read")
        for term in filters.get("q", "").split():
            persons = persons.filter(
                Q(birth_name__icontains=term)
                | Q(used_name__icontains=term)
                | Q(first_name__icontains=term)
                | Q(birth_first_names__icontains=term)
            )
        if filters.get("structure"):
            persons = persons.filter(
                Exists(
                    Accompaniment.objects.filter(
                        person=OuterRef("pk"), structure_id=filters["structure"], ended_on__isnull=True
                    )
                )
            )
        page = self.paginate_queryset(persons.prefetch_related(_active_accompaniments()))
        access.log_many(request.user, page, Category.RECORD, path=request.path)
        return self.get_paginated_response(PersonSerializer(page, many=True).data)


class PersonDetailView(ServiceAPIView):
    @extend_schema(
        operation_id="persons_retrieve",
        tags=["Personnes"],
        summary="Dossier d'une personne (identité)",
        description="Droit « dossier » en lecture. `my_levels` donne vos droits sur chaque catégorie.",
        responses={200: PersonDetailSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _person(request, pk, Category.RECORD)
        prefetch_related_objects([person], _active_accompaniments())
        person.viewer_levels = access.effective_levels(request.user, person)
        return Response(PersonDetailSerializer(person).data)


# --- The circle ------------------------------------------------------------------------------------


class CircleView(ServiceAPIView):
    serializer_class = CircleMemberAddSerializer

    @extend_schema(
        operation_id="circle_list",
        tags=["Cercle"],
        summary="Membres du cercle et matrice d'habilitation",
        description="Droit « cercle » en lecture. `?history=1` ajoute les membres sortis (date et motif).",
        parameters=[CircleFilterSerializer],
        responses={200: CircleMemberSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _person(request, pk)
        history = self.validated(CircleFilterSerializer, request.query_params)["history"]
        members = _members(person) if history else _members(person).filter(ended_at__isnull=True)
        return Response(CircleMemberSerializer(matrix.with_levels(members, person), many=True).data)

    @extend_schema(
        operation_id="circle_member_add",
        tags=["Cercle"],
        summary="Ajouter un membre au cercle",
        description="Réservé à la personne et à son représentant légal. Le nouveau membre n'a aucun droit "
        "tant qu'on ne lui en donne pas.",
        request=CircleMemberAddSerializer,
        responses={201: CircleMemberSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = _person(request, pk)
        data = self.validated(CircleMemberAddSerializer, request.data)
        member = services.circle_member_add(
            actor=request.user,
            person=person,
            role=data["role"],
            professional=data.get("professional"),
            structure=data.get("structure"),
            other_name=data.get("other_name", ""),
            other_contact=data.get("other_contact", ""),
        )
        return Response(CircleMemberSerializer(_member(person, member.pk)).data, status=status.HTTP_201_CREATED)


class CircleMemberGrantsView(ServiceAPIView):
    serializer_class = GrantsInputSerializer

    @extend_schema(
        operation_id="circle_member_grants_set",
        tags=["Cercle"],
        summary="Modifier les droits d'un membre",
        description="Réservé à la personne et à son représentant légal. Seules les catégories envoyées changent ; "
        "le changement s'applique dès la requête suivante.",
        request=GrantsInputSerializer,
        responses={200: CircleMemberSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int, member_id: int) -> Response:
        person = _person(request, pk)
        member = get_object_or_404(CircleMember, pk=member_id, person=person)
        levels = self.validated(GrantsInputSerializer, request.data)
        services.grants_set(actor=request.user, member=member, levels=levels)
        return Response(CircleMemberSerializer(_member(person, member.pk)).data)


class CircleMemberEndView(ServiceAPIView):
    serializer_class = CircleMemberEndSerializer

    @extend_schema(
        operation_id="circle_member_end",
        tags=["Cercle"],
        summary="Faire sortir un membre du cercle",
        description="Fin de prise en charge (la personne, son représentant légal ou un professionnel ayant le "
        "droit « cercle » en écriture) ou opposition de la personne (elle ou son représentant "
        "légal seulement).",
        request=CircleMemberEndSerializer,
        responses={200: CircleMemberSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, member_id: int) -> Response:
        person = _person(request, pk)
        member = get_object_or_404(CircleMember, pk=member_id, person=person)
        reason = self.validated(CircleMemberEndSerializer, request.data)["reason"]
        services.circle_member_end(actor=request.user, member=member, reason=reason)
        return Response(CircleMemberSerializer(_member(person, member.pk)).data)


# --- Join requests ------------------------------------------------------------------------------------


class JoinRequestListView(ServiceAPIView):
    serializer_class = JoinRequestCreateSerializer

    @extend_schema(
        operation_id="join_requests_list",
        tags=["Demandes d'entrée"],
        summary="Demandes d'entrée en attente pour une personne",
        description="Droit « cercle » en lecture.",
        parameters=[JoinRequestFilterSerializer],
        responses={200: JoinRequestSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        person = _person(request, self.validated(JoinRequestFilterSerializer, request.query_params)["person"])
        pending = (
            JoinRequest.objects.filter(person=person, status=JoinRequestStatus.PENDING)
            .select_related("professional__user", "structure")
            .order_by("-created_at", "-pk")
        )
        return Response(JoinRequestSerializer(pending, many=True).data)

    @extend_schema(
        operation_id="join_requests_create",
        tags=["Demandes d'entrée"],
        summary="Demander à entrer dans le cercle d'une personne",
        description="Pour un professionnel qui connaît déjà la personne (INS, ou nom de naissance, prénom et date "
        "de naissance exacts). La réponse ne dit pas si la personne est connue du portail ; seules "
        "les erreurs qui concernent une personne que vous connaissez déjà (opposition, déjà membre) "
        "sont signalées.",
        request=JoinRequestCreateSerializer,
        responses={202: DetailSerializer, **{code: ERRORS[code] for code in (400, 403)}},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(JoinRequestCreateSerializer, request.data)
        # Refused before the look-up so that the answer never depends on the person's existence.
        if not request.user.is_professional:
            raise access.AccessDenied("Seul un professionnel peut demander à entrer dans un cercle.")
        person = services.find_person_for_request(
            ins_matricule=data.get("ins_matricule", ""),
            birth_name=data.get("birth_name", ""),
            first_name=data.get("first_name", ""),
            birth_date=data.get("birth_date"),
        )
        # A request already pending is "transmitted": saying otherwise would disclose the person.
        if (
            person is not None
            and not JoinRequest.objects.filter(
                person=person, professional__user=request.user, status=JoinRequestStatus.PENDING
            ).exists()
        ):
            services.join_request_create(
                actor=request.user,
                person=person,
                role=data["role"],
                message=data["message"],
                structure=data.get("structure"),
            )
        return Response({"detail": JOIN_REQUEST_TRANSMITTED}, status=status.HTTP_202_ACCEPTED)


class MyJoinRequestListView(PaginatedAPIView):
    @extend_schema(
        operation_id="join_requests_mine",
        tags=["Demandes d'entrée"],
        summary="Mes demandes d'entrée qui ont reçu une réponse",
        responses={200: MyJoinRequestSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        # Only answered requests: listing a pending one would tell that the person exists.
        requests = (
            JoinRequest.objects.filter(professional__user=request.user)
            .exclude(status=JoinRequestStatus.PENDING)
            .select_related("person", "structure")
            .order_by("-created_at", "-pk")
        )
        return self.paginated(requests, MyJoinRequestSerializer)


class JoinRequestAnswerView(ServiceAPIView):
    serializer_class = JoinRequestAnswerSerializer

    @extend_schema(
        operation_id="join_requests_answer",
        tags=["Demandes d'entrée"],
        summary="Répondre à une demande d'entrée",
        description="Réservé à la personne et à son représentant légal. Acceptée, le professionnel entre dans le "
        "cercle sans aucun droit.",
        request=JoinRequestAnswerSerializer,
        responses={200: JoinRequestSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        join_request = get_object_or_404(JoinRequest, pk=pk)
        _person(request, join_request.person_id)
        data = self.validated(JoinRequestAnswerSerializer, request.data)
        services.join_request_answer(
            actor=request.user, join_request=join_request, accept=data["accept"], note=data["note"]
        )
        answered = JoinRequest.objects.select_related("professional__user", "structure").get(pk=join_request.pk)
        return Response(JoinRequestSerializer(answered).data)


# --- Delegations -----------------------------------------------------------------------------------------


class PersonDelegationListView(ServiceAPIView):
    serializer_class = DelegationCreateSerializer

    @extend_schema(
        operation_id="delegations_list",
        tags=["Délégations"],
        summary="Délégations de droits sur une personne",
        description="Droit « cercle » en lecture.",
        responses={200: DelegationSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _person(request, pk)
        return Response(DelegationSerializer(_delegations(person), many=True).data)

    @extend_schema(
        operation_id="delegations_create",
        tags=["Délégations"],
        summary="Déléguer une partie de mes droits",
        description="Pour un professionnel membre du cercle, jamais au-delà de ses propres droits. La délégation "
        "s'applique après l'accord de la personne ou de son représentant légal.",
        request=DelegationCreateSerializer,
        responses={201: DelegationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = _person_for_service(request, pk)
        data = self.validated(DelegationCreateSerializer, request.data)
        delegation = services.delegation_create(
            actor=request.user,
            person=person,
            delegate=data["delegate"],
            levels=data["levels"],
            starts_at=data.get("starts_at") or timezone.now(),
            ends_at=data["ends_at"],
            reason=data["reason"],
        )
        return Response(
            DelegationSerializer(_delegations(person).get(pk=delegation.pk)).data, status=status.HTTP_201_CREATED
        )


class DelegationAnswerView(ServiceAPIView):
    serializer_class = DelegationAnswerSerializer

    @extend_schema(
        operation_id="delegations_answer",
        tags=["Délégations"],
        summary="Consentir ou non à une délégation",
        description="Réservé à la personne et à son représentant légal.",
        request=DelegationAnswerSerializer,
        responses={200: DelegationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        delegation = get_object_or_404(Delegation, pk=pk)
        person = _person(request, delegation.person_id)
        accept = self.validated(DelegationAnswerSerializer, request.data)["accept"]
        services.delegation_answer(actor=request.user, delegation=delegation, accept=accept)
        return Response(DelegationSerializer(_delegations(person).get(pk=delegation.pk)).data)


class DelegationRevokeView(ServiceAPIView):
    @extend_schema(
        operation_id="delegations_revoke",
        tags=["Délégations"],
        summary="Révoquer une délégation",
        description="Par le délégant, la personne ou son représentant légal.",
        request=None,
        responses={200: DelegationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        delegation = get_object_or_404(Delegation, pk=pk)
        person = _person_for_service(request, delegation.person_id)
        services.delegation_revoke(actor=request.user, delegation=delegation)
        return Response(DelegationSerializer(_delegations(person).get(pk=delegation.pk)).data)


# --- Access log ------------------------------------------------------------------------------------------


class PersonAccessLogView(PaginatedAPIView):
    @extend_schema(
        operation_id="access_log_list",
        tags=["Personnes"],
        summary="Qui a consulté ou modifié les données de la personne",
        description="Pour la personne, son représentant légal et les administrateurs d'une structure qui "
        "l'accompagne (eux seuls voient l'adresse IP). Paginé, du plus récent au plus ancien.",
        responses={200: AccessLogEntrySerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        granted = access.require_access_log(request.user, pk, path=request.path)
        person, show_ip = granted.person, granted.show_ip
        entries = access.access_log_entries(person)
        return self.paginated(entries, AccessLogEntrySerializer, show_ip=show_ip)


# --- Consents --------------------------------------------------------------------------------------------


class ConsentsView(ServiceAPIView):
    serializer_class = ConsentRecordSerializer

    @extend_schema(
        operation_id="consents_retrieve",
        tags=["Consentements"],
        summary="Consentements de la personne : décisions en vigueur et historique",
        description="Droit « dossier » en lecture. Alimentation du DMP (non-opposition), consultation du DMP "
        "(consentement explicite), partage avec un partenaire. Une décision n'est jamais modifiée : la "
        "plus récente est en vigueur.",
        responses={200: ConsentsSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _person(request, pk, Category.RECORD)
        history = list(person.consents.select_related("recorded_by").order_by("-recorded_at", "-pk"))
        current = sorted(services.current_consents(person).values(), key=lambda c: (c.kind, c.partner))
        return Response(
            {
                "dmp_feeding_allowed": services.dmp_feeding_allowed(person),
                "current": ConsentSerializer(current, many=True).data,
                "history": ConsentSerializer(history, many=True).data,
            }
        )

    @extend_schema(
        operation_id="consents_record",
        tags=["Consentements"],
        summary="Enregistrer une décision",
        description="La personne ou son représentant légal (`collected_via`: `portal`), ou un professionnel ayant "
        "le droit « dossier » en écriture pour une décision recueillie oralement ou par écrit.",
        request=ConsentRecordSerializer,
        responses={201: ConsentSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = _person_for_service(request, pk, Category.RECORD)
        data = self.validated(ConsentRecordSerializer, request.data)
        consent = services.consent_record(actor=request.user, person=person, **data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


# --- Break-the-glass --------------------------------------------------------------------------------------


class PersonBreakGlassView(ServiceAPIView):
    serializer_class = BreakGlassOpenSerializer

    @extend_schema(
        operation_id="break_glass_list",
        tags=["Personnes"],
        summary="Accès en urgence (bris de glace) au dossier de la personne",
        description="Pour la personne, son représentant légal et les administrateurs d'une structure qui "
        "l'accompagne. Du plus récent au plus ancien.",
        responses={200: BreakGlassSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = access.require_access_log(request.user, pk, path=request.path).person
        accesses = BreakGlassAccess.objects.filter(person=person).select_related("user", "structure")
        return Response(BreakGlassSerializer(accesses.order_by("-started_at", "-pk"), many=True).data)

    @extend_schema(
        operation_id="break_glass_open",
        tags=["Personnes"],
        summary="Ouvrir le dossier en urgence, avec un motif",
        description="Pour un professionnel d'une structure qui accompagne la personne, sans le droit nécessaire : "
        "lecture seule pendant quelques heures, chaque consultation tracée comme telle ; la personne, "
        "ses représentants légaux et le référent de la structure sont prévenus.",
        request=BreakGlassOpenSerializer,
        responses={201: BreakGlassSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = Person.objects.filter(pk=pk).first()
        # Only through an accompanying structure; anyone else learns nothing (404), like the page.
        if person is None or not rules.break_glass_structures(request.user, person).exists():
            raise Http404
        reason = self.validated(BreakGlassOpenSerializer, request.data)["reason"]
        glass = services.break_glass_open(actor=request.user, person=person, reason=reason)
        return Response(BreakGlassSerializer(glass).data, status=status.HTTP_201_CREATED)


class MyBreakGlassView(PaginatedAPIView):
    @extend_schema(
        operation_id="break_glass_mine",
        tags=["Personnes"],
        summary="Mes accès en urgence",
        description="Ceux que j'ai ouverts, du plus récent au plus ancien (paginé).",
        responses={200: BreakGlassSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        accesses = BreakGlassAccess.objects.filter(user=request.user).select_related("user", "structure")
        return self.paginated(accesses.order_by("-started_at", "-pk"), BreakGlassSerializer)
