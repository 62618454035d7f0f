from __future__ import annotations

from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker, used by the health check tests and operators."""
    return "pong"


@shared_task(acks_late=True)
def send_invitation_email(email_id: int) -> str:
    """Send one invitation e-mail (portal.invitations.invitation_email_send)."""
    from portal.invitations import invitation_email_send

    return invitation_email_send(email_id)


@shared_task
def resume_invitation_emails() -> int:
    """Beat, every minute (the sweeper): lost hand-offs, due retries, expired leases."""
    from common import outbox
    from common.handoff import queue_now
    from portal.models import InvitationEmail

    outbox.fail_exhausted(InvitationEmail)
    due = outbox.due_for_sweep(InvitationEmail, limit=1000)
    queue_now(send_invitation_email, due)
    return len(due)


@shared_task
def heartbeat() -> str:
    """Queued by beat every minute: the worker that runs it records its sign of life (and
    beat's is recorded when it queues it, portal.health)."""
    from celery import current_task

    from portal.models import Heartbeat

    Heartbeat.touch("worker", detail=getattr(current_task.request, "hostname", "") or "")
    return "ok"
