"""Writes of the agenda. Each service is atomic, checks who may act (the gate, category
`agenda`, for an event of a person), writes its typed audit row in the same transaction
and notifies participants through the notifications block (generic messages only).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agenda import recurrence, selectors
from agenda.audit_types import AgendaAudit
from agenda.models import (
    AgendaFeed,
    Event,
    EventPlace,
    EventSource,
    EventStatus,
    EventType,
    ExternalBusyTime,
    ExternalCalendar,
    ExternalCalendarKind,
    FeedOwnerKind,
    Participant,
    ParticipantKind,
    PlaceKind,
    Response,
    Visibility,
)
from common.handoff import last_error_recorder, queue_after_commit
from common.notify import notify
from common.timezone import PARIS_NAME
from coordination import access, rules
from coordination.models import Category, Person, Professional, Structure, TeamMembership
from coordination.services import audit

EDITABLE_FIELDS = (
    "title",
    "motive",
    "event_type",
    "starts_at",
    "ends_at",
    "is_all_day",
    "visibility",
    "rrule",
    "serafin_service",
    "status",
    "answer_deadline",
)


class NotAllowed(access.AccessDenied):
    """A member who may read the agenda but not change this event (403)."""


# --- Permissions ------------------------------------------------------------------------


def is_persons_own(event: Event) -> bool:
    """An appointment the person (or her legal representative) added herself, in the
    portal: it is hers, shown to who may read her agenda, changed only by her side."""
    if event.person_id is None or event.source != EventSource.PORTAL or event.created_by_id is None:
        return False
    person = event.person
    return (
        event.created_by_id == person.user_id
        or rules.legal_representative_links(person=person, user=event.created_by_id).exists()
    )


def _require_write(actor, event: Event) -> None:
    """Who may change an event: agenda writers of the person who may see it; for an event
    without a person, its creator or organiser. An event sent by a structure's software
    (source `import`) changes only through that software (it is the master copy)."""
    if event.source == EventSource.IMPORT and event.created_by_id != actor.pk:
        raise NotAllowed(
            "Ce rendez-vous vient du logiciel de la structure : il se modifie ou s'annule dans ce logiciel."
        )
    if event.person_id is not None and is_persons_own(event) and not rules.is_decider(actor, event.person):
        raise NotAllowed(
            "Ce rendez-vous a été ajouté par la personne : seuls elle et son représentant légal le modifient."
        )
    if event.person_id is not None:
        access.require(actor, event.person_id, Category.AGENDA, "write")
        if not selectors.can_see(actor, event):
            raise access.Http404
        return
    if (
        event.created_by_id == actor.pk
        or event.participants.filter(is_organiser=True, professional__user=actor).exists()
    ):
        return
    raise NotAllowed("Seul l'organisateur peut modifier ce rendez-vous.")


def _structure_for(actor, person: Person | None, structure: Structure | None) -> Structure | None:
    teams = TeamMembership.objects.filter(professional__user=actor, ended_on__isnull=True)
    if structure is not None:
        if not teams.filter(structure=structure).exists():
            raise ValidationError({"structure": "Vous ne faites pas partie de l'équipe de cette structure."})
        return structure
    if person is not None:
        accompanying = list(
            Structure.objects.filter(
                pk__in=teams.values("structure_id"),
                accompaniments__person=person,
                accompaniments__ended_on__isnull=True,
            ).distinct()[:2]
        )
        if accompanying:
            return accompanying[0]
    mine = list(Structure.objects.filter(pk__in=teams.values("structure_id"))[:1])
    return mine[0] if mine else None


# --- Validation -------------------------------------------------------------------------


def _validate(fields: dict, places: list[dict] | None) -> None:
    errors: dict[str, str] = {}
    if not (fields.get("title") or "").strip():
        errors["title"] = "Indiquez un titre."
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if starts_at is None:
        errors["starts_at"] = "Indiquez le début."
    if ends_at is None and not fields.get("is_all_day"):
        errors["ends_at"] = "Indiquez la fin."
    if starts_at and ends_at:
        if fields.get("is_all_day") and ends_at < starts_at:
            errors["ends_at"] = "La fin doit être le même jour que le début ou après."
        elif not fields.get("is_all_day") and ends_at <= starts_at:
            errors["ends_at"] = "La fin doit être après le début."
        elif ends_at - starts_at > timedelta(days=31):
            errors["ends_at"] = (
                "Un évènement dure au plus 31 jours ; pour une activité régulière, utilisez la récurrence."
            )
    if fields.get("event_type") and fields["event_type"] not in EventType.values:
        errors["event_type"] = "Type d'évènement inconnu."
    if fields.get("visibility") and fields["visibility"] not in Visibility.values:
        errors["visibility"] = "Visibilité inconnue."
    for place in places or []:
        kind = place.get("kind")
        if kind not in PlaceKind.values:
            errors["places"] = "Type de lieu inconnu : choisissez une adresse, le domicile ou une visioconférence."
        elif kind == PlaceKind.ADDRESS and not (place.get("address") or place.get("label") or "").strip():
            errors["places"] = "Indiquez l'adresse du lieu."
        elif kind == PlaceKind.VISIO:
            url = (place.get("url") or "").strip()
            try:
                URLValidator(schemes=["https"])(url)
            except ValidationError:
                errors["places"] = "Indiquez le lien de visioconférence (une adresse https://)."
    if errors:
        raise ValidationError(errors)
    if fields.get("rrule"):
        zone = recurrence.ZoneInfo(fields.get("time_zone") or PARIS_NAME)
        recurrence.parse_rule(fields["rrule"], starts_at.astimezone(zone).replace(tzinfo=None), zone)


def _normalise_all_day(fields: dict) -> None:
    """An all-day event runs from local midnight of its first day to midnight after its last."""
    if not fields.get("is_all_day") or fields.get("starts_at") is None:
        return
    zone = fields.get("time_zone") or PARIS_NAME
    tz = recurrence.ZoneInfo(zone)
    first = fields["starts_at"].astimezone(tz).date()
    last = (fields.get("ends_at") or fields["starts_at"]).astimezone(tz).date()
    if (
        fields.get("ends_at") is not None
        and fields["ends_at"].astimezone(tz).time() == datetime.min.time()
        and last > first
    ):
        last = last - timedelta(days=1)
    fields["starts_at"], fields["ends_at"] = recurrence.all_day_bounds(first, max(first, last), zone)


def _set_places(event: Event, places: list[dict] | None) -> None:
    if places is None:
        return
    event.places.all().delete()
    EventPlace.objects.bulk_create(
        [
            EventPlace(
                event=event,
                kind=p["kind"],
                label=(p.get("label") or "")[:200],
                address=p.get("address") or "",
                url=p.get("url") or "",
            )
            for p in places
        ]
    )


def _add_participants(event: Event, professionals: Iterable[Professional], actor) -> None:
    existing = set(event.participants.filter(professional__isnull=False).values_list("professional_id", flat=True))
    rows = []
    for professional in professionals or []:
        if professional.pk in existing:
            continue
        existing.add(professional.pk)
        is_actor = professional.user_id == actor.pk
        rows.append(
            Participant(
                event=event,
                kind=ParticipantKind.PROFESSIONAL,
                professional=professional,
                user_id=professional.user_id,
                display_name=professional.user.get_full_name() or str(professional),
                is_organiser=is_actor,
                response=Response.ACCEPTED if is_actor else Response.NEEDS_ACTION,
                responded_at=timezone.now() if is_actor else None,
            )
        )
    Participant.objects.bulk_create(rows)


def _participant_users(event: Event, actor=None) -> list[int]:
    ids = set(event.participants.filter(user__isnull=False).values_list("user_id", flat=True))
    ids |= set(event.participants.filter(professional__isnull=False).values_list("professional__user_id", flat=True))
    if event.created_by_id:
        ids.add(event.created_by_id)
    if actor is not None:
        ids.discard(actor.pk)
    return sorted(ids)


def _notify(event: Event, kind: str, actor) -> None:
    recipients = _participant_users(event, actor)
    if not recipients:
        return
    url = reverse("agenda:event", args=[event.recurrence_of_id or event.pk])
    notify(kind, person=event.person, actor=actor, url=url, recipients=recipients, subject=event)


def _audit(actor, event: Event, kind: str, **data) -> None:
    audit(actor, event.person, kind, event_id=event.pk, uid=event.uid, sequence=event.sequence, **data)


# --- Events -----------------------------------------------------------------------------


def event_insert(
    *, created_by, participants: Iterable[Participant] = (), places: list[dict] | None = None, **fields
) -> Event:
    """Store an event written by another agenda-facing service (booking, PPA), which has
    already checked who may act and writes its own audit row.

    Guarantees what the agenda's selectors rely on: `series_ends_at` computed by
    `agenda.recurrence` (the end of a single event, the end of the last occurrence of a
    bounded rule, None for an endless rule), a fresh UID and SEQUENCE 0, the places, and
    the participants (unsaved `Participant` rows) attached, each professional participant
    carrying the professional's account so that it shows in their own agenda.
    """
    now = timezone.now()
    fields.setdefault("created_at", now)
    fields.setdefault("updated_at", now)
    event = Event(created_by=created_by, **fields)
    event.series_ends_at = recurrence.series_end(event)
    event.save()
    _set_places(event, places)
    rows = []
    for participant in participants:
        participant.event = event
        if participant.professional_id and not participant.user_id:
            participant.user_id = participant.professional.user_id
        if not participant.display_name:
            participant.display_name = (
                str(participant.professional)
                if participant.professional_id
                else str(participant.user)
                if participant.user_id
                else ""
            )
        rows.append(participant)
    Participant.objects.bulk_create(rows)
    return event


def event_audit_created(actor, event: Event, **data) -> None:
    """The audit row of an event another block wrote with `event_insert` (PPA actions)."""
    audit(actor, event.person, AgendaAudit.EVENT_CREATED, event=event.pk, **data)


def series_cut(*, actor, event: Event, cutoff: datetime, **data) -> bool:
    """Ends a series at `cutoff` for another block (a PPA action changed or removed):
    past occurrences stay, future ones go; a series not started yet is cancelled.
    False when there was nothing to end."""
    if event.status == EventStatus.CANCELLED or (event.series_ends_at and event.series_ends_at <= cutoff):
        return False
    if event.starts_at >= cutoff:
        event.status = EventStatus.CANCELLED
    else:
        rule = ";".join(p for p in event.rrule.split(";") if not p.startswith(("UNTIL=", "COUNT=")))
        until = cutoff.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        event.rrule = f"{rule};UNTIL={until}"
        event.series_ends_at = recurrence.series_end(event)
    event.sequence += 1
    event.updated_at = timezone.now()
    event.save(update_fields=["status", "rrule", "series_ends_at", "sequence", "updated_at"])
    audit(actor, event.person, AgendaAudit.EVENT_UPDATED, event=event.pk, ended_at=cutoff.isoformat(), **data)
    return True


@transaction.atomic
def event_create(
    *,
    actor,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    person: Person | None = None,
    structure: Structure | None = None,
    places: list[dict] | None = None,
    participants: Iterable[Professional] = (),
    include_actor: bool = True,
    **fields,
) -> Event:
    """Create an event (single or recurring). For a person: only an agenda writer of that
    person may; an INTERNAL event belongs to the creator's structure. Audited; the
    invited participants are told."""
    if person is not None:
        access.require(actor, person, Category.AGENDA, "write")
    fields = {"title": title, "starts_at": starts_at, "ends_at": ends_at, **fields}
    _normalise_all_day(fields)
    _validate(fields, places)
    structure = _structure_for(actor, person, structure)
    if fields.get("visibility") == Visibility.INTERNAL and structure is None:
        raise ValidationError(
            {"visibility": "Un évènement interne appartient à une structure : vous n'êtes membre d'aucune équipe."}
        )
    now = timezone.now()
    event = Event(person=person, structure=structure, created_by=actor, created_at=now, updated_at=now, **fields)
    event.series_ends_at = recurrence.series_end(event)
    event.save()
    _set_places(event, places)
    professionals = list(participants)
    own = getattr(actor, "professional", None) if include_actor else None
    if own is not None and all(p.pk != own.pk for p in professionals):
        professionals.insert(0, own)
    _add_participants(event, professionals, actor)
    _audit(actor, event, AgendaAudit.EVENT_CREATED)
    if event.status == EventStatus.PROPOSED:
        _notify(event, "agenda.appointment_proposed", actor)
    else:
        _notify(event, "agenda.appointment_changed", actor)
    return event


def _lock(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


@transaction.atomic
def event_update(
    *,
    actor,
    event: Event,
    places: list[dict] | None = None,
    participants: Iterable[Professional] | None = None,
    **changes,
) -> Event:
    """Change an event: SEQUENCE+1 and `updated_at`; the participants are told. A
    cancelled or done event no longer changes."""
    event = _lock(event)
    _require_write(actor, event)
    if event.status in (EventStatus.CANCELLED, EventStatus.DONE):
        raise ValidationError({"status": "Un rendez-vous annulé ou réalisé ne peut plus être modifié."})
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Ce champ ne peut pas être modifié."})
    fields = {f: getattr(event, f) for f in EDITABLE_FIELDS}
    fields.update(changes)
    fields["time_zone"] = event.time_zone
    _normalise_all_day(fields)
    _validate(fields, places)
    if fields.get("visibility") == Visibility.INTERNAL and event.structure_id is None:
        raise ValidationError({"visibility": "Un évènement sans structure ne peut pas être interne."})
    for name in EDITABLE_FIELDS:
        setattr(event, name, fields[name])
    event.sequence += 1
    event.updated_at = timezone.now()
    event.series_ends_at = recurrence.series_end(event)
    event.save()
    _set_places(event, places)
    if participants is not None:
        _add_participants(event, participants, actor)
    _audit(actor, event, AgendaAudit.EVENT_UPDATED, fields=sorted(changes))
    _notify(event, "agenda.appointment_changed", actor)
    return event


@transaction.atomic
def event_cancel(*, actor, event: Event, reason: str = "") -> Event:
    """Cancel: the event stays, as cancelled (STATUS:CANCELLED in feeds), SEQUENCE+1."""
    event = _lock(event)
    _require_write(actor, event)
    if event.status == EventStatus.CANCELLED:
        return event
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    event.updated_at = timezone.now()
    event.save(update_fields=["status", "sequence", "updated_at"])
    _audit(actor, event, AgendaAudit.EVENT_CANCELLED, reason=reason[:500])
    _notify(event, "agenda.appointment_cancelled", actor)
    return event


@transaction.atomic
def event_mark_done(*, actor, event: Event) -> Event:
    """Mark a past event as done (FHIR fulfilled)."""
    event = _lock(event)
    _require_write(actor, event)
    if event.status == EventStatus.CANCELLED:
        raise ValidationError({"status": "Un rendez-vous annulé ne peut pas être marqué comme réalisé."})
    if event.starts_at > timezone.now():
        raise ValidationError({"status": "Un rendez-vous à venir ne peut pas encore être marqué comme réalisé."})
    event.status = EventStatus.DONE
    event.sequence += 1
    event.updated_at = timezone.now()
    event.save(update_fields=["status", "sequence", "updated_at"])
    _audit(actor, event, AgendaAudit.EVENT_UPDATED, status=EventStatus.DONE)
    return event


def _check_occurrence(series: Event, recurrence_id: datetime) -> None:
    if not series.rrule or series.recurrence_of_id is not None:
        raise ValidationError({"recurrence_id": "Cet évènement n'est pas une série."})
    starts = recurrence.occurrence_starts(
        series, recurrence_id - timedelta(minutes=1), recurrence_id + timedelta(minutes=1)
    )
    if all(s != recurrence_id for s, _e in starts):
        raise ValidationError({"recurrence_id": "Cette occurrence n'existe pas dans la série."})


@transaction.atomic
def occurrence_override(*, actor, event: Event, recurrence_id: datetime, **changes) -> Event:
    """Change one occurrence of a series: a row with the same UID and RECURRENCE-ID
    (updated in place if the occurrence was already changed). The series' SEQUENCE+1."""
    series = _lock(event)
    _require_write(actor, series)
    _check_occurrence(series, recurrence_id)
    override = Event.objects.filter(recurrence_of=series, recurrence_id=recurrence_id).first()
    if override is not None:
        return event_update(actor=actor, event=override, **changes)
    duration = series.ends_at - series.starts_at
    fields = {
        "title": series.title,
        "motive": series.motive,
        "event_type": series.event_type,
        "starts_at": recurrence_id,
        "ends_at": recurrence_id + duration,
        "is_all_day": series.is_all_day,
        "visibility": series.visibility,
        "serafin_service": series.serafin_service,
        "status": series.status,
        "time_zone": series.time_zone,
    }
    fields.update(changes)
    _validate(fields, None)
    now = timezone.now()
    series.sequence += 1
    series.updated_at = now
    series.save(update_fields=["sequence", "updated_at"])
    override = Event.objects.create(
        uid=series.uid,
        source=series.source,
        person=series.person,
        structure=series.structure,
        created_by=actor,
        recurrence_of=series,
        recurrence_id=recurrence_id,
        sequence=series.sequence,
        created_at=now,
        updated_at=now,
        series_ends_at=fields["ends_at"],
        **fields,
    )
    EventPlace.objects.bulk_create(
        [
            EventPlace(event=override, kind=p.kind, label=p.label, address=p.address, url=p.url)
            for p in series.places.all()
        ]
    )
    Participant.objects.bulk_create(
        [
            Participant(
                event=override,
                kind=p.kind,
                user_id=p.user_id,
                professional_id=p.professional_id,
                structure_id=p.structure_id,
                display_name=p.display_name,
                is_required=p.is_required,
                is_organiser=p.is_organiser,
                response=p.response,
                responded_at=p.responded_at,
            )
            for p in series.participants.all()
        ]
    )
    _audit(actor, override, AgendaAudit.EVENT_UPDATED, recurrence_id=recurrence_id.isoformat())
    _notify(override, "agenda.appointment_changed", actor)
    return override


