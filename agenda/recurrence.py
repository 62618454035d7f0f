"""Expansion of events into the occurrences of a period, in each event's time zone.

A recurring event keeps its RFC 5545 rule (`rrule`), its removed occurrences
(`exdates`, ISO datetimes of the original starts) and its changed occurrences (other
`Event` rows with `recurrence_of` + `recurrence_id`). The rule is evaluated on local
wall-clock time, then each occurrence is localised: a weekly 10:00 in Europe/Paris
stays at 10:00 across the daylight-saving changes (its UTC time moves by an hour).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db.models import Q

from agenda.models import Event, EventStatus
from common.timezone import PARIS, PARIS_NAME

# The longest span of occurrences we expand for one read (a year view at most).
MAX_OCCURRENCES = 2000


@dataclass
class Occurrence:
    """One occurrence to show: the event (a single one, a series or an override) and its times."""

    event: Event
    starts_at: datetime
    ends_at: datetime
    recurrence_id: datetime | None = None

    @property
    def is_cancelled(self) -> bool:
        return self.event.status == EventStatus.CANCELLED

    @property
    def key(self) -> str:
        """Stable anchor of the occurrence in a page."""
        suffix = f"-{int(self.recurrence_id.timestamp())}" if self.recurrence_id else ""
        return f"e{self.event.pk}{suffix}"


def _zone(event: Event) -> ZoneInfo:
    try:
        return ZoneInfo(event.time_zone or PARIS_NAME)
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to Paris
        return PARIS


def parse_rule(rule: str, dtstart: datetime, zone: ZoneInfo = PARIS):
    """The dateutil rule for `rule` starting at the naive local `dtstart`; ValidationError if invalid."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = []
    for part in text.split(";"):
        name, _sep, value = part.partition("=")
        if name.upper() == "UNTIL" and value.upper().endswith("Z"):
            # UNTIL in UTC (…Z): the rule runs on local wall-clock time, so compare locally.
            try:
                until = datetime.strptime(value.upper(), "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
            except ValueError as error:
                raise ValidationError({"rrule": "La date de fin de la récurrence (UNTIL) n'est pas valide."}) from error
            value = f"{until.astimezone(zone):%Y%m%dT%H%M%S}"
        parts.append(f"{name}={value}" if _sep else name)
    try:
        parsed = rrulestr(";".join(parts), dtstart=dtstart)
    except (ValueError, TypeError) as error:
        raise ValidationError(
            {"rrule": "La règle de récurrence n'est pas valide (format RFC 5545, par exemple FREQ=WEEKLY;BYDAY=MO)."}
        ) from error
    return parsed


def _local_naive(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone).replace(tzinfo=None)


def _localise(naive: datetime, zone: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=zone)


def series_end(event: Event) -> datetime | None:
    """End of the last occurrence (ends_at for a single event; None for an endless rule)."""
    if not event.rrule:
        return event.ends_at
    zone = _zone(event)
    start = _local_naive(event.starts_at, zone)
    duration = _local_naive(event.ends_at, zone) - start
    rule = parse_rule(event.rrule, start, zone)
    if getattr(rule, "_count", None) is None and getattr(rule, "_until", None) is None:
        return None
    last = None
    for last in rule:  # noqa: B007 - finite: COUNT or UNTIL
        pass
    if last is None:
        return event.ends_at
    return _localise(last + duration, zone)


def exdate_set(event: Event) -> set[datetime]:
    values = set()
    for text in event.exdates or []:
        try:
            values.add(datetime.fromisoformat(text))
        except (TypeError, ValueError):
            continue
    return values


def occurrence_starts(event: Event, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of the series' occurrences overlapping [start, end), exdates included."""
    zone = _zone(event)
    first = _local_naive(event.starts_at, zone)
    duration = _local_naive(event.ends_at, zone) - first
    rule = parse_rule(event.rrule, first, zone)
    window_start = _local_naive(start, zone) - duration - timedelta(days=1)
    window_end = _local_naive(end, zone) + timedelta(days=1)
    result = []
    for naive in rule.between(window_start, window_end, inc=True)[:MAX_OCCURRENCES]:
        occ_start = _localise(naive, zone)
        occ_end = _localise(naive + duration, zone)
        if occ_start < end and occ_end > start:
            result.append((occ_start, occ_end))
    return result


def expand(
    events: Iterable[Event], start: datetime, end: datetime, overridden: dict[int, set[datetime]] | None = None
) -> list[Occurrence]:
    """The occurrences of `events` overlapping [start, end), sorted by start.

    `events` may hold single events, series and overrides; `overridden` maps a series id
    to the original starts that have an override row (wherever that row moved), so that
    the original occurrence is not shown twice.
    """
    overridden = overridden or {}
    occurrences: list[Occurrence] = []
    for event in events:
        if event.rrule and event.recurrence_of_id is None:
            skip = exdate_set(event) | overridden.get(event.pk, set())
            for occ_start, occ_end in occurrence_starts(event, start, end):
                if occ_start in skip:
                    continue
                occurrences.append(Occurrence(event, occ_start, occ_end, recurrence_id=occ_start))
        elif (
            event.starts_at < end
            and event.ends_at > start
            or (event.starts_at == event.ends_at and start <= event.starts_at < end)
        ):
            occurrences.append(Occurrence(event, event.starts_at, event.ends_at, recurrence_id=event.recurrence_id))
    occurrences.sort(key=lambda o: (o.starts_at, o.event.pk))
    return occurrences


def period_q(start: datetime, end: datetime, prefix: str = "") -> Q:
    """Events (rows) that may have an occurrence in [start, end): indexed on the bounds."""
    return Q(**{f"{prefix}starts_at__lt": end}) & (
        Q(**{f"{prefix}series_ends_at__gt": start})
        | Q(**{f"{prefix}series_ends_at__isnull": True})
        | Q(**{f"{prefix}series_ends_at": start, f"{prefix}starts_at": start})
    )


def overridden_starts(events: Iterable[Event]) -> dict[int, set[datetime]]:
    """For the series among `events`: the original starts that have an override (one query)."""
    series_ids = [e.pk for e in events if e.rrule and e.recurrence_of_id is None]
    if not series_ids:
        return {}
    result: dict[int, set[datetime]] = {}
    for series_id, recurrence_id in Event.objects.filter(recurrence_of_id__in=series_ids).values_list(
        "recurrence_of_id", "recurrence_id"
    ):
        result.setdefault(series_id, set()).add(recurrence_id)
    return result


def all_day_bounds(day_start: date, day_end: date, zone: str = PARIS_NAME) -> tuple[datetime, datetime]:
    """Local midnight of `day_start` to local midnight after `day_end` (inclusive days)."""
    tz = ZoneInfo(zone)
    return (
        datetime.combine(day_start, time.min, tzinfo=tz),
        datetime.combine(day_end + timedelta(days=1), time.min, tzinfo=tz),
    )
