"""Celery tasks of the whole-record app. Each takes ids, claims its row and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from records import services


@shared_task(acks_late=True)
def build_export(export_id: int) -> str:
    """Build one export (claimed with a conditional UPDATE: a second run does nothing)."""
    if not services.claim(export_id):
        return "skipped"
    return services.export_build(export_id).status


@shared_task
def resume_exports() -> int:
    """Beat, every minute (the sweeper): exports whose hand-off was lost, whose retry is
    due or whose run died are queued again; one interrupted too often ends as failed."""
    return len(services.exports_sweep())


@shared_task
def delete_expired_exports() -> int:
    """Beat (hourly): delete the files of exports whose download time is over."""
    return services.exports_delete_expired()


@shared_task
def apply_retention() -> int:
    """Beat (daily): archive ended coordinations, destroy what is past its period."""
    from records import retention

    return len(retention.run())
