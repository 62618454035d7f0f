"""Subscriptions in the CI-SIS "notification d'évènements" shape (NdE_SubscriptionNdE):
contained Patient and Organization, extensions Start, Subject, Declarant, EventType,
Subscriber; a rest-hook channel. And the notification each delivery carries: a
CommunicationRequest (NdE_NotificationRequestNdE) with references only — identifiers,
the event type, a generic sentence, never a name or a health detail."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from common.notify import catalogue
from interop import services
from interop.fhir import codes
from interop.fhir.common import FhirError, instant, invalid, prune, reference
from interop.fhir.handlers import Context, _find_person_id
from interop.fhir.resources import coding, outcome_person_identifiers
from interop.fhir.writes import _moment, _text
from interop.models import Subscription, SubscriptionStatus

STATUS_TO_FHIR = {SubscriptionStatus.ACTIVE: "active", SubscriptionStatus.OFF: "off", SubscriptionStatus.ERROR: "error"}
EVENT_TYPE_SYSTEM_NAME = "types-evenements"


def event_type_coding(event_type: str) -> dict:
    kind = catalogue().get(event_type)
    return coding(codes.local_system(EVENT_TYPE_SYSTEM_NAME), event_type, kind.label if kind else None)


def subscribable_types() -> list[str]:
    """The catalogue's types about a person, whose recipients the gate filters."""
    return [key for key, kind in catalogue().items() if kind.category is not None]


def _contained(subscription: Subscription) -> list[dict]:
    structure = subscription.software.structure
    return [
        {"resourceType": "Patient", "id": "patient", "identifier": outcome_person_identifiers(subscription.person)},
        {
            "resourceType": "Organization",
            "id": "structure",
            "identifier": [{"system": codes.FINESS_SYSTEM, "value": structure.finess}],
            "name": structure.name,
        },
    ]


def render(subscription: Subscription) -> dict:
    extension = [
        {"url": codes.NDE_EXT["subscription_date"], "valueDateTime": instant(subscription.created_at)},
        {"url": codes.NDE_EXT["start"], "valueDateTime": instant(subscription.starts_at)},
        {"url": codes.NDE_EXT["subject"], "valueReference": {"reference": "#patient"}},
        {"url": codes.NDE_EXT["declarant"], "valueReference": {"reference": "#structure"}},
        {
            "url": codes.NDE_EXT["event_type"],
            "valueCodeableConcept": {"coding": [event_type_coding(subscription.event_type)]},
        },
        {"url": codes.NDE_EXT["subscriber"], "valueReference": {"reference": "#structure"}},
    ]
    return prune(
        {
            "resourceType": "Subscription",
            "id": str(subscription.pk),
            "meta": {"profile": [codes.PROFILE_SUBSCRIPTION]},
            "contained": _contained(subscription),
            "extension": extension,
            "status": STATUS_TO_FHIR.get(subscription.status, "off"),
            "end": instant(subscription.ends_at),
            "reason": subscription.reason or "Notification d'évènements du portail de coordination",
            "criteria": f"CommunicationRequest?event-type={subscription.event_type}",
            "error": subscription.last_error or None,
            # The header is the software's own secret: accepted, never echoed.
            "channel": {"type": "rest-hook", "endpoint": subscription.endpoint, "payload": codes.JSON},
        }
    )


def _extension(resource: dict, name: str) -> tuple[int, dict] | tuple[None, None]:
    for position, extension in enumerate(resource.get("extension") or []):
        if isinstance(extension, dict) and extension.get("url") == codes.NDE_EXT[name]:
            return position, extension
    return None, None


def _endpoint(value) -> str:
    expression = "Subscription.channel.endpoint"
    if not isinstance(value, str) or not value:
        raise invalid(expression, "l'adresse de notification (URL) est obligatoire.")
    try:
        URLValidator(schemes=["https", "http"])(value)
    except ValidationError:
        raise invalid(expression, "adresse de notification invalide.") from None
    parts = urlsplit(value)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (settings.FHIR_ALLOW_HTTP_HOOKS and loopback):
        raise invalid(expression, "l'adresse de notification doit être en https.")
    return value[:500]


def _header(channel: dict) -> str:
    headers = channel.get("header") or []
    if not isinstance(headers, list) or len(headers) > 1:
        raise invalid("Subscription.channel.header", "un seul en-tête « Nom: valeur » est accepté.")
    if not headers:
        return ""
    header = headers[0]
    if not isinstance(header, str) or ":" not in header or "\n" in header or "\r" in header or len(header) > 500:
        raise invalid("Subscription.channel.header", "en-tête attendu sous la forme « Nom: valeur ».")
    return header


def _event_type(resource: dict) -> str:
    position, extension = _extension(resource, "event_type")
    expression = f"Subscription.extension[{position}]" if position is not None else "Subscription.extension[EventType]"
    code = None
    if extension is not None:
        for item in (extension.get("valueCodeableConcept") or {}).get("coding", []):
            if isinstance(item, dict):
                code = item.get("code")
    criteria = resource.get("criteria")
    if code is None and isinstance(criteria, str) and "event-type=" in criteria:
        code = criteria.split("event-type=", 1)[1].split("&", 1)[0]
    if code not in subscribable_types():
        raise invalid(
            expression,
            f"type d'évènement inconnu ou non disponible : utilisez un code du système "
            f"{codes.local_system(EVENT_TYPE_SYSTEM_NAME)} (par exemple liaison.transmission_shared).",
        )
    return code