@transaction.atomic
def occurrence_cancel(*, actor, event: Event, recurrence_id: datetime) -> Event:
    """Remove one occurrence of a series (EXDATE); a changed occurrence is cancelled too."""
    series = _lock(event)
    _require_write(actor, series)
    _check_occurrence(series, recurrence_id)
    key = recurrence_id.astimezone(recurrence.ZoneInfo("UTC")).isoformat()
    if recurrence_id not in recurrence.exdate_set(series):
        series.exdates = [*series.exdates, key]
    series.sequence += 1
    series.updated_at = timezone.now()
    series.save(update_fields=["exdates", "sequence", "updated_at"])
    Event.objects.filter(recurrence_of=series, recurrence_id=recurrence_id).update(
        status=EventStatus.CANCELLED, sequence=series.sequence, updated_at=series.updated_at
    )
    _audit(actor, series, AgendaAudit.EVENT_CANCELLED, recurrence_id=recurrence_id.isoformat())
    _notify(series, "agenda.appointment_cancelled", actor)
    return series


@transaction.atomic
def participant_respond(*, actor, event: Event, response: str, comment: str = "") -> Participant:
    """A participant accepts, declines or answers "tentative" (plain events; the booking
    flow has its own REPLY/COUNTER)."""
    if response not in (Response.ACCEPTED, Response.DECLINED, Response.TENTATIVE):
        raise ValidationError({"response": "Choisissez : accepter, refuser ou provisoire."})
    participant = (
        Participant.objects.select_for_update(of=("self",))
        .filter(event=event)
        .filter(Q(professional__user=actor) | Q(user=actor))
        .first()
    )
    if participant is None:
        raise NotAllowed("Vous ne participez pas à ce rendez-vous.")
    if event.status == EventStatus.CANCELLED:
        raise ValidationError({"response": "Ce rendez-vous est annulé."})
    participant.response = response
    participant.comment = comment[:2000]
    participant.responded_at = timezone.now()
    participant.save(update_fields=["response", "comment", "responded_at"])
    audit(actor, event.person, AgendaAudit.EVENT_ANSWERED, event_id=event.pk, response=response)
    if event.created_by_id != actor.pk:
        notify(
            "agenda.appointment_changed",
            person=event.person,
            actor=actor,
            url=reverse("agenda:event", args=[event.pk]),
            recipients=[event.created_by_id],
            subject=event,
        )
    return participant


