"""Celery tasks of the notifications: deliveries and digests.

A task takes ids, claims its row with a lease (`common.outbox`), and is safe to run twice.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from common import outbox
from common.handoff import queue_now
from common.notify import Frequency
from notifications.channels import SENDERS, PermanentError, TransientError, send_email
from notifications.models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)


def claim(delivery_id: int) -> bool:
    """Take the row for sending (lease, `common.outbox.claim`); False if another run
    holds it or it is done."""
    return outbox.claim(Delivery, delivery_id)


@shared_task(acks_late=True)
def deliver(delivery_id: int) -> str:
    """Send one delivery. A duplicate task never sends twice: only the run that claimed
    the row sends, and a sent row is never claimed again. A worker lost mid-send leaves
    the row "sending" until its lease expires; then it is sent again, same Message-ID.
    A failure is recorded on the row (retry with backoff, or failed with its reason):
    the sweeper, not the broker, brings the retry back."""
    if not claim(delivery_id):
        return "skipped"
    delivery = Delivery.objects.select_related("user", "notification").get(pk=delivery_id)
    marked = []

    def accepted() -> None:
        # The relay said yes: mark the row sent at once, in its own short transaction
        # (autocommit), before anything else (the SMTP goodbye): a worker killed after
        # this line never re-sends the message.
        outbox.mark_sent(Delivery, delivery_id)
        marked.append(True)

    sender = SENDERS[delivery.channel]
    try:
        if sender is send_email:
            send_email(delivery, on_accepted=accepted)
        else:
            sender(delivery)
    except PermanentError as error:
        logger.warning("delivery %s failed: %s", delivery_id, error)
        return outbox.record_failure(
            Delivery, delivery_id, attempts=delivery.attempts, error=str(error), permanent=True
        )
    except Exception as error:  # noqa: BLE001 — TransientError, and anything unforeseen: try again later
        status = outbox.record_failure(
            Delivery, delivery_id, attempts=delivery.attempts, error=str(error) or error.__class__.__name__
        )
        log = logger.warning if isinstance(error, TransientError) else logger.exception
        log("delivery %s: %s (%s)", delivery_id, error, status)
        return status
    if not marked:
        outbox.mark_sent(Delivery, delivery_id)
    return "sent"


@shared_task
def resume_deliveries() -> int:
    """Beat, every minute (the sweeper): queue the deliveries whose hand-off was lost
    (pending for more than a minute: broker down), the retries that are due and the
    rows whose lease expired (a worker died mid-send: sent again, same Message-ID)."""
    outbox.fail_exhausted(Delivery)
    due = outbox.due_for_sweep(Delivery)
    queue_now(deliver, due)
    return len(due)


@shared_task
def build_digests(frequency: str) -> int:
    """Beat: one message per user grouping their pending items of this frequency.

    Runs in a constant number of queries whatever the number of users.
    """
    if frequency not in (Frequency.DAILY, Frequency.WEEKLY):
        raise ValueError(frequency)
    with transaction.atomic():
        now = timezone.now()
        # Mark first, then count what was marked: an item committed meanwhile is either
        # in this digest or left for the next one, never marked without being sent.
        Notification.objects.filter(frequency=frequency, digested_at__isnull=True, created_at__lte=now).update(
            digested_at=now
        )
        per_user = list(
            Notification.objects.filter(frequency=frequency, digested_at=now, recipient__is_active=True)
            .values("recipient_id")
            .annotate(
                total=Count("pk"),
                by_email=Count("pk", filter=Q(wants_email=True)),
                by_sms=Count("pk", filter=Q(wants_sms=True)),
            )
            .order_by()
        )
        deliveries = []
        for row in per_user:
            if row["by_email"]:
                deliveries.append(
                    Delivery(
                        user_id=row["recipient_id"],
                        channel=Channel.EMAIL,
                        digest=frequency,
                        item_count=row["total"],
                        created_at=now,
                    )
                )
            if row["by_sms"]:
                deliveries.append(
                    Delivery(
                        user_id=row["recipient_id"],
                        channel=Channel.SMS,
                        digest=frequency,
                        item_count=row["total"],
                        created_at=now,
                    )
                )
        # The digest finds its items by this timestamp (see channels._digest_items).
        Delivery.objects.bulk_create(deliveries, batch_size=2000)
        from notifications.services import dispatch_after_commit

        if any(d.pk is None for d in deliveries):
            deliveries = list(Delivery.objects.filter(digest=frequency, created_at=now))
        dispatch_after_commit(deliveries)
    return len(deliveries)
