"""Health checks. /healthz: the process answers (liveness). /readyz: the database, the
cache, the broker and the private storage answer (readiness); the worker's and beat's
signs of life are warnings (they run elsewhere, the web can serve without them)."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from celery import signals
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DatabaseError, connections
from django.utils import timezone
from kombu import Connection

# A sign of life older than this is a warning (beat queues the heartbeat every minute).
HEARTBEAT_STALE = timedelta(minutes=3)


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


def check_cache() -> tuple[bool, str]:
    key = f"readyz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", 10)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:  # redis-py errors of any kind
        return False, f"indisponible ({exc.__class__.__name__})"
    return (True, "ok") if ok else (False, "la valeur écrite n'a pas été relue")


def check_storage() -> tuple[bool, str]:
    storage = default_storage
    try:
        if isinstance(storage, FileSystemStorage):
            location = storage.location
            os.makedirs(location, exist_ok=True)
            if not os.access(location, os.W_OK):
                return False, "dossier non inscriptible"
            return True, "disque local"
        storage.bucket.meta.client.head_bucket(Bucket=storage.bucket_name)
    except Exception as exc:  # boto3 / OS errors of any kind
        return False, f"indisponible ({exc.__class__.__name__})"
    return True, "ok"


def heartbeat_warnings() -> dict[str, str]:
    """Warnings about the worker and beat, when tasks go through a broker."""
    if not settings.CELERY_BROKER_URL:
        return {}
    from portal.models import Heartbeat

    seen = {beat.name: beat.last_seen for beat in Heartbeat.objects.all()}
    now = timezone.now()
    warnings = {}
    for name, label in (("worker", "worker Celery"), ("beat", "Celery beat")):
        last = seen.get(name)
        if last is None:
            warnings[name] = f"{label} : aucun signe de vie enregistré"
        elif now - last > HEARTBEAT_STALE:
            warnings[name] = f"{label} : dernier signe de vie il y a {int((now - last).total_seconds() // 60)} min"
    return warnings


# --- Beat's sign of life: recorded by the beat process each time it queues a task -------------

_in_beat = False


@signals.beat_init.connect
def _mark_beat(**kwargs):
    global _in_beat
    _in_beat = True


@signals.before_task_publish.connect
def _beat_heartbeat(sender=None, **kwargs):
    if _in_beat:
        from portal.models import Heartbeat

        Heartbeat.touch("beat", detail=str(sender or ""))
