"""The portal's local time zone: appointments, days and reminders are French times."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone

PARIS_NAME = "Europe/Paris"
PARIS = ZoneInfo(PARIS_NAME)


def requested_day(request) -> date:
    """The day a page was asked for (`?date=YYYY-MM-DD`), else today, local time."""
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()
