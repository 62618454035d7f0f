"""Writes of the interoperability layer: connecting a structure's software, and what that
software sends (persons, appointments, documents, subscriptions).

Each service is atomic and writes through the blocks' own services, as the connected
software's service account, so the gate, the audit rows, the notifications and the
outboxes (DMP) are those of the pages. A resource sent twice changes nothing the second
time: the identifier the software gave it finds the object again, and the hash of what
was accepted tells that nothing changed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from agenda import services as agenda_services
from agenda.models import Event, EventSource, EventStatus
from coordination import access
from coordination import services as coordination_services
from coordination.models import (
    Accompaniment,
    Category,
    Person,
    Profession,
    Professional,
    Structure,
    TeamMembership,
    TeamRole,
)
from documents import services as document_services
from documents.models import Document, DocumentStatus
from interop.audit_types import InteropAudit
from interop.models import ConnectedSoftware, ResourceKind, SourceIdentifier, Subscription, SubscriptionStatus
from interop.scopes import DEFAULT_SOFTWARE_SCOPES

SOFTWARE_EMAIL_DOMAIN = "logiciels.invalid"  # RFC 2606: never deliverable, never a sign-in


def content_hash(resource: dict) -> str:
    """SHA-256 of what was sent (server-side elements left out)."""
    import json

    kept = {k: v for k, v in resource.items() if k not in ("id", "meta", "text")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- Connected software --------------------------------------------------------------------------


@transaction.atomic
def connected_software_create(
    *,
    actor,
    structure: Structure,
    name: str,
    team_role: str = TeamRole.SOFTWARE,
    scopes: str = DEFAULT_SOFTWARE_SCOPES,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[ConnectedSoftware, str]:
    """Connect a structure's software: an OAuth client (client credentials, secret hashed
    at rest: returned here once) and a service account in the structure's team, which
    enters, with the role's defaults, the circle of every person the structure accompanies.
    Returns (software, client secret)."""
    if not (name or "").strip():
        raise ValidationError({"name": "Donnez le nom du logiciel."})
    if team_role not in TeamRole.values:
        raise ValidationError({"team_role": "Rôle d'équipe inconnu."})
    secret = client_secret or secrets.token_urlsafe(32)
    application = Application(
        name=f"{name.strip()} — {structure.name}"[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    if client_id:
        application.client_id = client_id
    application.full_clean(exclude=["user", "redirect_uris", "post_logout_redirect_uris", "allowed_origins"])
    application.save()
    User = get_user_model()
    user = User.objects.create_user(
        email=f"logiciel-{uuid.uuid4().hex[:12]}@{SOFTWARE_EMAIL_DOMAIN}",
        first_name="Logiciel de la structure",
        last_name=structure.name[:150],
    )
    professional = coordination_services.professional_create(actor=actor, user=user, profession=Profession.SOFTWARE)
    software = ConnectedSoftware.objects.create(
        name=name.strip(),
        structure=structure,
        application=application,
        user=user,
        team_role=team_role,
        scopes=" ".join(scopes.split()),
    )
    coordination_services.team_member_add(actor=actor, structure=structure, professional=professional, role=team_role)
    coordination_services.audit(actor, None, InteropAudit.SOFTWARE_CONNECTED, software=software.pk, name=software.name)
    return software, secret


@transaction.atomic
def connected_software_revoke(*, actor, software: ConnectedSoftware) -> ConnectedSoftware:
    """Disconnect at once: its tokens stop working, its subscriptions stop, its service
    account leaves the structure's team (and so every circle)."""
    software = ConnectedSoftware.objects.select_for_update().get(pk=software.pk)
    if not software.is_active:
        return software
    now = timezone.now()
    software.is_active = False
    software.revoked_at = now
    software.save(update_fields=["is_active", "revoked_at"])
    AccessToken.objects.filter(application=software.application).delete()
    RefreshToken.objects.filter(application=software.application).delete()
    Subscription.objects.filter(software=software, status=SubscriptionStatus.ACTIVE).update(
        status=SubscriptionStatus.OFF, ended_at=now
    )
    for membership in TeamMembership.objects.filter(professional__user=software.user, ended_on__isnull=True):
        coordination_services.team_member_end(actor=actor, membership=membership)
    coordination_services.audit(actor, None, InteropAudit.SOFTWARE_REVOKED, software=software.pk, name=software.name)
    return software


# --- What a software sends -------------------------------------------------------------------------


@dataclass
class Outcome:
    obj: object
    created: bool
    changed: bool


def _link(software: ConnectedSoftware, kind: str, system: str, value: str) -> SourceIdentifier | None:
    return (
        SourceIdentifier.objects.select_for_update()
        .filter(software=software, kind=kind, system=system, value=value)
        .first()
    )


