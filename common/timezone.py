"""The portal's local time zone: appointments, days and reminders are French times."""

from __future__ import annotations

from zoneinfo import ZoneInfo

PARIS_NAME = "Europe/Paris"
PARIS = ZoneInfo(PARIS_NAME)
