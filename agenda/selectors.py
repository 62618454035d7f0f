"""Reads of the agenda. A person's agenda is read through the gate (category `agenda`);
these selectors then say which of the person's events the viewer may see:

- SHARED events: every reader of the person's agenda;
- INTERNAL events: only active team members of the event's structure (who also read the agenda).

A professional's own agenda is what they take part in (not declined), across all
structures, plus the busy times imported from their external calendars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from agenda.models import (
    Event,
    EventPlace,
    EventSource,
    EventStatus,
    ExternalBusyTime,
    Participant,
    ParticipantKind,
    Response,
    Visibility,
)
from agenda.recurrence import Occurrence, expand, overridden_starts, period_q
from common.notify import Summary
from coordination import access
from coordination.models import CarerLink, Category, Person, TeamMembership


def my_structure_ids(user):
    """Subquery: the structures where `user` is an active team member."""
    return TeamMembership.objects.filter(professional__user=user, ended_on__isnull=True).values("structure_id")


def visible_q(user) -> Q:
    """Among a person's events (the gate already passed): those `user` may see."""
    return Q(visibility=Visibility.SHARED) | Q(visibility=Visibility.INTERNAL, structure__in=my_structure_ids(user))


def with_details(queryset: QuerySet[Event]) -> QuerySet[Event]:
    return queryset.select_related("structure", "person", "serafin_service").prefetch_related(
        "places",
        Prefetch(
            "participants", queryset=Participant.objects.select_related("professional__user", "structure", "user")
        ),
    )


def person_events(user, person: Person | int) -> QuerySet[Event]:
    """The person's events `user` may see (call after `access.require(user, person, "agenda")`)."""
    return Event.objects.filter(person=person).filter(visible_q(user))


def participates_q(user) -> Q:
    return Q(
        Exists(
            Participant.objects.filter(event=OuterRef("pk"))
            .filter(Q(professional__user=user) | Q(user=user))
            .exclude(response=Response.DECLINED)
        )
    )


def professional_events(user) -> QuerySet[Event]:
    """Events `user` takes part in (not declined), or created, across every structure."""
    return Event.objects.filter(participates_q(user) | Q(created_by=user, person__isnull=True))


def can_see(user, event: Event) -> bool:
    """Once the gate let `user` read the person's agenda: may they see this event?"""
    if event.visibility == Visibility.SHARED:
        return True
    return (
        event.structure_id is not None
        and TeamMembership.objects.filter(
            professional__user=user, ended_on__isnull=True, structure_id=event.structure_id
        ).exists()
    )


def is_participant(user, event: Event) -> bool:
    return event.participants.filter(Q(professional__user=user) | Q(user=user)).exists()


def _attach_places(events: list[Event]) -> None:
    """`event.place_list` for each event, in one query (cheaper than a prefetch, whose
    `places.all()` builds a queryset per event)."""
    by_event: dict[int, list[EventPlace]] = defaultdict(list)
    if events:
        for place in EventPlace.objects.filter(event_id__in=[e.pk for e in events]):
            by_event[place.event_id].append(place)
    for event in events:
        event.place_list = by_event.get(event.pk, [])


# What an agenda list shows of an event and what expanding it needs.
LIST_FIELDS = (
    "id",
    "uid",
    "title",
    "starts_at",
    "ends_at",
    "is_all_day",
    "time_zone",
    "status",
    "visibility",
    "rrule",
    "exdates",
    "recurrence_of",
    "recurrence_id",
    "person",
    "structure",
    "source",  # without_duplicates prefers the structure's entry to the plan's
)


def occurrences(
    queryset: QuerySet[Event], start: datetime, end: datetime, *, details: bool = True, with_person: bool = True
) -> list[Occurrence]:
    """Occurrences of the queryset's events in [start, end): two to four queries in all.
    With `details=False`, only what the agenda pages list (`LIST_FIELDS`, `place_list`,
    and the person unless `with_person=False`, for a page that already has it)."""
    if details:
        events = list(with_details(queryset.filter(period_q(start, end))))
    else:
        queryset = queryset.filter(period_q(start, end)).only(*LIST_FIELDS)
        if with_person:
            queryset = queryset.select_related("person")
        events = list(queryset)
        _attach_places(events)
    return expand(events, start, end, overridden_starts(events))


