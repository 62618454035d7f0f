"""Health checks for /healthz: the database and the task broker."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connections
from kombu import Connection


def check_database() -> tuple[bool, str]:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return False, f"indisponible ({exc.__class__.__name__})"
    return True, "ok"


def check_broker() -> tuple[bool, str]:
    if not settings.CELERY_BROKER_URL:
        return True, "en mémoire (tâches exécutées immédiatement)"
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=2,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return False, f"indisponible ({exc.__class__.__name__})"
    return True, "ok"
