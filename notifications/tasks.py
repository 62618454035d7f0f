"""Celery tasks of the notifications: deliveries and digests.

A task takes ids, claims its row with a conditional UPDATE, and is safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from common.notify import Frequency
from common.outbox import MAX_ATTEMPTS, backoff_seconds
from notifications.channels import SENDERS, PermanentError, TransientError
from notifications.models import Channel, Delivery, DeliveryStatus, Notification

logger = logging.getLogger(__name__)


def claim(delivery_id: int) -> bool:
    """Take the row for sending; False if another run has it or it is done."""
    now = timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRY]).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver(self, delivery_id: int) -> str:
    """Send one delivery. A retry or a duplicate task never sends twice: only the run
    that claimed the row sends, and a sent row is never claimed again."""
    if not claim(delivery_id):
        return "skipped"
    delivery = Delivery.objects.select_related("user", "notification").get(pk=delivery_id)
    try:
        SENDERS[delivery.channel](delivery)
    except TransientError as error:
        if delivery.attempts >= MAX_ATTEMPTS:
            _fail(delivery, f"{error} (abandon après {delivery.attempts} essais)")
            return "failed"
        countdown = backoff_seconds(delivery.attempts)
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.RETRY,
            last_error=str(error)[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        )
        raise self.retry(countdown=countdown, exc=error) from error
    except PermanentError as error:
        _fail(delivery, str(error))
        return "failed"
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def _fail(delivery: Delivery, reason: str) -> None:
    logger.warning("delivery %s failed: %s", delivery.pk, reason)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=reason[:2000])


@shared_task
def resume_deliveries() -> int:
    """Beat: re-queue what a lost task or a broker outage left behind.

    A row still "sending" long after its claim is marked failed rather than sent again:
    the message may have left before the worker died, and sending twice is worse.
    """
    now = timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - timedelta(minutes=30)).update(
        status=DeliveryStatus.FAILED, last_error="Envoi interrompu : le message a pu partir ; non renvoyé."
    )
    due = list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, created_at__lt=now - timedelta(minutes=5))
            | Q(status=DeliveryStatus.RETRY, next_attempt_at__lte=now)
        ).values_list("pk", flat=True)[:5000]
    )
    for delivery_id in due:
        deliver.delay(delivery_id)
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