def _same_key(item: Occurrence) -> tuple:
    return (" ".join(item.event.title.split()).casefold(), item.starts_at, item.ends_at)


def without_duplicates(items: list[Occurrence]) -> list[Occurrence]:
    """The person's consolidated agenda shows one line for one appointment entered twice
    (a PPA action and the structure's own event for the same workshop; seed 000 §1.2.4):
    occurrences of different events with the same title, start and end are one. The one
    kept is the one not cancelled, then the one not generated from the plan (it carries
    the structure's details, such as the room). Order is kept."""
    best: dict[tuple, Occurrence] = {}
    for item in items:
        key = _same_key(item)
        kept = best.get(key)
        if kept is None or _rank(item) < _rank(kept):
            best[key] = item
    return [item for item in items if best[_same_key(item)] is item]


def _rank(item: Occurrence) -> tuple:
    return (item.is_cancelled, item.event.source == EventSource.PPA, item.event.pk)


@dataclass
class BusyBlock:
    """An imported busy time, shown as "Occupé" (no title is kept)."""

    starts_at: datetime
    ends_at: datetime
    calendar_name: str

    is_busy_block = True


def professional_busy_blocks(professional, start: datetime, end: datetime) -> list[BusyBlock]:
    if professional is None:
        return []
    return [
        BusyBlock(b.starts_at, b.ends_at, b.calendar.name)
        for b in ExternalBusyTime.objects.filter(professional=professional, starts_at__lt=end, ends_at__gt=start)
        .select_related("calendar")
        .order_by("starts_at")
    ]


