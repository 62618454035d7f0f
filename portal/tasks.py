from __future__ import annotations

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker, used by the health check tests and operators."""
    return "pong"
