from __future__ import annotations

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker, used by the health check tests and operators."""
    return "pong"


@shared_task
def heartbeat() -> str:
    """Queued by beat every minute: the worker that runs it records its sign of life (and
    beat's is recorded when it queues it, portal.health)."""
    from celery import current_task

    from portal.models import Heartbeat

    Heartbeat.touch("worker", detail=getattr(current_task.request, "hostname", "") or "")
    return "ok"
