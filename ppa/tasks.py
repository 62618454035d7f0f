from __future__ import annotations

from celery import shared_task

from ppa import services


@shared_task
def send_review_reminders() -> int:
    """Beat, daily: yearly-review reminders (60, 30 and 7 days before, then overdue),
    each once per version."""
    return services.review_reminders_send()
