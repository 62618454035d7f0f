"""iCalendar (RFC 5545): export of agendas and single events, import of external calendars.

Export: stable UID, DTSTAMP, SEQUENCE, STATUS (CANCELLED for cancellations), VTIMEZONE
Europe/Paris, RRULE/EXDATE/RECURRENCE-ID. Minimal detail by default (time, place,
"Rendez-vous"); titles only when the subscriber opted in; never the motive or any
health detail.

Import: an external calendar's events, expanded with recurring-ical-events over a
horizon, become `ExternalBusyTime` rows (free/busy only: no title is kept). A calendar
that cannot be read leaves the last good import in place and records a French error.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as VEvent

from agenda.models import Event, EventStatus, ExternalBusyTime, ExternalCalendar
from agenda.recurrence import exdate_set
from common.timezone import PARIS, PARIS_NAME

PRODID = "-//Portail de coordination//Agenda//FR"
STATUS = {
    EventStatus.PROPOSED: "TENTATIVE",
    EventStatus.CONFIRMED: "CONFIRMED",
    EventStatus.CANCELLED: "CANCELLED",
    EventStatus.DONE: "CONFIRMED",
}
MINIMAL_TITLE = "Rendez-vous"


class ImportError_(ValueError):
    """A calendar that cannot be imported; the message is French and safe to show."""


def _local(value: datetime, event: Event) -> datetime:
    return value.astimezone(ZoneInfo(event.time_zone or PARIS_NAME))


def _vevent(event: Event, *, include_titles: bool) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.updated_at.astimezone(ZoneInfo("UTC")))
    vevent.add("last-modified", event.updated_at.astimezone(ZoneInfo("UTC")))
    vevent.add("sequence", event.sequence)
    if event.is_all_day:
        start = _local(event.starts_at, event).date()
        end = _local(event.ends_at, event).date()
        vevent.add("dtstart", start)
        vevent.add("dtend", max(end, start + timedelta(days=1)))
    else:
        vevent.add("dtstart", _local(event.starts_at, event))
        vevent.add("dtend", _local(event.ends_at, event))
    vevent.add("summary", event.title if include_titles else MINIMAL_TITLE)
    places = [str(p) for p in event.places.all()]
    if places:
        vevent.add("location", ", ".join(places))
    vevent.add("status", STATUS[event.status])
    vevent.add("class", "PRIVATE" if event.visibility == "internal" else "CONFIDENTIAL")
    if event.rrule and event.recurrence_of_id is None:
        vevent.add(
            "rrule",
            Calendar.from_ical(f"BEGIN:VEVENT\r\nRRULE:{event.rrule.removeprefix('RRULE:')}\r\nEND:VEVENT\r\n")[
                "RRULE"
            ],
        )
        exdates = sorted(exdate_set(event))
        if exdates:
            vevent.add("exdate", [_local(d, event) for d in exdates])
    if event.recurrence_of_id is not None and event.recurrence_id is not None:
        vevent.add("recurrence-id", _local(event.recurrence_id, event))
    return vevent


def calendar_for(events, *, name: str, include_titles: bool = False) -> bytes:
    """A VCALENDAR with the events (series, overrides and single events) and VTIMEZONE."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", PARIS_NAME)
    for event in events:
        cal.add_component(_vevent(event, include_titles=include_titles))
    cal.add_missing_timezones()
    return cal.to_ical()


# --- Import -----------------------------------------------------------------------------


def _aware(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=PARIS)
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=PARIS)
    raise ImportError_("Une date du calendrier n'est pas lisible.")


def parse_busy_times(content: bytes, now: datetime | None = None) -> list[dict]:
    """The busy occurrences of an ICS file over the import horizon; ImportError_ if unreadable."""
    now = now or timezone.now()
    start = now - timedelta(days=settings.AGENDA_IMPORT_PAST_DAYS)
    end = now + timedelta(days=settings.AGENDA_IMPORT_FUTURE_DAYS)
    try:
        calendar = Calendar.from_ical(content)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ImportError_("Le fichier n'est pas un calendrier ICS valide.") from error
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise ImportError_("Le fichier n'est pas un calendrier ICS valide (VCALENDAR attendu).")
    try:
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except Exception as error:  # noqa: BLE001 - the library raises many kinds on bad rules
        raise ImportError_("Le calendrier contient une règle de récurrence illisible.") from error
    rows = []
    for component in occurrences:
        if component.name != "VEVENT":
            continue
        if str(component.get("transp", "")).upper() == "TRANSPARENT":
            continue
        if str(component.get("status", "")).upper() == "CANCELLED":
            continue
        if component.get("dtstart") is None:
            continue
        starts_at = _aware(component.decoded("dtstart"))
        if component.get("dtend") is not None:
            ends_at = _aware(component.decoded("dtend"))
        elif component.get("duration") is not None:
            ends_at = starts_at + component.decoded("duration")
        else:
            ends_at = starts_at + (
                timedelta(days=1) if not isinstance(component.decoded("dtstart"), datetime) else timedelta(0)
            )
        recurrence_id = component.get("recurrence-id")
        rows.append(
            {
                "external_uid": str(component.get("uid", ""))[:500],
                "recurrence_id": _aware(recurrence_id.dt) if recurrence_id is not None else starts_at,
                "starts_at": starts_at,
                "ends_at": max(ends_at, starts_at),
            }
        )
    return rows


@transaction.atomic
def import_calendar(calendar: ExternalCalendar, content: bytes) -> int:
    """Replace the calendar's busy times by the file's (removed events disappear). On a
    bad file: keep the last good import, record the error, raise nothing. Returns the
    number of busy times, or -1 on error."""
    try:
        rows = parse_busy_times(content)
    except ImportError_ as error:
        record_error(calendar, str(error))
        return -1
    ExternalBusyTime.objects.filter(calendar=calendar).delete()
    ExternalBusyTime.objects.bulk_create(
        [ExternalBusyTime(calendar=calendar, professional_id=calendar.professional_id, **row) for row in rows]
    )
    calendar.last_synced_at = timezone.now()
    calendar.last_error = ""
    calendar.last_error_at = None
    calendar.save(update_fields=["last_synced_at", "last_error", "last_error_at"])
    return len(rows)


def record_error(calendar: ExternalCalendar, message: str) -> None:
    calendar.last_error = message
    calendar.last_error_at = timezone.now()
    calendar.save(update_fields=["last_error", "last_error_at"])


def fetch(url: str) -> bytes:
    """Download a calendar (timeout, size cap); ImportError_ with a French message otherwise."""
    cap = settings.AGENDA_IMPORT_MAX_BYTES
    try:
        with requests.get(
            url, timeout=settings.AGENDA_IMPORT_TIMEOUT, stream=True, headers={"User-Agent": "Portail-coordination/1.0"}
        ) as response:
            if response.status_code != 200:
                raise ImportError_(f"L'adresse de l'agenda répond par une erreur ({response.status_code}).")
            chunks, size = [], 0
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > cap:
                    raise ImportError_(f"L'agenda dépasse la taille maximale ({cap // 1_000_000} Mo).")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as error:
        raise ImportError_("L'adresse de l'agenda est injoignable pour le moment.") from error


def refresh(calendar: ExternalCalendar) -> int:
    """Fetch and import a URL calendar; on failure keep the last good import."""
    try:
        content = fetch(calendar.url)
    except ImportError_ as error:
        record_error(calendar, str(error))
        return -1
    return import_calendar(calendar, content)
