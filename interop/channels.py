"""The rest-hook channel: "alerte dans le DUI" (seed 000 §1.2.3), plugged into the
notifications engine (`notifications.channels.register`).

Planning runs in the change's transaction, at each `notify`: for every active
subscription of a connected software to that event type for that person, if the
software may still read the category (the gate's `users_allowed`), a `Notification`
(never shown in the portal, never e-mailed) and a `Delivery` row on this channel are
written, with a link to the subscription. The notifications' worker then claims each
row once, calls `send` here, and retries with backoff on transient failures; a
subscription stopped meanwhile makes the delivery fail for good instead of leaving.
"""

from __future__ import annotations

import logging

import requests
from django.db.models import Q, QuerySet

from common.notify import Frequency, catalogue
from coordination import access
from interop.models import ConnectedSoftware, Subscription, SubscriptionDelivery, SubscriptionStatus
from notifications.channels import PermanentError, TransientError
from notifications.models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


class RestHookChannel:
    key = Channel.REST_HOOK

    def accounts(self) -> QuerySet:
        return ConnectedSoftware.objects.values("user_id")

    def plan(self, *, event_type: str, person, actor, now) -> list[Delivery]:
        kind = catalogue().get(event_type)
        if person is None or kind is None or kind.category is None:
            return []
        subscriptions = list(
            Subscription.objects.filter(
                status=SubscriptionStatus.ACTIVE,
                event_type=event_type,
                person=person,
                starts_at__lte=now,
                software__is_active=True,
            )
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
            .select_related("software")
        )
        if actor is not None:
            # The software that made the change is not told about it, like any actor.
            subscriptions = [s for s in subscriptions if s.software.user_id != actor.pk]
        if not subscriptions:
            return []
        from django.contrib.auth import get_user_model

        allowed = set(
            access.users_allowed(
                person,
                kind.category,
                "read",
                users=get_user_model().objects.filter(
                    pk__in={s.software.user_id for s in subscriptions}, is_active=True
                ),
            ).values_list("pk", flat=True)
        )
        subscriptions = [s for s in subscriptions if s.software.user_id in allowed]
        if not subscriptions:
            return []
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=s.software.user_id,
                    event_type=event_type,
                    person=person,
                    actor=actor,
                    created_at=now,
                    url="",
                    is_in_app=False,
                    frequency=Frequency.IMMEDIATE,
                    wants_email=False,
                    wants_sms=False,
                )
                for s in subscriptions
            ]
        )
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(user_id=s.software.user_id, channel=self.key, notification=n, created_at=now)
                for s, n in zip(subscriptions, notifications, strict=True)
            ]
        )
        SubscriptionDelivery.objects.bulk_create(
            [SubscriptionDelivery(delivery=d, subscription=s) for s, d in zip(subscriptions, deliveries, strict=True)]
        )
        return deliveries

    def send(self, delivery: Delivery) -> None:
        from interop.fhir.subscriptions import notification

        link = (
            SubscriptionDelivery.objects.select_related(
                "subscription__software__structure", "subscription__person", "delivery__notification"
            )
            .filter(delivery=delivery)
            .first()
        )
        if link is None:
            raise PermanentError("envoi sans abonnement")
        subscription = link.subscription
        if subscription.status != SubscriptionStatus.ACTIVE or not subscription.software.is_active:
            raise PermanentError("abonnement arrêté : notification non envoyée")
        headers = {"Content-Type": "application/fhir+json", "Idempotency-Key": f"notification-{delivery.pk}"}
        if subscription.header:
            name, value = subscription.header.split(":", 1)
            headers[name.strip()] = value.strip()
        try:
            response = requests.post(
                subscription.endpoint,
                json=notification(subscription, link.delivery),
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            self._error(subscription, f"injoignable : {error.__class__.__name__}")
            raise TransientError(f"logiciel injoignable : {error.__class__.__name__}") from error
        if response.status_code >= 500 or response.status_code in (408, 429):
            self._error(subscription, f"HTTP {response.status_code}")
            raise TransientError(f"logiciel : HTTP {response.status_code}")
        if response.status_code >= 300:
            self._error(subscription, f"HTTP {response.status_code}")
            raise PermanentError(f"logiciel : HTTP {response.status_code}")
        if subscription.last_error:
            Subscription.objects.filter(pk=subscription.pk).update(last_error="")

    @staticmethod
    def _error(subscription: Subscription, message: str) -> None:
        logger.warning("rest-hook of subscription %s: %s", subscription.pk, message)
        Subscription.objects.filter(pk=subscription.pk).update(last_error=message[:2000])
