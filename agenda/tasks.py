"""Periodic refresh of the external calendars registered by URL."""

from __future__ import annotations

from celery import shared_task

from agenda import ics
from agenda.models import ExternalCalendar, ExternalCalendarKind


@shared_task
def refresh_external_calendar(calendar_id: int) -> int:
    """Fetch one URL calendar and replace its busy times; a failure is recorded on the
    calendar (shown to the professional) and the last good import kept. Idempotent."""
    calendar = ExternalCalendar.objects.filter(pk=calendar_id, is_active=True, kind=ExternalCalendarKind.URL).first()
    if calendar is None:
        return 0
    return ics.refresh(calendar)


@shared_task
def refresh_external_calendars() -> int:
    """Beat: queue a refresh of every active URL calendar."""
    ids = list(
        ExternalCalendar.objects.filter(is_active=True, kind=ExternalCalendarKind.URL).values_list("pk", flat=True)
    )
    for calendar_id in ids:
        refresh_external_calendar.delay(calendar_id)
    return len(ids)