@transaction.atomic
def event_upsert_from_source(
    *, actor, uid: str, source: str, source_reference: str = "", **fields
) -> tuple[Event, bool]:
    """The same event fed by several sources (same UID) is stored once: the first feed
    creates it, later feeds update it only when something changed. Returns (event, created)."""
    existing = Event.objects.select_for_update().filter(uid=uid, recurrence_of__isnull=True).first()
    if existing is None:
        event = event_create(
            actor=actor, uid=uid, source=source, source_reference=source_reference, include_actor=False, **fields
        )
        return event, True
    changes = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS and getattr(existing, k) != v}
    if changes:
        existing = event_update(actor=actor, event=existing, **changes)
    return existing, False


# --- ICS feeds --------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def agenda_feed_create(
    *, actor, kind: str, person: Person | None = None, include_titles: bool = False
) -> tuple[AgendaFeed, str]:
    """A secret subscription URL; returns (feed, token). Only the token's hash is stored:
    the URL is shown once."""
    if kind == FeedOwnerKind.PERSON:
        if person is None:
            raise ValidationError({"person": "Choisissez la personne."})
        access.require(actor, person, Category.AGENDA, "read")
    elif kind == FeedOwnerKind.PROFESSIONAL:
        person = None
        if getattr(actor, "professional", None) is None:
            raise NotAllowed("Seul un professionnel a un agenda professionnel.")
    else:
        raise ValidationError({"kind": "Type d'agenda inconnu."})
    token = secrets.token_urlsafe(32)
    feed = AgendaFeed.objects.create(
        owner=actor, kind=kind, person=person, token_hash=token_hash(token), include_titles=include_titles
    )
    audit(actor, person, AgendaAudit.AGENDA_FEED_CREATED, feed_id=feed.pk, include_titles=include_titles)
    return feed, token


