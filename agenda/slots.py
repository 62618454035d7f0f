"""Slot search: common free slots of several professionals.

Pure functions over half-open intervals `(start, end)` of aware datetimes, plus one loader
(`load_calendars`) that reads everything a search needs in a fixed number of queries
(availability windows, exceptions, busy events with their overrides, imported busy times),
whatever the number of participants or events.

Local times (availability windows, working hours, the slot step) are in Europe/Paris and
converted per day, so that a 09:00 window is 09:00 on daylight-saving days too.

Ranking: earliest day first; within a day, slots adjacent to an existing commitment of a
required participant first (least disruption: no new gap in anyone's day), then the
slots where more optional participants are free, then by time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import FloatField, Q
from django.db.models.functions import Cast, Extract
from django.utils import timezone

from agenda.models import (
    AvailabilityException,
    AvailabilityWindow,
    Event,
    ExceptionKind,
    ExternalBusyTime,
    Participant,
    Response,
)
from agenda.recurrence import occurrence_starts, period_q
from common.timezone import PARIS, PARIS_NAME

UTC = dt.UTC

Interval = tuple[dt.datetime, dt.datetime]

NO_SLOT_MESSAGE = (
    "Aucun créneau commun n'a été trouvé entre le {start} et le {end}. Essayez d'élargir la période, "
    "de raccourcir la durée ou de retirer un participant."
)


# --- Intervals -------------------------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union (touching intervals are joined)."""
    result: list[list[dt.datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1][1] = end
        else:
            result.append([start, end])
    return [(s, e) for s, e in result]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    result = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """`a` minus `b` (both merged)."""
    result = []
    j = 0
    for start, end in a:
        current = start
        while j < len(b) and b[j][1] <= current:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > current:
                result.append((current, b[k][0]))
            current = max(current, b[k][1])
            if current >= end:
                break
            k += 1
        if current < end:
            result.append((current, end))
    return result


def overlaps(intervals: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(s < end and start < e for s, e in intervals)


def local(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware instant of a Paris wall-clock time on a day (a non-existent time in the
    spring gap moves forward with the offset before the change, as zoneinfo does)."""
    return dt.datetime.combine(day, time, tzinfo=PARIS).astimezone(UTC)


def days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    first = start.astimezone(PARIS).date()
    last = end.astimezone(PARIS).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


# --- Calendars -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    weekday: int
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@dataclass
class Calendar:
    """What a search knows of one professional: weekly windows, extra windows, absences,
    busy times (already expanded)."""

    windows: list[Window] = field(default_factory=list)
    extra: list[Interval] = field(default_factory=list)
    absences: list[Interval] = field(default_factory=list)
    busy: list[Interval] = field(default_factory=list)


def available(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The professional's declared availability within [start, end): weekly windows plus
    extra windows, minus absences (busy times not removed)."""
    by_day = defaultdict(list)
    for window in calendar.windows:
        by_day[window.weekday].append(window)
    spans = []
    for day in days(start, end):
        for window in by_day.get(day.weekday(), ()):
            if window.valid_from and day < window.valid_from:
                continue
            if window.valid_until and day > window.valid_until:
                continue
            spans.append((local(day, window.start_time), local(day, window.end_time)))
    spans.extend(calendar.extra)
    bounded = intersect(merge(spans), [(start, end)])
    return subtract(bounded, merge(calendar.absences))


def working_hours(
    start: dt.datetime, end: dt.datetime, opens: dt.time, closes: dt.time, weekdays: Iterable[int] = range(5)
) -> list[Interval]:
    weekdays = set(weekdays)
    return [(local(day, opens), local(day, closes)) for day in days(start, end) if day.weekday() in weekdays]


# --- Search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    duration: dt.timedelta
    window_start: dt.datetime
    window_end: dt.datetime
    minimum_notice: dt.timedelta = dt.timedelta(hours=24)
    buffer_before: dt.timedelta = dt.timedelta(0)
    buffer_after: dt.timedelta = dt.timedelta(0)
    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(19, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    step: dt.timedelta = dt.timedelta(minutes=15)
    limit: int = 10


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    adjacent: bool = False
    optional_free: tuple[int, ...] = ()

    @property
    def status(self) -> str:
        """FHIR Slot.status."""
        return "free"


@dataclass
class SearchResult:
    slots: list[Slot]
    message: str = ""

    @property
    def found(self) -> bool:
        return bool(self.slots)


def _padded(busy: Sequence[Interval], criteria: Criteria) -> list[Interval]:
    # A slot [s, e) needs nothing busy in [s - before, e + after): grow each busy time instead.
    return merge((s - criteria.buffer_after, e + criteria.buffer_before) for s, e in busy)


def free_time(calendar: Calendar, criteria: Criteria, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """When this professional could hold a meeting (buffers applied to their busy times)."""
    return subtract(available(calendar, start, end), _padded(merge(calendar.busy), criteria))


def search(
    required: dict[int, Calendar],
    criteria: Criteria,
    *,
    optional: dict[int, Calendar] | None = None,
    now: dt.datetime | None = None,
) -> SearchResult:
    """The best common slots of the `required` professionals (see the module docstring)."""
    now = now or timezone.now()
    start = max(criteria.window_start, now + criteria.minimum_notice)
    end = criteria.window_end
    if start >= end or criteria.duration <= dt.timedelta(0) or not required:
        return SearchResult([], _no_slot(criteria))
    common = merge(working_hours(start, end, criteria.opens, criteria.closes, criteria.weekdays))
    common = intersect(common, [(start, end)])
    edges: set[dt.datetime] = set()
    for calendar in required.values():
        common = intersect(common, free_time(calendar, criteria, start, end))
        if not common:
            return SearchResult([], _no_slot(criteria))
        for s, e in merge(calendar.busy):
            edges.add(e + criteria.buffer_before)
            edges.add(s - criteria.buffer_after)
    optional_free = {pk: free_time(cal, criteria, start, end) for pk, cal in (optional or {}).items()}
    step_minutes = max(1, int(criteria.step.total_seconds() // 60))
    candidates = []
    for s, e in common:
        # Align on the step, counted from local midnight (10:00, 10:15… also on DST days).
        cursor = s.astimezone(UTC).replace(second=0, microsecond=0)
        if cursor < s:
            cursor += dt.timedelta(minutes=1)
        wall = cursor.astimezone(PARIS)
        cursor += dt.timedelta(minutes=(-(wall.hour * 60 + wall.minute)) % step_minutes)
        # Slots touching an existing commitment even when it is off the step.
        starts = set()
        while cursor + criteria.duration <= e:
            starts.add(cursor)
            cursor += criteria.step
        for edge in edges:
            if s <= edge and edge + criteria.duration <= e:
                starts.add(edge)
            if s <= edge - criteria.duration and edge <= e:
                starts.add(edge - criteria.duration)
        for slot_start in starts:
            slot_end = slot_start + criteria.duration
            adjacent = slot_start in edges or slot_end in edges
            free_optional = tuple(
                sorted(
                    pk
                    for pk, spans in optional_free.items()
                    if any(a <= slot_start and slot_end <= b for a, b in spans)
                )
            )
            candidates.append(Slot(slot_start, slot_end, adjacent, free_optional))
    if not candidates:
        return SearchResult([], _no_slot(criteria))
    candidates.sort(
        key=lambda slot: (
            slot.start.astimezone(PARIS).date(),
            not slot.adjacent,
            -len(slot.optional_free),
            slot.start,
        )
    )
    return SearchResult(candidates[: criteria.limit])


def _no_slot(criteria: Criteria) -> str:
    fmt = "%d/%m/%Y"
    return NO_SLOT_MESSAGE.format(
        start=criteria.window_start.astimezone(PARIS).strftime(fmt),
        end=criteria.window_end.astimezone(PARIS).strftime(fmt),
    )


# --- Recurring busy events -------------------------------------------------------------------


def expand(
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    rule: str,
    time_zone: str,
    exdates: Iterable,
    start: dt.datetime,
    end: dt.datetime,
    skip: Iterable[dt.datetime] = (),
) -> list[Interval]:
    """Occurrences of a recurring event overlapping [start, end), expanded in its own zone
    (a weekly 10:00 stays 10:00 across DST), as (start, end) in UTC.

    Plain DAILY/WEEKLY rules are expanded arithmetically (the loader's fast path, tested
    against `agenda.recurrence`); any other rule goes through `agenda.recurrence`, the
    agenda's own expansion, so that busy times and agenda pages always agree."""

    zone = ZoneInfo(time_zone or PARIS_NAME)
    simple = _simple_rule(rule)
    if simple is not None:
        local_start = starts_at.astimezone(zone).replace(tzinfo=None)
        return _expand_simple(local_start, ends_at - starts_at, zone, *simple, exdates, start, end, skip)
    try:
        spans = occurrence_starts(
            Event(starts_at=starts_at, ends_at=ends_at, rrule=rule, time_zone=time_zone or PARIS_NAME), start, end
        )
    except ValidationError:
        return [(starts_at, ends_at)] if starts_at < end and ends_at > start else []
    excluded = {_as_aware(x, zone) for x in exdates or ()}
    excluded.update(x.astimezone(UTC) for x in skip)
    return [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in spans if s.astimezone(UTC) not in excluded]


_SIMPLE_STEPS = {"DAILY": 1, "WEEKLY": 7}


def _simple_rule(rule: str) -> tuple[int, int | None, dt.datetime | None] | None:
    """(step in days, COUNT, UNTIL) of a plain DAILY/WEEKLY rule, else None (dateutil then)."""
    parts = dict(part.split("=", 1) for part in rule.upper().removeprefix("RRULE:").split(";") if "=" in part)
    if set(parts) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"} or parts.get("FREQ") not in _SIMPLE_STEPS:
        return None
    try:
        step = _SIMPLE_STEPS[parts["FREQ"]] * int(parts.get("INTERVAL", "1"))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
        until = None
        if "UNTIL" in parts:
            value = parts["UNTIL"]
            until = (
                dt.datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
                if "T" in value
                else dt.datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59)
            )
            until = until.replace(tzinfo=UTC) if value.endswith("Z") else until
    except ValueError:
        return None
    return step, count, until


def _expand_simple(
    local_start: dt.datetime,
    duration: dt.timedelta,
    zone: ZoneInfo,
    step: int,
    count: int | None,
    until: dt.datetime | None,
    exdates,
    start: dt.datetime,
    end: dt.datetime,
    skip,
) -> list[Interval]:
    # Occurrence n is local_start + n × step days, in wall-clock time of the event's zone.
    lower = (start - duration).astimezone(zone).replace(tzinfo=None)
    first = max(0, (lower - local_start).days // step)
    excluded = None
    result = []
    n = first
    while count is None or n < count:
        occurrence = local_start + dt.timedelta(days=n * step)
        aware = occurrence.replace(tzinfo=zone).astimezone(UTC)
        if aware >= end:
            break
        if until is not None and (aware > until if until.tzinfo else occurrence > until):
            break
        n += 1
        finish = aware + duration
        if finish <= start:
            continue
        if excluded is None:
            excluded = {_as_aware(x, zone) for x in exdates or ()} | {x.astimezone(UTC) for x in skip}
        if aware not in excluded:
            result.append((aware, finish))
    return result


def _as_aware(value, zone: ZoneInfo) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


# --- Loader ----------------------------------------------------------------------------------


def load_busy(
    professional_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    exclude_event: int | None = None,
) -> dict[int, list[Interval]]:
    """Busy times of each professional in [start, end): events they take part in and did
    not decline (recurring ones expanded, changed occurrences applied) and imported busy
    times. Four queries at most."""

    now = now or timezone.now()
    ids = list(professional_ids)
    busy: dict[int, list[Interval]] = {pk: [] for pk in ids}
    # Driven by the participants of these professionals. Single events (most rows) are
    # bounded on the copy of their period the participant rows carry (index
    # `participant_pro_period`): only the rows of the window join their event (status),
    # whatever the number of events in the base (on 1 M events: 229 → 38 ms). The few
    # series are bounded on their own period (`event_series_window`) and bring their rule.
    taking_part = (
        Participant.objects.filter(professional_id__in=ids)
        .exclude(response=Response.DECLINED)
        .filter(
            Q(event__status__in=["confirmed", "done"]) | Q(event__status="proposed", event__hold_expires_at__gt=now)
        )
        .exclude(event_id=exclude_event)
        .order_by()
    )
    singles = taking_part.filter(event__rrule="", event_series_ends_at__gt=start, event_starts_at__lt=end)
    if connection.vendor == "postgresql":
        # Thousands of rows: epoch seconds decode several times faster than timestamps.
        from_epoch = dt.datetime.fromtimestamp
        for pro, starts_at, ends_at in singles.annotate(
            s=Cast(Extract("event__starts_at", "epoch", tzinfo=UTC), FloatField()),
            e=Cast(Extract("event__ends_at", "epoch", tzinfo=UTC), FloatField()),
        ).values_list("professional_id", "s", "e"):
            busy[pro].append((from_epoch(starts_at, UTC), from_epoch(ends_at, UTC)))
    else:
        for pro, starts_at, ends_at in singles.values_list("professional_id", "event__starts_at", "event__ends_at"):
            busy[pro].append((starts_at, ends_at))
    rows = list(
        taking_part.filter(period_q(start, end, prefix="event__"))
        .exclude(event__rrule="")
        .values_list(
            "professional_id",
            "event_id",
            "event__starts_at",
            "event__ends_at",
            "event__rrule",
            "event__time_zone",
            "event__exdates",
        )
    )
    series = {row[1] for row in rows if row[4]}
    overridden: dict[int, list[dt.datetime]] = defaultdict(list)
    if series:
        for parent, recurrence_id in (
            Event.objects.filter(recurrence_of__in=series).order_by().values_list("recurrence_of_id", "recurrence_id")
        ):
            if recurrence_id:
                overridden[parent].append(recurrence_id)
    for pro, event_id, starts_at, ends_at, rule, zone, exdates in rows:
        busy[pro].extend(expand(starts_at, ends_at, rule, zone, exdates, start, end, overridden[event_id]))
    for pro, starts_at, ends_at in ExternalBusyTime.objects.filter(
        professional_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("professional_id", "starts_at", "ends_at"):
        busy[pro].append((starts_at, ends_at))
    return {pk: merge(spans) for pk, spans in busy.items()}


def load_calendars(
    professional_ids: Iterable[int], start: dt.datetime, end: dt.datetime, *, now: dt.datetime | None = None
) -> dict[int, Calendar]:
    """Everything a search needs about these professionals, in six queries at most."""

    ids = list(dict.fromkeys(professional_ids))
    calendars = {pk: Calendar() for pk in ids}
    for pro, weekday, start_time, end_time, valid_from, valid_until in (
        AvailabilityWindow.objects.filter(professional_id__in=ids)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=start.date()))
        .values_list("professional_id", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    ):
        calendars[pro].windows.append(Window(weekday, start_time, end_time, valid_from, valid_until))
    for pro, kind, starts_at, ends_at in AvailabilityException.objects.filter(
        professional_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).values_list("professional_id", "kind", "starts_at", "ends_at"):
        target = calendars[pro].extra if kind == ExceptionKind.EXTRA else calendars[pro].absences
        target.append((starts_at, ends_at))
    for pro, spans in load_busy(ids, start, end, now=now).items():
        calendars[pro].busy = spans
    return calendars


def find_slots(
    required_ids: Iterable[int], criteria: Criteria, *, optional_ids: Iterable[int] = (), now: dt.datetime | None = None
) -> SearchResult:
    """Load the calendars and search (a bounded number of queries)."""
    now = now or timezone.now()
    required_ids = list(dict.fromkeys(required_ids))
    optional_ids = [pk for pk in dict.fromkeys(optional_ids) if pk not in required_ids]
    start = max(criteria.window_start, now + criteria.minimum_notice) - criteria.buffer_before - criteria.buffer_after
    calendars = load_calendars(
        required_ids + optional_ids,
        start,
        criteria.window_end + criteria.buffer_after + criteria.buffer_before,
        now=now,
    )
    return search(
        {pk: calendars[pk] for pk in required_ids},
        criteria,
        optional={pk: calendars[pk] for pk in optional_ids},
        now=now,
    )
