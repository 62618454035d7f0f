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


@shared_task
def file_missing_plan_documents() -> int:
    """Beat, every five minutes (the sweeper): file the PDF of the versions validated in
    the last week whose filing was not queued (broker down) or failed for good."""
    from datetime import timedelta

    from django.utils import timezone

    from common.handoff import queue_now
    from ppa.models import PlanVersion, VersionStatus

    now = timezone.now()
    due = list(
        PlanVersion.objects.filter(
            status=VersionStatus.VALIDATED,
            document__isnull=True,
            validated_at__lt=now - timedelta(minutes=1),
            validated_at__gte=now - timedelta(days=7),
        ).values_list("pk", flat=True)[:500]
    )
    queue_now(file_plan_document, due)
    return len(due)