@transaction.atomic
def agenda_feed_revoke(*, actor, feed: AgendaFeed) -> AgendaFeed:
    """The URL stops working at once (404)."""
    if feed.owner_id != actor.pk:
        raise access.Http404
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit(actor, feed.person, AgendaAudit.AGENDA_FEED_REVOKED, feed_id=feed.pk)
    return feed


@transaction.atomic
def agenda_feed_regenerate(*, actor, feed: AgendaFeed) -> tuple[AgendaFeed, str]:
    """Revoke the URL and make a new one with the same settings."""
    agenda_feed_revoke(actor=actor, feed=feed)
    return agenda_feed_create(actor=actor, kind=feed.kind, person=feed.person, include_titles=feed.include_titles)


def feed_for_token(token: str) -> AgendaFeed | None:
    return (
        AgendaFeed.objects.select_related("owner", "person")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )


# --- External calendars -----------------------------------------------------------------


@transaction.atomic
def external_calendar_add(*, actor, name: str, url: str = "", content: bytes | None = None) -> ExternalCalendar:
    """Register an external calendar (a URL refreshed periodically, or an uploaded file,
    imported now). Its events become busy times of the professional."""
    professional = getattr(actor, "professional", None)
    if professional is None:
        raise NotAllowed("Seul un professionnel peut ajouter un agenda externe.")
    if not (name or "").strip():
        raise ValidationError({"name": "Donnez un nom à cet agenda."})
    if bool(url) == bool(content):
        raise ValidationError({"url": "Indiquez une adresse ICS ou choisissez un fichier (l'un ou l'autre)."})
    if url:
        try:
            URLValidator(schemes=["http", "https", "webcal"])(url)
        except ValidationError:
            raise ValidationError({"url": "L'adresse de l'agenda n'est pas valide."}) from None
        url = "https" + url[len("webcal") :] if url.startswith("webcal") else url
    calendar = ExternalCalendar.objects.create(
        professional=professional,
        name=name.strip()[:100],
        kind=ExternalCalendarKind.URL if url else ExternalCalendarKind.FILE,
        url=url,
    )
    if content is not None:
        from agenda import ics

        ics.import_calendar(calendar, content)
    elif url:
        from agenda.tasks import refresh_external_calendar

        # Best effort (common.handoff): the hourly refresh catches up if it is not queued.
        queue_after_commit(refresh_external_calendar, [calendar.pk], record=last_error_recorder(ExternalCalendar))
    return calendar


@transaction.atomic
def external_calendar_replace_file(*, actor, calendar: ExternalCalendar, content: bytes) -> ExternalCalendar:
    """Import a new version of an uploaded calendar (a bad file keeps the last good import)."""
    from agenda import ics

    if calendar.professional.user_id != actor.pk:
        raise access.Http404
    ics.import_calendar(calendar, content)
    return calendar


@transaction.atomic
def external_calendar_remove(*, actor, calendar: ExternalCalendar) -> None:
    if calendar.professional.user_id != actor.pk:
        raise access.Http404
    ExternalBusyTime.objects.filter(calendar=calendar).delete()
    calendar.delete()