def _remember(software, kind, system, value, obj_id: int, person_id: int, digest: str, link=None) -> None:
    now = timezone.now()
    if link is None:
        SourceIdentifier.objects.create(
            software=software,
            kind=kind,
            system=system,
            value=value,
            object_id=obj_id,
            person_id=person_id,
            content_hash=digest,
            received_at=now,
            updated_at=now,
        )
    else:
        link.object_id, link.person_id, link.content_hash, link.updated_at = obj_id, person_id, digest, now
        link.save(update_fields=["object_id", "person_id", "content_hash", "updated_at"])


TRAIT_FIELDS = ("birth_name", "birth_first_names", "birth_date", "sex", "birth_place_insee")


@transaction.atomic
def patient_upsert(*, software: ConnectedSoftware, system: str, value: str, traits: dict, digest: str) -> Outcome:
    """The software's patient: found by its identifier, else by INS, else by the identity
    traits; created (and accompanied by the structure) when unknown. Identity traits and
    INS are checked by the kernel as in the pages (`Person.full_clean`)."""
    actor = software.user
    link = _link(software, ResourceKind.PATIENT, system, value)
    if link is not None:
        person = access.require(actor, link.person_id, Category.RECORD, "read").person
        if link.content_hash == digest:
            return Outcome(person, False, False)
        person = coordination_services.person_update(actor=actor, person=person, **traits)
        _remember(software, ResourceKind.PATIENT, system, value, person.pk, person.pk, digest, link)
        return Outcome(person, False, True)
    person = None
    if traits.get("ins_matricule"):
        person = Person.objects.filter(ins_matricule=traits["ins_matricule"]).first()
    if person is None:
        person = Person.objects.filter(**{f: traits.get(f, "") for f in TRAIT_FIELDS}).first()
    created = person is None
    if created:
        person = coordination_services.person_create(actor=actor, structure=software.structure, **traits)
    else:
        if not Accompaniment.objects.filter(
            person=person, structure=software.structure, ended_on__isnull=True
        ).exists():
            # The structure admits a person the portal already knows: its team (and
            # this software) enter the circle with their defaults.
            coordination_services.accompaniment_start(actor=actor, person=person, structure=software.structure)
        person = coordination_services.person_update(actor=actor, person=person, **traits)
    coordination_services.audit(
        actor, person, InteropAudit.PATIENT_RECEIVED, software=software.pk, identifier=f"{system}|{value}"
    )
    _remember(software, ResourceKind.PATIENT, system, value, person.pk, person.pk, digest)
    return Outcome(person, created, True)


def _event_uid(software: ConnectedSoftware, system: str, value: str) -> str:
    digest = hashlib.sha256(f"{software.pk}|{system}|{value}".encode()).hexdigest()[:32]
    return f"{digest}@fhir.portail-coordination"


@transaction.atomic
def appointment_upsert(
    *,
    software: ConnectedSoftware,
    system: str,
    value: str,
    person: Person,
    fields: dict,
    professionals: list[Professional],
    cancelled: bool,
    digest: str,
) -> Outcome:
    """An appointment of the software's agenda: it shows in the person's agenda and in the
    agendas of the professionals taking part, marked as coming from this software (source
    `import`, not editable in the portal), and is cancelled when the software cancels it."""
    actor = software.user
    link = _link(software, ResourceKind.APPOINTMENT, system, value)
    if link is not None:
        event = Event.objects.filter(pk=link.object_id).first()
        if event is None:
            raise ValidationError({"identifier": "Ce rendez-vous n'existe plus dans le portail."})
        if event.person_id != person.pk:
            raise ValidationError({"participant": "Un rendez-vous ne change pas de personne : envoyez-en un nouveau."})
        if link.content_hash == digest:
            access.require(actor, person, Category.AGENDA, "read")
            return Outcome(event, False, False)
        if cancelled:
            event = agenda_services.event_cancel(
                actor=actor, event=event, reason="Annulé dans le logiciel de la structure"
            )
        elif event.status == EventStatus.CANCELLED:
            raise ValidationError({"status": "Ce rendez-vous est annulé : un rendez-vous annulé ne reprend pas."})
        else:
            changes = {k: v for k, v in fields.items() if getattr(event, k) != v}
            known = set(event.participants.values_list("professional_id", flat=True))
            newcomers = [p for p in professionals if p.pk not in known]
            if changes or newcomers:
                event = agenda_services.event_update(actor=actor, event=event, participants=newcomers, **changes)
        _remember(software, ResourceKind.APPOINTMENT, system, value, event.pk, person.pk, digest, link)
        return Outcome(event, False, True)
    event, _created = agenda_services.event_upsert_from_source(
        actor=actor,
        uid=_event_uid(software, system, value),
        source=EventSource.IMPORT,
        source_reference=f"{system}|{value}"[:255],
        person=person,
        structure=software.structure,
        participants=professionals,
        **fields,
    )
    if cancelled:
        event = agenda_services.event_cancel(actor=actor, event=event, reason="Annulé dans le logiciel de la structure")
    _remember(software, ResourceKind.APPOINTMENT, system, value, event.pk, person.pk, digest)
    return Outcome(event, True, True)


