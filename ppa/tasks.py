from __future__ import annotations

from celery import shared_task

from ppa import services


@shared_task
def send_review_reminders() -> int:
    """Beat, daily: yearly-review reminders (60, 30 and 7 days before, then overdue),
    each once per version."""
    return services.review_reminders_send()


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def file_plan_document(self, version_id: int) -> int | None:
    """After a version is validated: file its PDF in the person's documents. Idempotent
    (one document per version); retried when the database or the storage fails."""
    from django.db import DatabaseError

    from ppa import documents

    try:
        document = documents.plan_document_file_after_validation(version_id)
    except (DatabaseError, OSError) as error:
        raise self.retry(exc=error) from error
    return document.pk if document else None
