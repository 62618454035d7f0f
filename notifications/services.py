"""The notification engine: records one `Notification` per recipient in the caller's
transaction (nothing is lost if the broker is down) and queues the e-mail/SMS
deliveries after the commit. Recipients default to the members concerned and are always
filtered through the access gate: nobody is told about what they may not see.

Apps call `common.notify.notify`; this module is plugged in as its engine by
`NotificationsConfig.ready`. Types are registered by each app (`common.notify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from common.handoff import last_error_recorder, queue_after_commit
from common.notify import Frequency, NotificationType, catalogue
from coordination import access, rules
from coordination.models import Person
from notifications import channels
from notifications.models import Channel, Delivery, Notification, NotificationPreference


@dataclass(frozen=True)
class Preference:
    frequency: str
    in_app: bool
    email: bool
    sms: bool


def default_preference(event_type: NotificationType) -> Preference:
    return Preference(
        event_type.default_frequency,
        "in_app" in event_type.default_channels,
        "email" in event_type.default_channels,
        "sms" in event_type.default_channels,
    )


def effective_preference(event_type: NotificationType, stored: NotificationPreference | None) -> Preference:
    """The user's choice, except that a security notice always goes, at once, in the
    portal and by e-mail."""
    preference = (
        default_preference(event_type)
        if stored is None
        else Preference(stored.frequency, stored.in_app, stored.email, stored.sms)
    )
    if not event_type.mutable:
        preference = Preference(Frequency.IMMEDIATE, True, True, preference.sms)
    return preference


def preferences_for(user) -> list[tuple[NotificationType, Preference]]:
    stored = {p.event_type: p for p in NotificationPreference.objects.filter(user=user)}
    return [(t, effective_preference(t, stored.get(t.key))) for t in catalogue().values()]


def _default_url(recipient, person: Person | None) -> str:
    if person is not None and rules.is_professional(recipient):
        return reverse("coordination:person", args=[person.pk])
    return reverse("portal_home")


def notify(
    event_type: str,
    *,
    person: Person | None,
    actor=None,
    url: str | None = None,
    url_for: Callable[[object], str] | None = None,
    recipients: Iterable | QuerySet | None = None,
    subject=None,
) -> list[Notification]:
    """Tell the people concerned that something happened. Returns the notifications made.

    Call it inside the transaction that makes the change: the notifications are part of
    it, and their deliveries leave after the commit.
    """
    kind = catalogue()[event_type]
    User = get_user_model()
    if recipients is None:
        if kind.default_recipients is None:
            raise ValueError(f"{event_type}: this type needs explicit recipients")
        queryset = kind.default_recipients(person)
    elif isinstance(recipients, QuerySet):
        queryset = recipients
    else:
        queryset = User.objects.filter(pk__in=[getattr(r, "pk", r) for r in recipients])
    queryset = queryset.filter(is_active=True)
    for channel in channels.EXTERNAL.values():
        # Accounts of another channel (a structure's software) are told through it only.
        queryset = queryset.exclude(pk__in=channel.accounts())
    if kind.category is not None and person is not None:
        # Through the gate: only users who may read this category of this person.
        queryset = access.users_allowed(person, kind.category, "read", users=queryset)
    if actor is not None:
        queryset = queryset.exclude(pk=actor.pk)
    users = list(queryset.distinct().select_related("professional"))
    external = [
        delivery
        for channel in channels.EXTERNAL.values()
        for delivery in channel.plan(event_type=event_type, person=person, actor=actor, now=timezone.now())
    ]
    dispatch_after_commit(external)
    if not users:
        return []
    stored = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=users, event_type=event_type)}
    now = timezone.now()
    notifications = []
    for user in users:
        preference = effective_preference(kind, stored.get(user.pk))
        if preference.frequency == Frequency.NEVER:
            continue
        notifications.append(
            Notification(
                recipient=user,
                event_type=event_type,
                person=person,
                actor=actor,
                subject_id=getattr(subject, "pk", subject),
                created_at=now,
                url=url or (url_for(user) if url_for else _default_url(user, person)),
                is_in_app=preference.in_app,
                frequency=preference.frequency,
                wants_email=preference.email,
                wants_sms=preference.sms and bool(user.phone),
            )
        )
    Notification.objects.bulk_create(notifications)
    if any(n.pk is None for n in notifications):
        notifications = list(Notification.objects.filter(event_type=event_type, created_at=now, recipient__in=users))
    deliveries = []
    for notification in notifications:
        if notification.frequency != Frequency.IMMEDIATE:
            continue
        if notification.wants_email:
            deliveries.append(
                Delivery(user=notification.recipient, channel=Channel.EMAIL, notification=notification, created_at=now)
            )
        if notification.wants_sms:
            deliveries.append(
                Delivery(user=notification.recipient, channel=Channel.SMS, notification=notification, created_at=now)
            )
    Delivery.objects.bulk_create(deliveries)
    dispatch_after_commit(deliveries)
    return notifications


def dispatch_after_commit(deliveries: Iterable[Delivery]) -> None:
    """Queue the deliveries after the commit (`common.handoff`): never raises into the
    request; a delivery not queued (broker down) is sent by the sweeper."""
    from notifications.tasks import deliver

    queue_after_commit(deliver, [d.pk for d in deliveries], record=last_error_recorder(Delivery))


# --- What a user does with their own notifications (pages and API) ------------------------------


def notifications_of(user) -> QuerySet[Notification]:
    """The user's notifications shown in the portal (unread first, newest first)."""
    return Notification.objects.filter(recipient=user, is_in_app=True).order_by("read_at", "-created_at", "-pk")


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (again: no change)."""
    if notification.recipient_id != actor.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_group_read(*, actor, event_type: str, person_id: int | None) -> int:
    """Mark read the actor's notifications of one type about one person (a group of the centre)."""
    return (
        notifications_of(actor)
        .filter(read_at__isnull=True, event_type=event_type, person_id=person_id)
        .update(read_at=timezone.now())
    )


def notifications_mark_all_read(*, actor) -> int:
    return notifications_of(actor).filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def preference_set(*, actor, event_type: str, frequency: str, in_app: bool, email: bool, sms: bool) -> Preference:
    """The actor's choice for one type. A security notice cannot be muted: refused."""
    from django.core.exceptions import ValidationError

    kind = catalogue().get(event_type)
    if kind is None:
        raise ValidationError({"event_type": "Type de notification inconnu."})
    if not kind.mutable:
        raise ValidationError({"event_type": "Cet avis de sécurité est toujours envoyé : il ne se règle pas."})
    if frequency not in Frequency.values:
        raise ValidationError({"frequency": "Fréquence invalide."})
    stored, _created = NotificationPreference.objects.update_or_create(
        user=actor,
        event_type=event_type,
        defaults={"frequency": frequency, "in_app": in_app, "email": email, "sms": sms},
    )
    return effective_preference(kind, stored)
