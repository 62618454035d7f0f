"""Celery application. Without CELERY_BROKER_URL tasks run in-process (eager)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task messages carry the request id that queued them; task runs are logged with both ids.
import portal.health  # noqa: E402, F401  (beat's sign of life)
import portal.logs  # noqa: E402, F401
