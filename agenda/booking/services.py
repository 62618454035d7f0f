"""Meeting booking between professionals and appointments proposed to the person (services).

A chosen slot becomes an Event (réunion de coordination, status `proposed`) *held* for its
participants until `hold_expires_at`: held events count as busy for other searches. Each
invitee answers as in iTIP: REPLY (accept/decline) or COUNTER (another slot); the
organiser may accept a counter (rescheduled, SEQUENCE + 1, everyone asked again). When
every required participant has accepted, the event is confirmed.

The race between two organisers is settled by the database: every hold, reschedule and
confirmation locks the participants' Professional rows (SELECT … FOR UPDATE, in id order,
so no deadlock) and re-checks their busy times inside the transaction.

Events and participants are created here directly with the ORM; when the agenda block's
event services are merged, `_create_event` can call them instead.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from agenda import slots
from agenda.audit_types import AgendaAudit
from agenda.availability import colleagues
from agenda.models import (
    Event,
    EventSource,
    EventStatus,
    EventType,
    Participant,
    ParticipantKind,
    Response,
    Visibility,
)
from common.notify import notify
from coordination import access, rules
from coordination.models import CarerLink, Category, Person, Professional, Structure
from coordination.services import audit

SLOT_TAKEN = "Ce créneau n'est plus libre pour {who} : choisissez-en un autre."


def hold_duration() -> dt.timedelta:
    return dt.timedelta(hours=settings.AGENDA_BOOKING_HOLD_HOURS)


def hold_until(now: dt.datetime, starts_at: dt.datetime) -> dt.datetime:
    """A hold ends after the usual delay, and never after the meeting has started."""
    return min(now + hold_duration(), starts_at)


def answer_url(event: Event) -> str:
    return reverse("agenda:booking_meeting", args=[event.pk])


def _recipients(event: Event, *, exclude_user=None) -> list[int]:
    return [p.user_id for p in event.participants.all() if p.user_id and p.user_id != getattr(exclude_user, "pk", 0)]


def _lock_and_check(
    professional_ids, start: dt.datetime, end: dt.datetime, *, exclude_event: int | None = None
) -> None:
    """Lock the professionals (id order) and refuse if one is busy in [start, end)."""
    ids = sorted(set(professional_ids))
    locked = list(Professional.objects.select_for_update().filter(pk__in=ids).order_by("pk").select_related("user"))
    busy = slots.load_busy(ids, start, end, exclude_event=exclude_event)
    for professional in locked:
        if slots.overlaps(busy[professional.pk], start, end):
            name = professional.user.get_full_name() or professional.user.email
            raise ValidationError({"starts_at": SLOT_TAKEN.format(who=name)})


def _organiser_professional(actor) -> Professional:
    professional = getattr(actor, "professional", None)
    if professional is None or not professional.is_active:
        raise ValidationError("Seuls les professionnels organisent des réunions.")
    return professional


@transaction.atomic
def meeting_hold(
    *,
    actor,
    invitees: list[Professional],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    motive: str,
    structure: Structure | None = None,
    optional_invitees: list[Professional] = (),
    person: Person | None = None,
    carers: list = (),
    title: str = "",
) -> Event:
    """Hold a slot for a coordination meeting and invite the participants.

    Guarantees: the invitees are colleagues of the organiser (shared circle or
    structure); including the person needs `agenda` write on them (gate); every required
    professional is free in the slot, checked under lock (no double booking); audited;
    invitees notified ("agenda.meeting_slot_chosen") with the transaction.
    """
    organiser = _organiser_professional(actor)
    errors = {}
    if not invitees:
        errors["invitees"] = "Choisissez au moins un professionnel à inviter."
    if ends_at <= starts_at:
        errors["ends_at"] = "La fin doit être après le début."
    if starts_at <= timezone.now():
        errors["starts_at"] = "Choisissez un créneau à venir."
    if not motive.strip():
        errors["motive"] = "Indiquez le motif de la réunion."
    allowed = set(colleagues(organiser).values_list("pk", flat=True))
    all_invitees = list(invitees) + [p for p in optional_invitees if p not in invitees]
    if any(p.pk not in allowed for p in all_invitees):
        errors["invitees"] = (
            "Vous ne pouvez inviter que des collègues avec qui vous partagez un cercle ou une structure."
        )
    if person is not None and access.check(actor, person, Category.AGENDA, "write") is None:
        errors["person"] = "Vous n'avez pas le droit d'écrire dans l'agenda de cette personne."
    if errors:
        raise ValidationError(errors)
    if structure is None:
        structure = organiser.structures.filter(team__ended_on__isnull=True).first()
    required = [organiser.pk] + [p.pk for p in invitees]
    _lock_and_check(required, starts_at, ends_at)
    now = timezone.now()
    rows = [
        Participant(
            kind=ParticipantKind.PROFESSIONAL,
            professional=organiser,
            user=actor,
            display_name=actor.get_full_name(),
            is_organiser=True,
            response=Response.ACCEPTED,
            responded_at=now,
        )
    ]
    required_ids = {p.pk for p in invitees}
    for professional in all_invitees:
        rows.append(
            Participant(
                kind=ParticipantKind.PROFESSIONAL,
                professional=professional,
                user_id=professional.user_id,
                display_name=professional.user.get_full_name(),
                is_required=professional.pk in required_ids,
            )
        )
    if person is not None:
        if person.user_id:
            rows.append(
                Participant(
                    kind=ParticipantKind.PERSON, user_id=person.user_id, display_name=str(person), is_required=False
                )
            )
        for carer in carers:
            if CarerLink.objects.filter(person=person, user=carer, ended_on__isnull=True).exists():
                rows.append(
                    Participant(
                        kind=ParticipantKind.CARER, user=carer, display_name=carer.get_full_name(), is_required=False
                    )
                )
    event = agenda_services.event_insert(
        created_by=actor,
        participants=rows,
        source=EventSource.BOOKING,
        person=person,
        structure=structure,
        title=title or "Réunion de coordination",
        motive=motive,
        event_type=EventType.COORDINATION_MEETING,
        starts_at=starts_at,
        ends_at=ends_at,
        status=EventStatus.PROPOSED,
        visibility=Visibility.SHARED if person else Visibility.INTERNAL,
        hold_expires_at=hold_until(now, starts_at),
    )
    audit(
        actor,
        person,
        AgendaAudit.EVENT_CREATED,
        event=event.pk,
        booking="hold",
        starts_at=starts_at.isoformat(),
        participants=len(rows),
    )
    notify(
        "agenda.meeting_slot_chosen",
        person=None,
        actor=actor,
        url=answer_url(event),
        recipients=[r.user_id for r in rows if r.user_id],
        subject=event,
    )
    return event


def _participant_of(actor, event: Event) -> Participant:
    participant = event.participants.filter(user=actor).first()
    if participant is None:
        raise Http404
    return participant


def _maybe_confirm(event: Event, actor) -> bool:
    participants = list(event.participants.all())
    if any(p.is_required and p.response != Response.ACCEPTED for p in participants):
        return False
    _lock_and_check(
        [p.professional_id for p in participants if p.professional_id and p.is_required],
        event.starts_at,
        event.ends_at,
        exclude_event=event.pk,
    )
    event.status = EventStatus.CONFIRMED
    event.hold_expires_at = None
    event.updated_at = timezone.now()
    event.save(update_fields=["status", "hold_expires_at", "updated_at"])
    audit(actor, event.person, AgendaAudit.EVENT_UPDATED, event=event.pk, booking="confirmed")
    notify(
        "agenda.meeting_confirmed",
        person=None,
        url=answer_url(event),
        recipients=[p.user_id for p in participants if p.user_id],
        subject=event,
    )
    return True


def _open_event(event_id: int) -> Event:
    event = Event.objects.select_for_update().get(pk=event_id)
    if event.status != EventStatus.PROPOSED:
        raise ValidationError("Cette réunion n'attend plus de réponse.")
    if event.hold_expires_at and event.hold_expires_at <= timezone.now():
        raise ValidationError("Le délai de réservation de ce créneau est dépassé : la réunion a été libérée.")
    return event


@transaction.atomic
def meeting_respond(
    *,
    actor,
    event: Event,
    response: str,
    comment: str = "",
    counter_starts_at: dt.datetime | None = None,
    counter_ends_at: dt.datetime | None = None,
) -> Participant:
    """An invitee answers: "accepted", "declined" (iTIP REPLY) or "counter" (iTIP COUNTER
    with another slot). When every required participant has accepted, the meeting is
    confirmed for all (checked again under lock). The organiser is told of each answer."""
    event = _open_event(event.pk)
    participant = _participant_of(actor, event)
    now = timezone.now()
    if response == "counter":
        errors = {}
        if not counter_starts_at or not counter_ends_at or counter_ends_at <= counter_starts_at:
            errors["counter_starts_at"] = "Indiquez un début et une fin valides pour le créneau proposé."
        elif counter_starts_at <= now:
            errors["counter_starts_at"] = "Proposez un créneau à venir."
        if errors:
            raise ValidationError(errors)
        participant.response = Response.TENTATIVE
        participant.counter_starts_at, participant.counter_ends_at = counter_starts_at, counter_ends_at
    elif response in (Response.ACCEPTED, Response.DECLINED):
        participant.response = response
        participant.counter_starts_at = participant.counter_ends_at = None
    else:
        raise ValidationError({"response": "Choisissez accepter, refuser ou proposer un autre créneau."})
    participant.comment = comment
    participant.responded_at = now
    participant.save()
    audit(actor, event.person, AgendaAudit.EVENT_ANSWERED, event=event.pk, response=response)
    organisers = [p.user_id for p in event.participants.all() if p.is_organiser and p.user_id]
    if not (response == Response.ACCEPTED and _maybe_confirm(event, actor)):
        notify(
            "agenda.appointment_changed",
            person=None,
            actor=actor,
            url=answer_url(event),
            recipients=organisers,
            subject=event,
        )
    return participant


@transaction.atomic
def meeting_reschedule(*, actor, event: Event, starts_at: dt.datetime, ends_at: dt.datetime) -> Event:
    """The organiser moves the meeting (e.g. accepts a counter-proposal): new slot checked
    under lock, SEQUENCE + 1, hold renewed, every invitee asked again and notified."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.participants.filter(user=actor, is_organiser=True).exists():
        raise Http404
    if event.status not in (EventStatus.PROPOSED, EventStatus.CONFIRMED):
        raise ValidationError("Cette réunion est annulée ou passée.")
    if ends_at <= starts_at or starts_at <= timezone.now():
        raise ValidationError({"starts_at": "Choisissez un créneau à venir, avec une fin après le début."})
    participants = list(event.participants.all())
    _lock_and_check(
        [
            p.professional_id
            for p in participants
            if p.professional_id
            and p.is_required
            and p.response != Response.DECLINED
            or p.is_organiser
            and p.professional_id
        ],
        starts_at,
        ends_at,
        exclude_event=event.pk,
    )
    now = timezone.now()
    event.starts_at, event.ends_at, event.series_ends_at = starts_at, ends_at, ends_at
    event.sequence += 1
    event.status = EventStatus.PROPOSED
    event.hold_expires_at = hold_until(now, starts_at)
    event.updated_at = now
    event.save()
    Participant.objects.filter(event=event, is_organiser=False).update(
        response=Response.NEEDS_ACTION, counter_starts_at=None, counter_ends_at=None, responded_at=None
    )
    audit(
        actor,
        event.person,
        AgendaAudit.EVENT_UPDATED,
        event=event.pk,
        booking="rescheduled",
        starts_at=starts_at.isoformat(),
        sequence=event.sequence,
    )
    notify(
        "agenda.appointment_changed",
        person=None,
        actor=actor,
        url=answer_url(event),
        recipients=[p.user_id for p in participants if p.user_id],
        subject=event,
    )
    return event


