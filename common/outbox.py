"""What the outboxes share: the retry columns, the one claim, the one retry rule.

An outbox row says what must leave (an e-mail, an SMS, a DMP share, an MSSanté message,
an invitation). It is written in the transaction of the change; a task sends it later.

- **Claim.** The sending task takes the row with `claim(Model, pk)`: the row is locked
  (`select_for_update(skip_locked=True)` on PostgreSQL; SQLite serialises writes) and
  moved to "sending" with a conditional UPDATE, so two runs never both take it.
- **Lease.** A claim lasts `LEASE_SECONDS`. A worker killed mid-send leaves the row
  "sending"; once the lease has expired the row is claimable again and is sent again —
  at least once, never lost — with the same `message_id` (mail clients fold copies that
  share a Message-ID; the DMP's idempotency key does the same there).
- **Retry.** `record_failure` moves a transient failure to "retry" with a backoff
  (1 min, 2, 4… capped at one hour) and ends it as "failed" with its reason after
  `MAX_ATTEMPTS` or on a permanent refusal. A sent row is never claimed again.
- **Sweep.** Each app's sweeper (beat, every minute) asks `due_for_sweep(Model)`: rows
  pending for more than `PENDING_GRACE_SECONDS` (their hand-off was lost: broker down),
  retries that are due and expired leases.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import ClassVar
from urllib.parse import urlparse

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

MAX_ATTEMPTS = 6
# How long a claim holds (settings.OUTBOX_LEASE_SECONDS, this by default). Longer than
# any one sending (SMTP timeout 10 s, DMP 30 s); the broker's visibility timeout is no
# longer than this (portal/settings.py).
LEASE_SECONDS = 300


def lease_seconds() -> int:
    return int(getattr(settings, "OUTBOX_LEASE_SECONDS", LEASE_SECONDS))


# A row still pending this long after it was written lost its hand-off (broker down).
PENDING_GRACE_SECONDS = 60
SWEEP_BATCH = 5000


def backoff_seconds(attempts: int) -> int:
    """1 min, 2, 4, 8, 16… capped at one hour."""
    return min(60 * 2 ** max(attempts - 1, 0), 3600)


def new_message_id() -> str:
    """A Message-ID for an e-mail (RFC 5322), unique, on the portal's domain."""
    domain = urlparse(getattr(settings, "SITE_URL", "")).hostname or "portail.localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


class OutboxItem(models.Model):
    """The columns every outbox row has. Each concrete model declares its own `status`
    (its words for the states) and `created_at`, and names its states below."""

    # Each model redefines it with its own words for the states (choices).
    status = models.CharField("statut", max_length=20)
    attempts = models.PositiveSmallIntegerField("essais", default=0)
    claimed_at = models.DateTimeField("pris en charge le", null=True, blank=True)
    next_attempt_at = models.DateTimeField("prochain essai", null=True, blank=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)
    # Given at the first claim and kept for every later attempt of the same row.
    message_id = models.CharField("identifiant du message", max_length=200, blank=True)

    objects = models.Manager()

    # The states, in each model's own words.
    WAITING: ClassVar[tuple[str, ...]] = ("pending", "retry")  # may be claimed (when due)
    FRESH: ClassVar[str] = "pending"  # written, never tried
    SENDING: ClassVar[str] = "sending"
    RETRY: ClassVar[str] = "retry"
    SENT: ClassVar[str] = "sent"
    FAILED: ClassVar[str] = "failed"
    # A task handed a row explicitly sends it even before its next_attempt_at.
    CLAIM_BEFORE_DUE: ClassVar[bool] = False

    class Meta:
        abstract = True

    def new_message_id(self) -> str:
        return new_message_id()

    @classmethod
    def lease_expired_q(cls, now) -> Q:
        return Q(status=cls.SENDING, claimed_at__lt=now - timedelta(seconds=lease_seconds()))

    @classmethod
    def due_q(cls, now) -> Q:
        """Waiting rows whose time has come."""
        return Q(status__in=cls.WAITING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))

    @classmethod
    def claimable_q(cls, now) -> Q:
        waiting = Q(status__in=cls.WAITING) if cls.CLAIM_BEFORE_DUE else cls.due_q(now)
        return waiting | cls.lease_expired_q(now)

    @classmethod
    def sweep_q(cls, now) -> Q:
        """What the sweeper queues: lost hand-offs, due retries, expired leases."""
        grace = now - timedelta(seconds=PENDING_GRACE_SECONDS)
        lost = Q(status=cls.FRESH, created_at__lt=grace)
        due_retry = Q(status__in=[s for s in cls.WAITING if s != cls.FRESH], next_attempt_at__lte=now)
        return (
            (lost & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)))
            | due_retry
            | cls.lease_expired_q(now)
        )


def claim(model: type[OutboxItem], pk: int, *, now=None) -> bool:
    """Take the row for sending: True for the one run that gets it; False if another
    run holds it (lease in force), it is done, or it is not due yet."""
    now = now or timezone.now()
    with transaction.atomic():
        item = (
            model.objects.select_for_update(skip_locked=True)
            .filter(model.claimable_q(now), pk=pk)
            .only("pk", "message_id")
            .first()
        )
        if item is None:
            return False
        fields = {"status": model.SENDING, "claimed_at": now, "attempts": F("attempts") + 1}
        if not item.message_id:
            fields["message_id"] = item.new_message_id()
        return bool(model.objects.filter(model.claimable_q(now), pk=pk).update(**fields))


def mark_sent(model: type[OutboxItem], pk: int, **extra) -> None:
    model.objects.filter(pk=pk).update(status=model.SENT, sent_at=timezone.now(), last_error="", **extra)


def record_failure(
    model: type[OutboxItem],
    pk: int,
    *,
    attempts: int,
    error: str,
    permanent: bool = False,
    retry_status: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> str:
    """After a failed attempt: "failed" for good (permanent, or the last attempt), with
    its reason; else "retry" at the backoff's time. Returns the status set."""
    error = (error or "erreur inconnue")[:1900]
    if permanent or attempts >= max_attempts:
        reason = error if permanent else f"{error} (abandon après {attempts} essais)"
        model.objects.filter(pk=pk).update(status=model.FAILED, last_error=reason)
        return "failed"
    model.objects.filter(pk=pk).update(
        status=retry_status or model.RETRY,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
    )
    return "retry"


def due_for_sweep(model: type[OutboxItem], *, now=None, limit: int = SWEEP_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(model.objects.filter(model.sweep_q(now)).order_by("pk").values_list("pk", flat=True)[:limit])


def fail_exhausted(model: type[OutboxItem], *, now=None) -> int:
    """A row whose lease expired after its last allowed attempt (its worker died each
    time: a message that kills the worker) ends as failed, with its reason."""
    now = now or timezone.now()
    return model.objects.filter(model.lease_expired_q(now), attempts__gte=MAX_ATTEMPTS).update(
        status=model.FAILED, last_error=f"Envoi interrompu {MAX_ATTEMPTS} fois (le traitement s'est arrêté en cours)."
    )


def resend_failed(model: type[OutboxItem], queryset) -> list[int]:
    """An administrator's "resend": failed rows wait again, attempts from zero (same
    message_id: a copy that did arrive is folded with it)."""
    ids = list(queryset.filter(status=model.FAILED).values_list("pk", flat=True))
    model.objects.filter(pk__in=ids).update(status=model.RETRY, attempts=0, next_attempt_at=timezone.now())
    return ids
