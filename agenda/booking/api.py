"""REST API of availability, slot search and meeting booking, under /api/agenda/.

Same services as the pages (`agenda.availability`, `agenda.booking`): a colleague's
availability is free/busy only and 404 for anyone who shares no circle or structure;
a meeting is 404 for whoever does not take part in it.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agenda import availability, slots
from agenda.booking import services as booking
from agenda.booking.serializers import (
    AvailabilityExceptionSerializer,
    AvailabilitySerializer,
    AvailabilityWindowSerializer,
    FreeBusySpanSerializer,
    MeetingCreateSerializer,
    MeetingResponseSerializer,
    MeetingSerializer,
    SlotResultSerializer,
    SlotSearchSerializer,
)
from agenda.models import AvailabilityException, AvailabilityWindow, Event, Participant
from common.api import ERRORS, READ_ERRORS, NoInputSerializer, ServiceAPIView
from common.timezone import PARIS
from coordination.models import Professional

TAGS = ["Agenda : disponibilités et réunions"]


def _me(request: Request) -> Professional:
    professional = getattr(request.user, "professional", None)
    if professional is None or not professional.is_active:
        raise Http404
    return professional


class AvailabilityView(ServiceAPIView):
    serializer_class = AvailabilitySerializer

    @extend_schema(
        tags=TAGS,
        summary="Mes disponibilités (plages et exceptions)",
        description="Pour un professionnel ; 404 pour un autre compte.",
        responses={200: AvailabilitySerializer, 404: READ_ERRORS[404]},
    )
    def get(self, request: Request) -> Response:
        me = _me(request)
        return Response(
            AvailabilitySerializer(
                {
                    "windows": AvailabilityWindow.objects.filter(professional=me),
                    "exceptions": AvailabilityException.objects.filter(professional=me, ends_at__gte=timezone.now()),
                }
            ).data
        )


class WindowListView(ServiceAPIView):
    serializer_class = AvailabilityWindowSerializer

    @extend_schema(
        tags=TAGS,
        summary="Ajouter une plage hebdomadaire",
        request=AvailabilityWindowSerializer,
        responses={201: AvailabilityWindowSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _me(request)
        data = self.validated(AvailabilityWindowSerializer, request.data)
        window = availability.availability_window_create(actor=request.user, **data)
        return Response(AvailabilityWindowSerializer(window).data, status=status.HTTP_201_CREATED)


class WindowView(ServiceAPIView):
    serializer_class = AvailabilityWindowSerializer

    @extend_schema(tags=TAGS, summary="Supprimer une plage", responses={204: None, **READ_ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        window = get_object_or_404(AvailabilityWindow, pk=pk, professional=_me(request))
        availability.availability_window_delete(actor=request.user, window=window)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExceptionListView(ServiceAPIView):
    serializer_class = AvailabilityExceptionSerializer

    @extend_schema(
        tags=TAGS,
        summary="Ajouter une absence ou une disponibilité exceptionnelle",
        request=AvailabilityExceptionSerializer,
        responses={201: AvailabilityExceptionSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _me(request)
        data = self.validated(AvailabilityExceptionSerializer, request.data)
        exception = availability.availability_exception_create(actor=request.user, **data)
        return Response(AvailabilityExceptionSerializer(exception).data, status=status.HTTP_201_CREATED)


class ExceptionView(ServiceAPIView):
    serializer_class = AvailabilityExceptionSerializer

    @extend_schema(tags=TAGS, summary="Supprimer une exception", responses={204: None, **READ_ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        exception = get_object_or_404(AvailabilityException, pk=pk, professional=_me(request))
        availability.availability_exception_delete(actor=request.user, exception=exception)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FreeBusyView(ServiceAPIView):
    serializer_class = FreeBusySpanSerializer

    @extend_schema(
        tags=TAGS,
        summary="Libre/occupé d'un collègue (14 jours par défaut)",
        parameters=[OpenApiParameter("start", OpenApiTypes.DATETIME), OpenApiParameter("end", OpenApiTypes.DATETIME)],
        responses={200: FreeBusySpanSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, professional_id: int) -> Response:
        professional = availability.professional_for_viewer_or_404(request.user, professional_id)
        start = _datetime(request.query_params.get("start")) or timezone.now()
        end = _datetime(request.query_params.get("end")) or start + dt.timedelta(days=14)
        end = min(end, start + dt.timedelta(days=93))
        spans = availability.free_busy(professional, start, end)
        rows = sorted(
            [{"start": s, "end": e, "status": "free"} for s, e in spans["free"]]
            + [{"start": s, "end": e, "status": "busy"} for s, e in spans["busy"]],
            key=lambda r: r["start"],
        )
        return Response(FreeBusySpanSerializer(rows, many=True).data)


def _datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=PARIS)


class SlotSearchView(ServiceAPIView):
    serializer_class = SlotSearchSerializer

    @extend_schema(
        tags=TAGS,
        summary="Chercher des créneaux communs (forme proche de FHIR Slot)",
        request=SlotSearchSerializer,
        responses={200: SlotResultSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        me = _me(request)
        data = self.validated(SlotSearchSerializer, request.data)
        allowed = set(availability.colleagues(me).values_list("pk", flat=True)) | {me.pk}
        asked = set(data["participants"]) | set(data["optional_participants"])
        if asked - allowed:
            raise Http404
        criteria = slots.Criteria(
            duration=dt.timedelta(minutes=data["duration_minutes"]),
            window_start=data["start"],
            window_end=data["end"],
            minimum_notice=dt.timedelta(hours=data["minimum_notice_hours"]),
            buffer_before=dt.timedelta(minutes=data["buffer_before_minutes"]),
            buffer_after=dt.timedelta(minutes=data["buffer_after_minutes"]),
            opens=data["working_hours_start"],
            closes=data["working_hours_end"],
            step=dt.timedelta(minutes=data["step_minutes"]),
            limit=data["limit"],
        )
        result = slots.find_slots([me.pk, *data["participants"]], criteria, optional_ids=data["optional_participants"])
        return Response(
            SlotResultSerializer(
                {
                    "slots": [
                        {
                            "start": s.start,
                            "end": s.end,
                            "status": s.status,
                            "adjacent": s.adjacent,
                            "optional_free": list(s.optional_free),
                        }
                        for s in result.slots
                    ],
                    "message": result.message,
                }
            ).data
        )


def _meetings(request: Request):
    return (
        Event.objects.filter(participants__user=request.user, source="booking")
        .distinct()
        .prefetch_related(
            Prefetch(
                "participants", queryset=Participant.objects.select_related("professional__user", "user", "structure")
            )
        )
    )


class MeetingListView(ServiceAPIView):
    serializer_class = MeetingCreateSerializer

    @extend_schema(
        tags=TAGS,
        summary="Mes demandes de réunion (organisées ou reçues)",
        responses={200: MeetingSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeetingSerializer(_meetings(request).order_by("-starts_at")[:200], many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Réserver un créneau et inviter",
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        me = _me(request)
        data = self.validated(MeetingCreateSerializer, request.data)
        colleagues = {
            p.pk: p for p in availability.colleagues(me).filter(pk__in=data["invitees"] + data["optional_invitees"])
        }
        if set(data["invitees"] + data["optional_invitees"]) - set(colleagues):
            raise Http404
        event = booking.meeting_hold(
            actor=request.user,
            invitees=[colleagues[pk] for pk in data["invitees"]],
            optional_invitees=[colleagues[pk] for pk in data["optional_invitees"]],
            motive=data["motive"],
            starts_at=data["start"],
            ends_at=data["end"],
        )
        return Response(MeetingSerializer(_meetings(request).get(pk=event.pk)).data, status=status.HTTP_201_CREATED)


class MeetingView(ServiceAPIView):
    serializer_class = MeetingSerializer

    @extend_schema(tags=TAGS, summary="Une réunion et les réponses", responses={200: MeetingSerializer, **READ_ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(MeetingSerializer(get_object_or_404(_meetings(request), pk=pk)).data)


class MeetingResponseView(ServiceAPIView):
    serializer_class = MeetingResponseSerializer

    @extend_schema(
        tags=TAGS,
        summary="Répondre (iTIP REPLY ou COUNTER)",
        request=MeetingResponseSerializer,
        responses={200: MeetingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(_meetings(request), pk=pk)
        data = self.validated(MeetingResponseSerializer, request.data)
        booking.meeting_respond(
            actor=request.user,
            event=event,
            response=data["response"],
            comment=data["comment"],
            counter_starts_at=data["counter_start"],
            counter_ends_at=data["counter_end"],
        )
        return Response(MeetingSerializer(_meetings(request).get(pk=pk)).data)


class MeetingCancelView(ServiceAPIView):
    serializer_class = NoInputSerializer

    @extend_schema(
        tags=TAGS,
        summary="Annuler une réunion (organisateur)",
        request=None,
        responses={200: MeetingSerializer, **READ_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(_meetings(request), pk=pk)
        booking.meeting_cancel(actor=request.user, event=event)
        return Response(MeetingSerializer(_meetings(request).get(pk=pk)).data)


urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="api_availability"),
    path("availability/windows/", WindowListView.as_view(), name="api_availability_windows"),
    path("availability/windows/<int:pk>/", WindowView.as_view(), name="api_availability_window"),
    path("availability/exceptions/", ExceptionListView.as_view(), name="api_availability_exceptions"),
    path("availability/exceptions/<int:pk>/", ExceptionView.as_view(), name="api_availability_exception"),
    path("availability/professionals/<int:professional_id>/", FreeBusyView.as_view(), name="api_free_busy"),
    path("slots/", SlotSearchView.as_view(), name="api_slots"),
    path("meetings/", MeetingListView.as_view(), name="api_meetings"),
    path("meetings/<int:pk>/", MeetingView.as_view(), name="api_meeting"),
    path("meetings/<int:pk>/responses/", MeetingResponseView.as_view(), name="api_meeting_response"),
    path("meetings/<int:pk>/cancel/", MeetingCancelView.as_view(), name="api_meeting_cancel"),
]