@transaction.atomic
def meeting_accept_counter(*, actor, event: Event, participant: Participant) -> Event:
    """The organiser takes the slot a participant proposed (COUNTER). She proposed it, so
    she counts as accepting it: only the others are asked again (confirmed at once when
    she was the only one left)."""
    if participant.event_id != event.pk or not participant.counter_starts_at:
        raise ValidationError("Ce participant n'a pas proposé d'autre créneau.")
    event = meeting_reschedule(
        actor=actor, event=event, starts_at=participant.counter_starts_at, ends_at=participant.counter_ends_at
    )
    Participant.objects.filter(pk=participant.pk).update(response=Response.ACCEPTED, responded_at=timezone.now())
    _maybe_confirm(event, actor)
    return event


@transaction.atomic
def meeting_cancel(*, actor, event: Event, reason: str = "") -> Event:
    """The organiser cancels: the slot is freed, SEQUENCE + 1, everyone notified."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not event.participants.filter(user=actor, is_organiser=True).exists():
        raise Http404
    if event.status == EventStatus.CANCELLED:
        return event
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    event.hold_expires_at = None
    event.updated_at = timezone.now()
    event.save()
    audit(actor, event.person, AgendaAudit.EVENT_CANCELLED, event=event.pk, reason=reason)
    notify(
        "agenda.appointment_cancelled",
        person=None,
        actor=actor,
        url=answer_url(event),
        recipients=_recipients(event),
        subject=event,
    )
    return event


@transaction.atomic
def release_expired_holds(*, now: dt.datetime | None = None) -> int:
    """Cancel meetings whose hold expired before everyone accepted (idempotent); the
    organiser is told. Appointments proposed to the person are released by
    `release_unanswered_proposals` instead."""
    now = now or timezone.now()
    expired = list(
        Event.objects.select_for_update(skip_locked=True).filter(
            status=EventStatus.PROPOSED,
            hold_expires_at__lte=now,
            answer_deadline__isnull=True,
            source=EventSource.BOOKING,
        )
    )
    for event in expired:
        event.status = EventStatus.CANCELLED
        event.sequence += 1
        event.updated_at = now
        event.save(update_fields=["status", "sequence", "updated_at"])
        audit(None, event.person, AgendaAudit.EVENT_CANCELLED, event=event.pk, reason="hold_expired")
        notify(
            "agenda.appointment_cancelled",
            person=None,
            url=answer_url(event),
            recipients=_recipients(event),
            subject=event,
        )
    return len(expired)


# --- Appointments proposed to the person -----------------------------------------------------


@transaction.atomic
def appointment_propose(
    *,
    actor,
    person: Person,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    title: str,
    answer_deadline: dt.datetime,
    motive: str = "",
    structure: Structure | None = None,
) -> Event:
    """Propose a slot to the person with an answer deadline. Needs `agenda` write on the
    person (gate). The slot is held for the proposer until the answer or the deadline
    (checked under lock). The person and their deciders are notified."""
    access.require(actor, person, Category.AGENDA, "write")
    proposer = _organiser_professional(actor)
    now = timezone.now()
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "La fin doit être après le début."
    if starts_at <= now:
        errors["starts_at"] = "Choisissez un créneau à venir."
    if not (now < answer_deadline <= starts_at):
        errors["answer_deadline"] = "La date limite de réponse doit être à venir et avant le rendez-vous."
    if not title.strip():
        errors["title"] = "Indiquez l'objet du rendez-vous."
    if errors:
        raise ValidationError(errors)
    _lock_and_check([proposer.pk], starts_at, ends_at)
    event = agenda_services.event_insert(
        created_by=actor,
        participants=[
            Participant(
                kind=ParticipantKind.PROFESSIONAL,
                professional=proposer,
                user=actor,
                display_name=actor.get_full_name(),
                is_organiser=True,
                response=Response.ACCEPTED,
                responded_at=now,
            ),
            Participant(kind=ParticipantKind.PERSON, user_id=person.user_id, display_name=str(person)),
        ],
        source=EventSource.BOOKING,
        person=person,
        structure=structure,
        title=title,
        motive=motive,
        event_type=EventType.HEALTH_APPOINTMENT,
        starts_at=starts_at,
        ends_at=ends_at,
        status=EventStatus.PROPOSED,
        visibility=Visibility.SHARED,
        hold_expires_at=answer_deadline,
        answer_deadline=answer_deadline,
    )
    audit(actor, person, AgendaAudit.EVENT_CREATED, event=event.pk, booking="proposed_to_person")
    notify(
        "agenda.appointment_proposed",
        person=person,
        actor=actor,
        url=reverse("agenda:booking_proposal", args=[event.pk]),
        recipients=get_user_model().objects.filter(
            rules.deciders_q(person) | Q(carer_links__person=person, carer_links__ended_on__isnull=True)
        ),
        subject=event,
    )
    return event


def may_answer(user, event: Event) -> bool:
    """The person, or a carer or legal representative with `agenda` write on them."""
    person = event.person
    if person is None or not getattr(user, "is_authenticated", False):
        return False
    if person.user_id == user.pk:
        return True
    return (
        CarerLink.objects.filter(person=person, user=user, ended_on__isnull=True).exists()
        and access.check(user, person, Category.AGENDA, "write") is not None
    )


@transaction.atomic
def appointment_answer(*, actor, event: Event, accept: bool, comment: str = "", new_date: bool = False) -> Event:
    """The person (or a carer/representative with agenda write) accepts or declines a
    proposed appointment before its deadline; the proposer is told. With `new_date`,
    she declines this slot and asks for another one, saying when in her message (the
    slot is freed; the proposer reads the message in the meeting requests)."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.answer_deadline is None or not may_answer(actor, event):
        raise Http404
    if event.status != EventStatus.PROPOSED:
        raise ValidationError("Cette proposition n'attend plus de réponse.")
    if new_date and not comment.strip():
        raise ValidationError(
            {"comment": "Dites quand vous seriez disponible, pour que le professionnel propose une autre date."}
        )
    accept = accept and not new_date
    now = timezone.now()
    if event.answer_deadline <= now:
        raise ValidationError("Le délai de réponse est dépassé : le créneau a été libéré.")
    Participant.objects.filter(event=event, kind=ParticipantKind.PERSON).update(
        response=Response.ACCEPTED if accept else Response.DECLINED, responded_at=now, comment=comment
    )
    event.status = EventStatus.CONFIRMED if accept else EventStatus.CANCELLED
    event.hold_expires_at = None
    event.sequence += 0 if accept else 1
    event.updated_at = now
    event.save()
    audit(actor, event.person, AgendaAudit.EVENT_ANSWERED, event=event.pk, accepted=accept, new_date=new_date)
    notify(
        "agenda.appointment_new_date_asked"
        if new_date
        else "agenda.appointment_changed"
        if accept
        else "agenda.appointment_cancelled",
        person=event.person,
        actor=actor,
        url=reverse("agenda:booking_requests"),
        recipients=[p.user_id for p in event.participants.all() if p.is_organiser and p.user_id],
        subject=event,
    )
    return event