def _subject(ctx: Context, resource: dict) -> int:
    position, extension = _extension(resource, "subject")
    expression = f"Subscription.extension[{position}]" if position is not None else "Subscription.extension[Subject]"
    ref = (extension or {}).get("valueReference") or {}
    target = ref.get("reference") if isinstance(ref, dict) else None
    if isinstance(target, str) and target.startswith("Patient/") and target[8:].isdigit():
        return int(target[8:])
    if isinstance(target, str) and target.startswith("#"):
        for contained in resource.get("contained") or []:
            if (
                isinstance(contained, dict)
                and contained.get("id") == target[1:]
                and contained.get("resourceType") == "Patient"
            ):
                for identifier in contained.get("identifier") or []:
                    if isinstance(identifier, dict) and identifier.get("value"):
                        found = _find_person_id(ctx, identifier.get("system"), str(identifier["value"]))
                        if found:
                            return found
    raise invalid(
        expression, "la personne concernée (Patient/id, ou Patient contenu avec son identifiant) est inconnue."
    )


def create(ctx: Context, resource) -> Subscription:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Subscription":
        raise invalid("Subscription.resourceType", "une ressource Subscription est attendue.")
    channel = resource.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise invalid("Subscription.channel.type", "seul le canal « rest-hook » est pris en charge.")
    event_type = _event_type(resource)
    person_id = _subject(ctx, resource)
    person = ctx.gate(person_id, catalogue()[event_type].category)
    _position, start = _extension(resource, "start")
    starts_at = _moment((start or {}).get("valueDateTime"), "Subscription.extension[Start]", required=False)
    ends_at = _moment(resource.get("end"), "Subscription.end", required=False)
    if ends_at is not None and ends_at <= (starts_at or timezone.now()):
        raise invalid("Subscription.end", "la fin de l'abonnement doit suivre son début.")
    return services.subscription_create(
        software=ctx.caller.software,
        person=person,
        event_type=event_type,
        endpoint=_endpoint(channel.get("endpoint")),
        header=_header(channel),
        reason=_text(resource.get("reason"), "Subscription.reason", max_length=300),
        starts_at=starts_at,
        ends_at=ends_at,
    )


def update(ctx: Context, subscription: Subscription, resource) -> Subscription:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Subscription":
        raise invalid("Subscription.resourceType", "une ressource Subscription est attendue.")
    if resource.get("id") not in (None, str(subscription.pk)):
        raise invalid("Subscription.id", "l'identifiant de la ressource diffère de celui de l'adresse.")
    status = resource.get("status", "active")
    wanted = {
        "requested": SubscriptionStatus.ACTIVE,
        "active": SubscriptionStatus.ACTIVE,
        "off": SubscriptionStatus.OFF,
    }
    if status not in wanted:
        raise invalid("Subscription.status", "requested, active ou off attendu.")
    if _event_type(resource) != subscription.event_type or _subject(ctx, resource) != subscription.person_id:
        raise FhirError(
            400,
            "Subscription : le type d'évènement et la personne d'un abonnement ne changent pas ; créez-en un autre.",
            expression="Subscription.extension",
        )
    channel = resource.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise invalid("Subscription.channel.type", "seul le canal « rest-hook » est pris en charge.")
    if wanted[status] == SubscriptionStatus.ACTIVE:
        ctx.gate(subscription.person_id, catalogue()[subscription.event_type].category)
    return services.subscription_update(
        software=ctx.caller.software,
        subscription=subscription,
        status=wanted[status],
        endpoint=_endpoint(channel.get("endpoint")),
        header=_header(channel),
        ends_at=_moment(resource.get("end"), "Subscription.end", required=False),
    )


def notification(subscription: Subscription, delivery) -> dict:
    """What the software receives: references only (NdE_NotificationRequestNdE)."""
    structure = subscription.software.structure
    notification = delivery.notification
    kind = catalogue().get(subscription.event_type)
    return prune(
        {
            "resourceType": "CommunicationRequest",
            "id": f"notification-{delivery.pk}",
            "meta": {"profile": [codes.PROFILE_NOTIFICATION]},
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": "patient",
                    "identifier": outcome_person_identifiers(subscription.person),
                },
                {
                    "resourceType": "Organization",
                    "id": "structure",
                    "identifier": [{"system": codes.FINESS_SYSTEM, "value": structure.finess}],
                    "name": structure.name,
                },
            ],
            "extension": [
                {
                    "url": codes.NDE_EXT["event_type"],
                    "valueCodeableConcept": {"coding": [event_type_coding(subscription.event_type)]},
                },
                {"url": codes.NDE_EXT["event_time"], "valueDateTime": instant(notification.created_at)},
                {"url": codes.NDE_EXT["emission_time"], "valueDateTime": instant(timezone.now())},
            ],
            "identifier": [{"system": codes.local_system("identifiant-notification"), "value": str(delivery.pk)}],
            "basedOn": [reference("Subscription", subscription.pk)],
            "status": "active",
            "medium": [{"coding": [coding(codes.PARTICIPATION_MODE_SYSTEM, "ELECTRONIC", "electronic data")]}],
            "subject": {"reference": "#patient"},
            "about": [reference("Patient", subscription.person_id)],
            "payload": [{"contentString": kind.message if kind else "Il y a du nouveau sur le portail."}],
            "authoredOn": instant(notification.created_at),
            "requester": {"reference": "#structure"},
            "recipient": [
                {
                    "reference": "#structure",
                    "extension": [{"url": codes.NDE_EXT["recipient_endpoint"], "valueUrl": subscription.endpoint}],
                }
            ],
        }
    )
