"""What every app's REST API shares: the base view that turns a service's refusal into
an HTTP answer (400 {field: [messages]}, 403 {detail}), the documented error answers,
and schema helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.formatting import lazy_format

from common.validation import LONG_TEXT_MAX, date_in_range


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


# The largest id a database column holds (bigint): beyond it the query itself fails.
MAX_ID = 2**63 - 1


def _bound(field: serializers.Field) -> None:
    if isinstance(field, serializers.IntegerField) and field.max_value is None:
        field.max_value = MAX_ID
        # lazy_format stays lazy: the message is translated when shown (the stubs want a str).
        message = lazy_format(field.error_messages["max_value"], max_value=MAX_ID)  # type: ignore[arg-type]
        field.validators.append(MaxValueValidator(MAX_ID, message=message))  # type: ignore[arg-type]
    elif isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
        field.pk_field = serializers.IntegerField(max_value=MAX_ID)
    elif isinstance(field, serializers.ManyRelatedField):
        _bound(field.child_relation)
    elif isinstance(field, serializers.CharField) and field.max_length is None:
        field.max_length = LONG_TEXT_MAX
        message = lazy_format(field.error_messages["max_length"], max_length=LONG_TEXT_MAX)  # type: ignore[arg-type]
        field.validators.append(MaxLengthValidator(LONG_TEXT_MAX, message=message))  # type: ignore[arg-type]
    elif isinstance(field, serializers.DateField | serializers.DateTimeField):
        field.validators.append(date_in_range)
    elif isinstance(field, serializers.ListField | serializers.DictField):
        _bound(field.child)
    elif isinstance(field, serializers.ListSerializer) and field.child is not None:
        _bound(field.child)
    elif isinstance(field, serializers.Serializer) and not isinstance(field, InputSerializerMixin):
        for inner in field.fields.values():
            _bound(inner)


if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class InputSerializerMixin(_SerializerBase):
    """Base of every request serializer (`InputSerializer`, or with a ModelSerializer):
    a text without its own maximum gets LONG_TEXT_MAX (documented as maxLength), every
    date must lie between 1900 and 2100 (`common.validation`)."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if not field.read_only:
                _bound(field)
        return fields


class InputSerializer(InputSerializerMixin, serializers.Serializer):
    pass


class NoInputSerializer(InputSerializer):
    """What an operation without a request body takes: nothing."""


class ServiceAPIView(GenericAPIView):
    """Base of the API views: maps service errors to HTTP answers.

    A view names the input serializer of its writing method in `serializer_class` (every
    view has at most one method with a body); handlers validate with it explicitly.
    DRF's OPTIONS answer and the browsable API's form read it. Objects are loaded in the
    handlers, through the access gate, never by `get_object`/`get_queryset`."""

    pagination_class = None
    serializer_class = NoInputSerializer

    def get_object(self) -> None:
        # DRF's metadata calls this before describing a PUT; the object is the handler's
        # business (gate, 404 for a stranger), and describing the input needs none.
        return None

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
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS  # type: ignore[assignment]
