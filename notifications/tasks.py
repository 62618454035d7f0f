"""Celery tasks of the notifications: deliveries and digests.

A task takes ids, claims its row with a lease (`common.outbox`), and is safe to run twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from celery import shared_task
from django.db import models, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone

from common import outbox
from common.handoff import queue_after_commit, queue_now
from common.notify import Frequency
from notifications.channels import SENDERS, PermanentError, TransientError, send_email, send_email_batch
from notifications.models import Channel, Delivery, DeliveryStatus, Notification

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


# --- Digests in batches: many e-mails over one connection to the relay -------------------------

# Deliveries per batch: one claim, one read, one digest-items query and one SMTP
# connection for all of them; one UPDATE per message once the relay has accepted it.
BATCH_SIZE = 200


def claim_batch(delivery_ids: Sequence[int], *, now=None) -> list[Delivery]:
    """Take up to BATCH_SIZE of these e-mail deliveries for sending, in one UPDATE: the
    rows `claim` would take (waiting, or their lease expired), locked and skipped if
    another run holds them, moved to "sending" with the same lease and attempt count
    as a single claim; a row without a Message-ID gets its own, kept for every later
    attempt. Returns the claimed rows, with their user, in id order."""
    now = now or timezone.now()
    ids = list(delivery_ids)[:BATCH_SIZE]
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Delivery.claimable_q(now), pk__in=ids, channel=Channel.EMAIL)
            .values_list("pk", "message_id")
        )
        if not rows:
            return []
        fields: dict[str, Any] = {"status": Delivery.SENDING, "claimed_at": now, "attempts": F("attempts") + 1}
        fresh = [When(pk=pk, then=Value(outbox.new_message_id())) for pk, message_id in rows if not message_id]
        if fresh:
            fields["message_id"] = Case(*fresh, default=F("message_id"), output_field=models.CharField())
        Delivery.objects.filter(Delivery.claimable_q(now), pk__in=[pk for pk, _ in rows]).update(**fields)
    # The claim's time marks this run's rows (SQLite has no row locks: a concurrent run
    # that updated none of them finds none here).
    return list(
        Delivery.objects.filter(pk__in=[pk for pk, _ in rows], status=Delivery.SENDING, claimed_at=now)
        .select_related("user")
        .order_by("pk")
    )


def give_back(deliveries: Sequence[Delivery], *, claimed_at, error: Exception | None) -> int:
    """Claimed rows this run did not try: waiting again, their attempt not counted, in
    one UPDATE, and only if they are still this run's (status "sending" since this
    claim). After a relay failure they wait a minute (the relay's backoff; the sweeper
    then sends them one by one); stopped before the lease's end they are due at once."""
    if not deliveries:
        return 0
    if error is None:
        fields: dict[str, Any] = {"status": DeliveryStatus.PENDING, "next_attempt_at": None}
    else:
        fields = {
            "status": DeliveryStatus.RETRY,
            "next_attempt_at": timezone.now() + timedelta(seconds=outbox.backoff_seconds(1)),
            "last_error": f"Non envoyé : le relais a échoué pendant l'envoi groupé ({error})"[:1900],
        }
    return Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=Delivery.SENDING, claimed_at=claimed_at
    ).update(attempts=F("attempts") - 1, **fields)


@shared_task(acks_late=True)
def deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    """Send these e-mail deliveries (the digests), BATCH_SIZE at a time, each batch over
    one SMTP connection, with `deliver`'s guarantees for every row:

    - claimed with the same lease, each with its own Message-ID kept across attempts;
    - each row marked sent in its own short transaction as soon as the relay has
      accepted its message, before the next one is sent (a worker killed in between
      re-sends at most that one message, with its Message-ID, after the lease);
    - a refused recipient fails that row only, with its reason; a relay failure records
      the attempt of the message in flight (retry with backoff) and gives the untried
      rows back (waiting, attempt not counted): none is left "sending";
    - the batch stops and gives the rest back at half the lease, so that no row is
      still being sent here once its lease may have passed to another run;
    - a row killed in flight is brought back by the sweeper when its lease expires and
      sent by `deliver` like any other.

    Rows that are not e-mails, or not claimable (sent, failed, held by another run) are
    skipped. Returns the count of each outcome."""
    outcomes = {"sent": 0, "failed": 0, "retry": 0, "given back": 0, "skipped": 0}
    ids = list(dict.fromkeys(delivery_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        if _send_batch(chunk, outcomes) is not None:
            # The relay is failing: the rest of the ids are left for the sweeper too.
            outcomes["skipped"] += len(ids) - start - len(chunk)
            break
    return outcomes


def _send_batch(chunk: list[int], outcomes: dict[str, int]) -> Exception | None:
    """One batch of `deliver_batch`: claim, send over one connection, give back the
    rest. Returns the relay's error that stopped it, if any."""
    now = timezone.now()
    deadline = time.monotonic() + outbox.lease_seconds() / 2
    claimed = claim_batch(chunk, now=now)
    outcomes["skipped"] += len(chunk) - len(claimed)
    if not claimed:
        return None

    def accepted(delivery: Delivery) -> None:
        # The relay said yes to this message: mark its row sent at once, in its own
        # short transaction (autocommit), before the next message.
        outbox.mark_sent(Delivery, delivery.pk)
        outcomes["sent"] += 1

    def failed(delivery: Delivery, error: Exception) -> None:
        status = outbox.record_failure(
            Delivery,
            delivery.pk,
            attempts=delivery.attempts,  # read after the claim: this attempt included
            error=str(error) or error.__class__.__name__,
            permanent=isinstance(error, PermanentError),
        )
        outcomes[status] += 1
        log = logger.warning if isinstance(error, PermanentError | TransientError) else logger.error
        log("delivery %s: %s (%s)", delivery.pk, error, status)

    untried, error = send_email_batch(
        claimed, on_accepted=accepted, on_failed=failed, may_go_on=lambda: time.monotonic() < deadline
    )
    outcomes["given back"] += give_back(untried, claimed_at=now, error=error)
    if error is not None:
        logger.warning("digest batch stopped by the relay (%s): %s given back", error, len(untried))
    return error


def _record_batch_error(ids: Any, error: str) -> None:
    Delivery.objects.filter(pk__in=ids).update(last_error=error[:1900])


def dispatch_digests(deliveries: Sequence[Delivery]) -> None:
    """After the commit, queue the digests' e-mails by batches (`deliver_batch`) and
    their SMS one by one (`deliver`). A batch not queued (broker down) is sent by the
    sweeper, row by row."""
    from notifications.services import dispatch_after_commit

    emails = [d.pk for d in deliveries if d.channel == Channel.EMAIL and d.pk is not None]
    batches = [emails[i : i + BATCH_SIZE] for i in range(0, len(emails), BATCH_SIZE)]
    # queue_after_commit hands each item to the task as it is: here, a list of ids.
    queue_after_commit(deliver_batch, cast(list[int], batches), record=_record_batch_error)
    dispatch_after_commit([d for d in deliveries if d.channel != Channel.EMAIL])


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
        if any(d.pk is None for d in deliveries):
            deliveries = list(Delivery.objects.filter(digest=frequency, created_at=now))
        dispatch_digests(deliveries)
    return len(deliveries)