WITHDRAW_REASON = "Retiré par le logiciel de la structure"


@transaction.atomic
def document_upsert(
    *,
    software: ConnectedSoftware,
    system: str,
    value: str,
    person: Person,
    doc_type: str,
    title: str,
    content: bytes,
    filename: str,
    document_on: date | None,
    final: bool,
    withdrawn: bool,
    digest: str,
) -> Outcome:
    """A document of the software: the same content checks as an upload
    (`documents.uploads.check_upload`, inside `document_create`), then the usual rules
    (a final document is validated, and the DMP outbox takes it if it is eligible and
    the person has not opposed feeding). A changed file makes a new version."""
    actor = software.user
    link = _link(software, ResourceKind.DOCUMENT, system, value)
    if link is None:
        if withdrawn:
            raise ValidationError({"status": "Ce document est inconnu du portail : il ne peut pas être retiré."})
        document = document_services.document_create(
            actor=actor,
            person=person,
            doc_type=doc_type,
            title=title,
            content=content,
            filename=filename,
            document_on=document_on,
            validate=final,
        )
        _remember(software, ResourceKind.DOCUMENT, system, value, document.pk, person.pk, digest)
        return Outcome(document, True, True)
    document = Document.objects.filter(pk=link.object_id).first()
    if document is None or document.person_id != person.pk:
        raise ValidationError({"subject": "Un document ne change pas de personne : envoyez-en un nouveau."})
    if link.content_hash == digest:
        access.require(actor, person, Category.DOCUMENTS, "read")
        return Outcome(document, False, False)
    if withdrawn:
        if document.status != DocumentStatus.WITHDRAWN:
            document = document_services.document_withdraw(actor=actor, document=document, reason=WITHDRAW_REASON)
    elif document.status == DocumentStatus.DRAFT and final:
        document = document_services.document_validate(actor=actor, document=document)
    elif document.status == DocumentStatus.VALIDATED:
        document = document_services.document_replace(
            actor=actor,
            document=document,
            content=content,
            filename=filename,
            title=title,
            document_on=document_on,
            validate=final,
        )
    else:
        raise ValidationError(
            {
                "status": "Ce document ne peut plus changer (brouillon non validé, retiré ou refusé) : "
                "envoyez-en un nouveau."
            }
        )
    _remember(software, ResourceKind.DOCUMENT, system, value, document.pk, person.pk, digest, link)
    return Outcome(document, False, True)


# --- Subscriptions ---------------------------------------------------------------------------------


@transaction.atomic
def subscription_create(
    *,
    software: ConnectedSoftware,
    person: Person,
    event_type: str,
    endpoint: str,
    header: str = "",
    reason: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Subscription:
    """Subscribe the software to one event type of the catalogue for one person it reaches
    (the caller checked the gate). Deliveries go through the notifications' outbox."""
    subscription = Subscription.objects.create(
        software=software,
        person=person,
        event_type=event_type,
        endpoint=endpoint,
        header=header,
        reason=reason[:300],
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
    )
    coordination_services.audit(
        software.user,
        person,
        InteropAudit.SUBSCRIPTION_CREATED,
        subscription=subscription.pk,
        notification_type=event_type,
    )
    return subscription


@transaction.atomic
def subscription_update(*, software: ConnectedSoftware, subscription: Subscription, **changes) -> Subscription:
    """Change the endpoint, header or end, or stop (`status=off`) / resume (`active`)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk, software=software)
    for name, value in changes.items():
        setattr(subscription, name, value)
    if changes.get("status") == SubscriptionStatus.OFF and subscription.ended_at is None:
        subscription.ended_at = timezone.now()
        coordination_services.audit(
            software.user, subscription.person, InteropAudit.SUBSCRIPTION_ENDED, subscription=subscription.pk
        )
    if changes.get("status") == SubscriptionStatus.ACTIVE:
        subscription.ended_at = None
        subscription.last_error = ""
    subscription.save()
    return subscription


def subscription_end(*, software: ConnectedSoftware, subscription: Subscription) -> Subscription:
    """Stop a subscription: no new notification, and what was still queued is not sent."""
    return subscription_update(software=software, subscription=subscription, status=SubscriptionStatus.OFF)
