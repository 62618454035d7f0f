"""REST API of the notifications, under /api/notifications/: the user's own notifications
and preferences, through the same services as the pages (`notifications.services`)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, PaginatedAPIView, ServiceAPIView
from common.notify import blocks, catalogue
from notifications import services
from notifications.serializers import (
    MarkedCountSerializer,
    NotificationFilterSerializer,
    NotificationSerializer,
    PreferenceInputSerializer,
    PreferenceSerializer,
)

TAGS = ["Notifications"]


def _preference_row(kind, preference) -> dict:
    return {
        "event_type": kind.key,
        "label": kind.label,
        "block": blocks().get(kind.block, ""),
        "mutable": kind.mutable,
        "frequency": preference.frequency,
        "in_app": preference.in_app,
        "email": preference.email,
        "sms": preference.sms,
    }


class NotificationListView(PaginatedAPIView):
    @extend_schema(
        operation_id="notifications_list",
        tags=TAGS,
        summary="Mes notifications",
        description="Paginé ; les non lues d'abord, puis de la plus récente à la plus ancienne. Aucune ne porte de "
        "détail de santé : elles disent ce qui est nouveau et où le voir (`url`).",
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        filters = self.validated(NotificationFilterSerializer, request.query_params)
        notifications = services.notifications_of(request.user)
        if filters["unread"]:
            notifications = notifications.filter(read_at__isnull=True)
        if filters.get("block"):
            notifications = notifications.filter(event_type__startswith=f"{filters['block']}.")
        return self.paginated(notifications, NotificationSerializer)


class NotificationReadView(ServiceAPIView):
    @extend_schema(
        operation_id="notifications_mark_read",
        tags=TAGS,
        summary="Marquer une notification comme lue",
        request=None,
        responses={200: NotificationSerializer, 404: ERRORS[404]},
    )
    def post(self, request: Request, pk: int) -> Response:
        notification = get_object_or_404(services.notifications_of(request.user), pk=pk)
        return Response(
            NotificationSerializer(services.notification_mark_read(actor=request.user, notification=notification)).data
        )


class NotificationReadAllView(ServiceAPIView):
    @extend_schema(
        operation_id="notifications_mark_all_read",
        tags=TAGS,
        summary="Tout marquer comme lu",
        request=None,
        responses={200: MarkedCountSerializer},
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notifications_mark_all_read(actor=request.user)})


class PreferenceListView(ServiceAPIView):
    @extend_schema(
        operation_id="notification_preferences_list",
        tags=TAGS,
        summary="Mes préférences, par type de notification",
        description="Fréquence (immédiate, résumé quotidien ou hebdomadaire, jamais) et canaux. Les avis de "
        "sécurité (`mutable` faux) sont toujours envoyés, tout de suite, dans le portail et par e-mail.",
        responses={200: PreferenceSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = [_preference_row(kind, preference) for kind, preference in services.preferences_for(request.user)]
        return Response(PreferenceSerializer(rows, many=True).data)


class PreferenceView(ServiceAPIView):
    serializer_class = PreferenceInputSerializer

    @extend_schema(
        operation_id="notification_preference_set",
        tags=TAGS,
        summary="Régler un type de notification",
        parameters=[
            OpenApiParameter("event_type", str, OpenApiParameter.PATH, description="Par exemple `liaison.alert`.")
        ],
        request=PreferenceInputSerializer,
        responses={200: PreferenceSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def put(self, request: Request, event_type: str) -> Response:
        kind = catalogue().get(event_type)
        if kind is None:
            raise Http404
        data = self.validated(PreferenceInputSerializer, request.data)
        preference = services.preference_set(actor=request.user, event_type=event_type, **data)
        return Response(PreferenceSerializer(_preference_row(kind, preference)).data)
