"""The FHIR endpoint: `/fhir/metadata`, `/fhir/<type>` (search, conditional update,
create) and `/fhir/<type>/<id>` (read, update, delete). Thin: authentication
(`interop.auth`), then the handlers; every refusal an OperationOutcome."""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from documents.uploads import private_file_response
from interop import auth, services
from interop.fhir import everything as everything_operation
from interop.fhir import questionnaires, subscriptions, writes
from interop.fhir.capability import capability_statement
from interop.fhir.codes import JSON, base_url
from interop.fhir.common import FhirError, Query, error_response, invalid, not_found, response, searchset
from interop.fhir.handlers import HANDLERS, Context, Result, read_document_reference, read_patient
from interop.models import Subscription
from interop.scopes import READABLE

# The evaluation block's resources live in their own module (it builds on handlers').
HANDLERS.update(questionnaires.HANDLERS)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024


def _handler(resource_type: str):
    handler = HANDLERS.get(resource_type)
    if handler is None:
        raise FhirError(404, f"Type de ressource non pris en charge : {resource_type[:60]}.", code="not-supported")
    return handler


def _body(request: HttpRequest):
    if len(request.body) > MAX_BODY_BYTES:
        raise FhirError(413, "Ressource trop volumineuse.", code="too-costly")
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid(
            "Bundle" if not request.body else "resource", "JSON invalide (application/fhir+json attendu)."
        ) from None


def _fhir_view(function):
    """Errors as OperationOutcome; a refusal changes nothing (writes are atomic)."""

    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return function(request, *args, **kwargs)
        except FhirError as error:
            return error_response(error)
        except ValidationError as error:
            return error_response(invalid("resource", " ".join(error.messages)))
        except Http404:
            # From a block's service: the same 404 as the gate's, as an OperationOutcome.
            return error_response(not_found())
        except PermissionDenied as error:
            return error_response(FhirError(403, str(error) or "Accès refusé.", code="forbidden"))

    view.__name__ = function.__name__
    return csrf_exempt(view)


def _context(request: HttpRequest, caller) -> Context:
    return Context(caller, request.get_full_path()[:300])


@_fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "metadata : seule la lecture (GET) est possible.", code="not-supported")
    return response(capability_statement())


@_fhir_view
def type_endpoint(request: HttpRequest, resource_type: str) -> HttpResponse:
    handler = _handler(resource_type)
    caller = auth.resolve(request)
    ctx = _context(request, caller)
    if request.method == "GET":
        caller.require(resource_type, "read")
        if resource_type == "Binary":
            return handler.search(ctx, None)
        query = Query(request, resource_type, handler.params)
        for include in query.values("_include"):
            if include not in handler.includes:
                raise invalid("_include", f"valeur non prise en charge : {include[:80]}.")
        result: Result = handler.search(ctx, query)
        return response(searchset(request, result.resources, result.next_cursor, result.included))
    if request.method == "PUT" and "update" in handler.writes and resource_type != "Subscription":
        caller.require(resource_type, "write")
        return _conditional_update(request, ctx, resource_type)
    if request.method == "POST" and resource_type == "QuestionnaireResponse":
        caller.require(resource_type, "write")
        with transaction.atomic():
            evaluation = questionnaires.create_questionnaire_response(ctx, _body(request))
        body = questionnaires.read_questionnaire_response(ctx, str(evaluation.pk))
        return response(body, 201, {"Location": f"{base_url()}/QuestionnaireResponse/{evaluation.pk}"})
    if request.method == "POST" and "create" in handler.writes:
        caller.require(resource_type, "write")
        with transaction.atomic():
            subscription = subscriptions.create(ctx, _body(request))
        body = subscriptions.render(subscription)
        return response(body, 201, {"Location": f"{base_url()}/Subscription/{subscription.pk}"})
    raise FhirError(405, f"{resource_type} : interaction non prise en charge ({request.method}).", code="not-supported")


def _conditional_update(request: HttpRequest, ctx: Context, resource_type: str) -> HttpResponse:
    resource = _body(request)
    with transaction.atomic():
        if resource_type == "Patient":
            outcome = writes.upsert_patient(ctx, request, resource)
        elif resource_type == "Appointment":
            outcome = writes.upsert_appointment(ctx, request, resource)
        else:
            outcome = writes.upsert_document(ctx, request, resource)
    if resource_type == "Patient":
        body = read_patient(ctx, str(outcome.obj.pk))
    elif resource_type == "Appointment":
        body = HANDLERS["Appointment"].read(ctx, str(outcome.obj.pk))
    else:
        body = read_document_reference(ctx, f"doc-{outcome.obj.pk}")
    status = 201 if outcome.created else 200
    headers = {"Location": f"{base_url()}/{resource_type}/{body['id']}"} if outcome.created else {}
    return response(body, status, headers)


@_fhir_view
def instance_endpoint(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    handler = _handler(resource_type)
    caller = auth.resolve(request)
    ctx = _context(request, caller)
    if len(resource_id) > 64:
        raise not_found(resource_type)
    if request.method == "GET":
        caller.require(resource_type, "read")
        if resource_type == "Binary":
            stored, content_type, name = handler.read(ctx, resource_id)
            return private_file_response(stored, content_type=content_type, filename=name)
        return response(handler.read(ctx, resource_id))
    if resource_type == "Subscription" and request.method in ("PUT", "DELETE"):
        caller.require(resource_type, "write")
        subscription = None
        if caller.software is not None and resource_id.isdigit():
            subscription = Subscription.objects.filter(pk=int(resource_id), software=caller.software).first()
        if subscription is None:
            raise not_found("Subscription")
        with transaction.atomic():
            if request.method == "DELETE":
                subscription = services.subscription_end(software=caller.software, subscription=subscription)
            else:
                subscription = subscriptions.update(ctx, subscription, _body(request))
        return response(subscriptions.render(subscription))
    raise FhirError(405, f"{resource_type} : interaction non prise en charge ({request.method}).", code="not-supported")


@_fhir_view
def patient_everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    """`GET Patient/<id>/$everything`: the person's whole record the caller may read, as
    one Bundle (type collection), streamed. A connected software gets the resource types
    its token's scopes allow (`system/Patient.read` at least)."""
    if request.method != "GET":
        raise FhirError(405, "$everything : seule la lecture (GET) est possible.", code="not-supported")
    caller = auth.resolve(request)
    caller.require("Patient", "read")
    types = None
    if caller.software is not None:
        types = [name for name in READABLE if caller.token.allow_scopes([f"system/{name}.read"])]
    try:
        person_id = int(resource_id)
    except ValueError:
        raise not_found("Patient") from None
    if not 0 < person_id < 2**62:
        raise not_found("Patient")
    try:
        found = everything_operation.gather(caller.user, person_id, path=request.path[:300], types=types)
    except Http404:
        raise not_found("Patient") from None
    return StreamingHttpResponse(
        (chunk.encode() for chunk in everything_operation.bundle_chunks(found)),
        content_type=f"{JSON}; charset=utf-8",
    )
