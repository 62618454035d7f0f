from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from liaison.models import Addressee


@shared_task
def remind_missing_receipts() -> int:
    """Beat: a requested receipt still missing after the delay → the addressee is
    reminded and the author told, once."""
    due = timezone.now() - timedelta(hours=settings.LIAISON_RECEIPT_REMINDER_HOURS)
    reminded = 0
    with transaction.atomic():
        pending = list(
            Addressee.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                acknowledged_at__isnull=True,
                reminded_at__isnull=True,
                transmission__requests_receipt=True,
                transmission__created_at__lte=due,
            )
            .select_related("transmission__person", "transmission__author", "user")[:1000]
        )
        for addressee in pending:
            transmission = addressee.transmission
            url = reverse("liaison:transmission", args=[transmission.pk])
            for event_type, recipient in (
                ("liaison.alert", addressee.user),
                ("liaison.receipt_missing", transmission.author),
            ):
                notify(event_type, person=transmission.person, recipients=[recipient], url=url, subject=transmission)
            addressee.reminded_at = timezone.now()
            addressee.save(update_fields=["reminded_at"])
            reminded += 1
    return reminded