def busy_intervals(
    professional_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Busy intervals of each professional in [start, end), sorted and merged.

    Busy = confirmed events they take part in (not declined), proposals still held
    (`hold_expires_at` in the future), and busy times imported from external calendars.
    Three queries whatever the number of professionals and events.
    """
    ids = list(professional_ids)
    result: dict[int, list[tuple[datetime, datetime]]] = {pid: [] for pid in ids}
    if not ids:
        return result
    now = timezone.now()
    busy_status = Q(event__status=EventStatus.CONFIRMED) | Q(
        event__status=EventStatus.PROPOSED, event__hold_expires_at__gt=now
    )
    rows = list(
        Participant.objects.filter(professional_id__in=ids)
        .exclude(response=Response.DECLINED)
        .filter(busy_status)
        .filter(period_q(start, end, prefix="event_"))  # the participant's copy
        .select_related("event")
        .only(
            "professional_id",
            "event__id",
            "event__starts_at",
            "event__ends_at",
            "event__rrule",
            "event__exdates",
            "event__recurrence_of_id",
            "event__recurrence_id",
            "event__time_zone",
            "event__status",
        )
    )
    events = {row.event.pk: row.event for row in rows}
    overridden = overridden_starts(events.values())
    by_event = {pk: expand([event], start, end, overridden) for pk, event in events.items()}
    for row in rows:
        result[row.professional_id].extend((o.starts_at, o.ends_at) for o in by_event[row.event.pk])
    for pid, starts_at, ends_at in ExternalBusyTime.objects.filter(
        professional_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("professional_id", "starts_at", "ends_at"):
        result[pid].append((starts_at, ends_at))
    return {pid: _merge(intervals) for pid, intervals in result.items()}


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def group_by_day(items) -> list[tuple[object, list]]:
    """[(local date, [items])] in order, for the life-line and list views."""
    days: dict = defaultdict(list)
    for item in items:
        days[timezone.localtime(item.starts_at).date()].append(item)
    return sorted(days.items(), key=lambda pair: pair[0])


def expand_one(event: Event, start: datetime, end: datetime) -> list[Occurrence]:
    """The next occurrences of one series (for its detail page)."""
    return expand([event], start, end, overridden_starts([event]))


# --- The professional's day (portal dashboard) ---------------------------------------------------

HOLD_EXPIRY_WARNING_HOURS = 24


def _mine_q(user, **participant) -> Q:
    return Q(Exists(Participant.objects.filter(event=OuterRef("pk"), user=user, **participant)))


def meetings_awaiting_my_answer(user) -> QuerySet[Event]:
    """Meetings between professionals I am invited to, still held, that I have not
    answered; the nearest hold expiry first."""
    return (
        Event.objects.filter(
            source=EventSource.BOOKING,
            status=EventStatus.PROPOSED,
            answer_deadline__isnull=True,
            hold_expires_at__gt=timezone.now(),
        )
        .filter(_mine_q(user, is_organiser=False, response=Response.NEEDS_ACTION))
        .order_by("hold_expires_at", "pk")
    )


def holds_expiring(user, hours: int = HOLD_EXPIRY_WARNING_HOURS) -> QuerySet[Event]:
    """Meetings I organise whose slot is held for less than `hours` more (not confirmed yet)."""
    now = timezone.now()
    return (
        Event.objects.filter(
            source=EventSource.BOOKING,
            status=EventStatus.PROPOSED,
            answer_deadline__isnull=True,
            hold_expires_at__gt=now,
            hold_expires_at__lte=now + timezone.timedelta(hours=hours),
        )
        .filter(_mine_q(user, is_organiser=True))
        .order_by("hold_expires_at", "pk")
    )


def proposals_unanswered(user, *, delegate: bool | None = None, reach: access.Reach | None = None) -> QuerySet[Event]:
    """Appointments I proposed to persons whose agenda I may read, still unanswered
    before their deadline; the nearest deadline first."""
    return (
        Event.objects.filter(
            status=EventStatus.PROPOSED,
            answer_deadline__gt=timezone.now(),
            person__among=access.persons_in(user, Category.AGENDA, delegate=delegate, reach=reach),
        )
        .filter(_mine_q(user, is_organiser=True))
        .select_related("person")
        .order_by("answer_deadline", "pk")
    )


def my_days(user, start: datetime, end: datetime) -> list[Occurrence]:
    """What I take part in between `start` and `end` (my agenda's list), cancelled
    occurrences left out."""
    items = occurrences(professional_events(user), start, end, details=False)
    return [item for item in items if not item.is_cancelled]


def _who(user) -> str:
    return (user.get_full_name() or user.email) if user else ""


def notification_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of events `user` may still see: the title, the
    date and who organises. The events they take part in (or created), and the shared
    or structure's events of persons whose agenda they may read. One query."""
    readable = (
        participates_q(user)
        | Q(created_by=user)
        | (
            Q(person__in=access.persons_visible_to(user, Category.AGENDA).values("pk"))
            & (Q(visibility=Visibility.SHARED) | Q(structure__in=my_structure_ids(user)))
        )
    )
    summaries = {}
    for event in Event.objects.filter(readable, pk__in=ids).select_related("created_by"):
        when = timezone.localtime(event.starts_at).strftime("%d/%m/%Y à %H:%M")
        excerpt = f"{event.title}, le {when}"
        if event.motive:
            excerpt += f" — {event.motive}"
        summaries[event.pk] = Summary(
            excerpt=Truncator(" ".join(excerpt.split())).words(15),
            author=_who(event.created_by),
            kind=event.get_status_display() if event.status == EventStatus.CANCELLED else "",
        )
    return summaries


PERSONS_OWN = "added"  # added by the person (or her legal representative) in the portal
PERSON_ACCEPTED = "accepted"  # a proposal the person (or her side) accepted from the portal


def persons_side(event_ids: Iterable[int]) -> dict[int, str]:
    """Which of these events are the person's own, for the professional's pages: added by
    her or her legal representative in the portal (as `agenda.services.is_persons_own`
    decides), or proposed to her and accepted from the portal. Two queries whatever the
    number of events."""
    ids = list(set(event_ids))
    if not ids:
        return {}
    representative = CarerLink.objects.filter(
        person=OuterRef("person_id"),
        user=OuterRef("created_by_id"),
        is_legal_representative=True,
        ended_on__isnull=True,
    )
    added = Event.objects.filter(pk__in=ids, source=EventSource.PORTAL, person__isnull=False).filter(
        Q(created_by=F("person__user")) | Q(Exists(representative))
    )
    side = dict.fromkeys(added.values_list("pk", flat=True), PERSONS_OWN)
    accepted = Participant.objects.filter(
        event_id__in=ids, kind=ParticipantKind.PERSON, response=Response.ACCEPTED, responded_at__isnull=False
    ).values_list("event_id", flat=True)
    for event_id in accepted:
        side.setdefault(event_id, PERSON_ACCEPTED)
    return side
