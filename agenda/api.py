"""REST API of the agenda, under /api/agenda/. Same gate, selectors and services as the
pages (`agenda.views`): a person's events through `access.get_person_or_404`, one
event through `views._load`, every write through `agenda.services`."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from agenda import selectors, services
from agenda.models import AgendaFeed, Event, FeedOwnerKind
from agenda.recurrence import Occurrence
from agenda.serializers import (
    AppointmentListSerializer,
    AppointmentSerializer,
    CancelSerializer,
    EventUpdateSerializer,
    EventWriteSerializer,
    FeedCreateSerializer,
    FeedSerializer,
    NewFeedSerializer,
)
from agenda.views import _load
from common.api import ERRORS, READ_ERRORS, ServiceAPIView
from coordination import access
from coordination.models import Category

TAGS = ["Agenda"]
MAX_SPAN = timedelta(days=400)


def _occurrence(event: Event) -> Occurrence:
    return Occurrence(event, event.starts_at, event.ends_at, recurrence_id=event.recurrence_id)


class AgendaAPIView(ServiceAPIView):
    def period(self) -> tuple[datetime, datetime]:

        now = timezone.now()
        params = self.request.query_params
        start = parse_datetime(params["start"]) if params.get("start") else now - timedelta(days=30)
        end = parse_datetime(params["end"]) if params.get("end") else now + timedelta(days=90)
        if start is None or end is None:
            raise exceptions.ValidationError({"start": ["Date et heure ISO 8601 attendues."]})
        start = start if start.tzinfo else timezone.make_aware(start)
        end = end if end.tzinfo else timezone.make_aware(end)
        if end <= start or end - start > MAX_SPAN:
            raise exceptions.ValidationError({"end": ["La fin doit être après le début, sur 400 jours au plus."]})
        return start, end

    def item(self, event: Event, status_code: int = status.HTTP_200_OK) -> Response:
        loaded = selectors.with_details(Event.objects.filter(pk=event.pk)).get()
        return Response(AppointmentSerializer(_occurrence(loaded)).data, status=status_code)


class EventsView(AgendaAPIView):
    serializer_class = EventWriteSerializer

    @extend_schema(
        operation_id="agenda_events_list",
        tags=TAGS,
        summary="Rendez-vous d'une personne, ou les miens, sur une période",
        description="Avec `person` : l'agenda consolidé de la personne (droit « agenda » en lecture ; évènements "
        "partagés, et internes de vos structures). Sans : les évènements auxquels vous participez. "
        "`participant` filtre sur un professionnel. Les séries sont développées en occurrences.",
        parameters=[
            OpenApiParameter("person", int, description="Identifiant de la personne."),
            OpenApiParameter("participant", int, description="Identifiant d'un professionnel participant."),
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="Début (par défaut : il y a 30 jours)."),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="Fin (par défaut : dans 90 jours)."),
        ],
        responses={200: AppointmentListSerializer, 400: ERRORS[400], **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        start, end = self.period()
        person_id = request.query_params.get("person")
        if person_id:
            person = access.get_person_or_404(request.user, person_id, Category.AGENDA, "read", path=request.path)
            queryset = selectors.person_events(request.user, person)
        else:
            queryset = selectors.professional_events(request.user)
        participant = request.query_params.get("participant")
        if participant:
            try:
                queryset = queryset.filter(participants__professional_id=int(participant)).distinct()
            except ValueError:
                raise exceptions.ValidationError({"participant": ["Identifiant attendu."]}) from None
        occurrences = selectors.occurrences(queryset, start, end)
        return Response({"start": start, "end": end, "results": AppointmentSerializer(occurrences, many=True).data})

    @extend_schema(
        operation_id="agenda_event_create",
        tags=TAGS,
        summary="Créer un évènement",
        description="Pour une personne : droit « agenda » en écriture. Un évènement interne appartient à votre "
        "structure. Les participants invités sont prévenus.",
        request=EventWriteSerializer,
        responses={201: AppointmentSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(EventWriteSerializer, request.data)
        person = None
        if data.get("person"):
            person = access.get_person_or_404(request.user, data["person"], Category.AGENDA, "write", path=request.path)
        kwargs = EventWriteSerializer().to_service(data)
        kwargs.setdefault("ends_at", None)
        event = services.event_create(actor=request.user, person=person, **kwargs)
        return self.item(event, status.HTTP_201_CREATED)


class EventView(AgendaAPIView):
    serializer_class = EventUpdateSerializer

    @extend_schema(
        operation_id="agenda_event_retrieve",
        tags=TAGS,
        summary="Un évènement",
        responses={200: AppointmentSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.item(_load(request, pk))

    @extend_schema(
        operation_id="agenda_event_update",
        tags=TAGS,
        summary="Modifier un évènement",
        description="Seuls les champs envoyés changent ; SEQUENCE augmente et les participants sont prévenus.",
        request=EventUpdateSerializer,
        responses={200: AppointmentSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        event = _load(request, pk, "write")
        data = self.validated(EventUpdateSerializer, request.data, partial=True)
        kwargs = EventWriteSerializer().to_service(data)
        return self.item(services.event_update(actor=request.user, event=event, **kwargs))


class CancelView(AgendaAPIView):
    serializer_class = CancelSerializer

    @extend_schema(
        operation_id="agenda_event_cancel",
        tags=TAGS,
        summary="Annuler un évènement",
        description="L'évènement reste, annulé (STATUS:CANCELLED dans les abonnements).",
        request=CancelSerializer,
        responses={200: AppointmentSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        event = _load(request, pk, "write")
        data = self.validated(CancelSerializer, request.data)
        return self.item(services.event_cancel(actor=request.user, event=event, **data))


# --- ICS subscriptions ----------------------------------------------------------------------


def _feed_data(feed: AgendaFeed, followed: set[int], url: str | None = None) -> dict:
    visible = feed.person_id in followed
    data = {
        "id": feed.pk,
        "kind": feed.kind,
        "person": feed.person_id if visible else None,
        "person_name": feed.person.display_name if visible else None,
        "include_titles": feed.include_titles,
        "created_at": feed.created_at,
        "revoked_at": feed.revoked_at,
        "last_used_at": feed.last_used_at,
    }
    if url is not None:
        data["url"] = url
    return data


def _followed(user, feeds: list[AgendaFeed]) -> set[int]:
    """The persons of these feeds whose agenda the user may still read (the page's rule)."""
    ids = {feed.person_id for feed in feeds if feed.person_id}
    if not ids:
        return set()
    return set(access.persons_visible_to(user, Category.AGENDA).filter(pk__in=ids).values_list("pk", flat=True))


def _webcal(request: Request, token: str) -> str:
    url = request.build_absolute_uri(reverse("agenda:feed", args=[token]))
    return "webcal://" + url.split("://", 1)[1]


class FeedsView(AgendaAPIView):
    serializer_class = FeedCreateSerializer

    @extend_schema(
        operation_id="agenda_feeds_list",
        tags=TAGS,
        summary="Mes adresses d'abonnement ICS",
        description="Celles que vous avez créées, révoquées comprises. Le nom de la personne n'est donné que si vous "
        "voyez encore son agenda.",
        responses={200: FeedSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        feeds = list(AgendaFeed.objects.filter(owner=request.user).select_related("person").order_by("-created_at"))
        followed = _followed(request.user, feeds)
        return Response(FeedSerializer([_feed_data(feed, followed) for feed in feeds], many=True).data)

    @extend_schema(
        operation_id="agenda_feed_create",
        tags=TAGS,
        summary="Créer une adresse d'abonnement",
        description="`person` : l'agenda d'une personne (droit « agenda » en lecture) ; `professional` : le vôtre. "
        "L'adresse n'est donnée qu'une fois, dans cette réponse.",
        request=FeedCreateSerializer,
        responses={201: NewFeedSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(FeedCreateSerializer, request.data)
        person = None
        if data["kind"] == FeedOwnerKind.PERSON and data.get("person"):
            person = access.get_person_or_404(request.user, data["person"], Category.AGENDA, "read", path=request.path)
        feed, token = services.agenda_feed_create(
            actor=request.user, kind=data["kind"], person=person, include_titles=data["include_titles"]
        )
        followed = {person.pk} if person else set()
        return Response(NewFeedSerializer(_feed_data(feed, followed, _webcal(request, token))).data, status=201)


class FeedRotateView(AgendaAPIView):
    @extend_schema(
        operation_id="agenda_feed_rotate",
        tags=TAGS,
        summary="Remplacer une adresse par une nouvelle",
        description="L'ancienne adresse cesse de fonctionner tout de suite ; la nouvelle n'est donnée qu'une fois.",
        request=None,
        responses={201: NewFeedSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        feed = get_object_or_404(AgendaFeed, pk=pk, owner=request.user, revoked_at__isnull=True)
        new, token = services.agenda_feed_regenerate(actor=request.user, feed=feed)
        followed = _followed(request.user, [new])
        return Response(NewFeedSerializer(_feed_data(new, followed, _webcal(request, token))).data, status=201)


class FeedRevokeView(AgendaAPIView):
    @extend_schema(
        operation_id="agenda_feed_revoke",
        tags=TAGS,
        summary="Révoquer une adresse",
        description="Elle cesse de fonctionner tout de suite (404).",
        request=None,
        responses={200: FeedSerializer, 404: ERRORS[404]},
    )
    def post(self, request: Request, pk: int) -> Response:
        feed = get_object_or_404(AgendaFeed.objects.select_related("person"), pk=pk, owner=request.user)
        services.agenda_feed_revoke(actor=request.user, feed=feed)
        return Response(FeedSerializer(_feed_data(feed, _followed(request.user, [feed]))).data)