@transaction.atomic
def release_unanswered_proposals(*, now: dt.datetime | None = None) -> int:
    """Release proposals to the person whose deadline passed without an answer (idempotent)
    and tell the proposer: "l'usager n'a pas donné suite"."""
    now = now or timezone.now()
    expired = list(
        Event.objects.select_for_update(skip_locked=True).filter(status=EventStatus.PROPOSED, answer_deadline__lte=now)
    )
    for event in expired:
        event.status = EventStatus.CANCELLED
        event.sequence += 1
        event.hold_expires_at = None
        event.updated_at = now
        event.save(update_fields=["status", "sequence", "hold_expires_at", "updated_at"])
        audit(None, event.person, AgendaAudit.EVENT_CANCELLED, event=event.pk, reason="no_answer")
        notify(
            "agenda.answer_deadline_passed",
            person=None,
            url=reverse("agenda:booking_requests"),
            recipients=[p.user_id for p in event.participants.all() if p.is_organiser and p.user_id],
            subject=event,
        )
    return len(expired)


def no_answer(event: Event) -> bool:
    """A proposal released because nobody answered in time."""
    return (
        event.status == EventStatus.CANCELLED
        and event.answer_deadline is not None
        and event.answer_deadline <= timezone.now()
        and all(p.response == Response.NEEDS_ACTION for p in event.participants.all() if not p.is_organiser)
    )


NO_ANSWER_LABEL = "L'usager n'a pas donné suite"
