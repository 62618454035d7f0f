"""What every app's REST API shares: the base view that turns a service's refusal into
an HTTP answer (400 {field: [messages]}, 403 {detail}), the documented error answers,
and schema helpers."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings


class DetailSerializer(serializers.Serializer):
    """A message in French: an error (403, 404) or an acknowledgement (202)."""

    detail = serializers.CharField()


def inline_enum(choices) -> dict:
    """A string enum kept inline in the schema. drf-spectacular hoists direct enums into
    shared components named after the property; one choice set under six category names,
    or two sets under one `status` name, makes it warn, and `check --deploy` fails on
    warnings."""
    return {"allOf": [{"type": "string", "enum": [value for value, _label in choices]}]}


def choices_text(choices) -> str:
    return " ; ".join(f"{value} : {label}" for value, label in choices)


ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Données invalides : {champ: [messages]}."),
    403: OpenApiResponse(DetailSerializer, description="Membre du cercle sans le droit nécessaire."),
    404: OpenApiResponse(DetailSerializer, description="Introuvable (ou personne inconnue de vous)."),
}
READ_ERRORS = {code: ERRORS[code] for code in (403, 404)}


def drf_exception(exc: Exception) -> Exception:
    """Services speak Django; the API answers 400 {field: [messages]} and 403 {detail}."""
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
                    for field, messages in exc.message_dict.items()
                }
            )
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    return exc


class ServiceAPIView(GenericAPIView):
    """Base of the API views: maps service errors to HTTP answers."""

    pagination_class = None

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(drf_exception(exc))

    def validated(self, serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated(self, queryset: QuerySet, serializer_class, **context) -> Response:
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context={**self.get_serializer_context(), **context}).data
        return self.get_paginated_response(data)


class PaginatedAPIView(ServiceAPIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
