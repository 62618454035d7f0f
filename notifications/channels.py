"""Sending channels for notifications: e-mail and a pluggable SMS backend.

Errors are sorted into transient (retry later) and permanent (give up, show it).
Bodies carry no personal or health detail: they say that something is new and link to it.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from typing import Protocol

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Count, QuerySet
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from common.notify import catalogue
from common.phones import french_mobile_e164
from notifications.models import Delivery, Notification

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """Try again later (server unreachable, 4xx SMTP reply, gateway 5xx)."""


class PermanentError(Exception):
    """Will not work by retrying (refused address, no phone number, gateway 4xx)."""


def _absolute(url: str) -> str:
    return url if url.startswith("http") else f"{settings.SITE_URL}{url}"


def _digest_labels(counts) -> list[tuple[str, int]]:
    kinds = catalogue()
    return [
        (kinds[row["event_type"]].label if row["event_type"] in kinds else row["event_type"], row["n"])
        for row in counts
    ]


def _digest_items(delivery: Delivery) -> list[tuple[str, int]]:
    counts = (
        Notification.objects.filter(recipient=delivery.user, frequency=delivery.digest, digested_at=delivery.created_at)
        .values("event_type")
        .annotate(n=Count("pk"))
        .order_by("-n", "event_type")
    )
    return _digest_labels(counts)


def digest_items_of(deliveries: Sequence[Delivery]) -> dict[int, list[tuple[str, int]]]:
    """The items of several digests in one query (what `_digest_items` gives for each):
    {delivery id: [(label, count), …]}, for the digests among `deliveries`."""
    digests = [d for d in deliveries if d.digest]
    if not digests:
        return {}
    counts = (
        Notification.objects.filter(
            recipient_id__in={d.user_id for d in digests},
            frequency__in={d.digest for d in digests},
            digested_at__in={d.created_at for d in digests},
        )
        .values("recipient_id", "frequency", "digested_at", "event_type")
        .annotate(n=Count("pk"))
        .order_by("-n", "event_type")
    )
    grouped: dict[tuple, list[dict]] = {}
    for row in counts:
        grouped.setdefault((row["recipient_id"], row["frequency"], row["digested_at"]), []).append(row)
    return {d.pk: _digest_labels(grouped.get((d.user_id, d.digest, d.created_at), [])) for d in digests}


def message_for(delivery: Delivery, *, items: list[tuple[str, int]] | None = None) -> dict:
    """Subject, texts and link of a delivery (what the e-mail and SMS say). A digest's
    `items` may be given (read for a whole batch by `digest_items_of`)."""
    if delivery.digest:
        items = _digest_items(delivery) if items is None else items
        link = _absolute("/notifications/")
        period = "de la journée" if delivery.digest == "daily" else "de la semaine"
        return {
            "subject": f"Portail de coordination : {delivery.item_count} nouveauté(s) {period}",
            "items": items,
            "link": link,
            "period": period,
            "user": delivery.user,
            "digest": True,
            "sms": f"Portail de coordination : {delivery.item_count} nouveauté(s). {link}",
        }
    notification = delivery.notification
    kind = catalogue().get(notification.event_type)
    text = kind.message if kind else "Il y a du nouveau sur le portail."
    link = _absolute(notification.url or "/")
    return {
        "subject": f"Portail de coordination : {kind.label if kind else 'nouveauté'}",
        "text": text,
        "link": link,
        "user": delivery.user,
        "digest": False,
        "sms": f"Portail de coordination : {text} {link}",
    }


def email_message(delivery: Delivery, connection, *, items: list[tuple[str, int]] | None = None):
    """The delivery's e-mail, ready to send over `connection`."""
    context = message_for(delivery, items=items)
    message = EmailMultiAlternatives(
        subject=context["subject"],
        body=render_to_string("notifications/email/notification.txt", context),
        to=[delivery.user.email],
        # Kept across attempts (common.outbox): a copy re-sent after a lost worker folds
        # with the first one in the reader's mail client.
        headers={"Message-ID": delivery.message_id} if delivery.message_id else None,
        connection=connection,
    )
    message.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    return message


def smtp_failure(error: Exception) -> PermanentError | TransientError:
    """What an SMTP error means for the delivery: a refused address or a 5xx will not
    work by retrying; a 4xx, a timeout or a lost connection may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return PermanentError(f"adresse refusée : {error.recipients}")
    if isinstance(error, smtplib.SMTPResponseException):
        if 400 <= error.smtp_code < 500:
            return TransientError(f"SMTP {error.smtp_code}")
        return PermanentError(f"SMTP {error.smtp_code}")
    return TransientError(f"{error.__class__.__name__}: {error}")


SMTP_ERRORS = (TimeoutError, smtplib.SMTPException, OSError)


def send_email(delivery: Delivery, *, on_accepted: Callable[[], None] | None = None) -> None:
    """Send the delivery's e-mail. `on_accepted` runs as soon as the relay has accepted
    the message (its 250 to DATA), before the goodbye (QUIT): the sending task marks the
    row sent there, so a worker killed between the two re-sends as little as possible."""
    connection = get_connection()
    message = email_message(delivery, connection)
    try:
        try:
            connection.open()
            message.send()
        except SMTP_ERRORS as error:
            raise smtp_failure(error) from error
        if on_accepted is not None:
            on_accepted()
    finally:
        _goodbye(connection, delivery.pk)


def _goodbye(connection, what) -> None:
    try:
        connection.close()
    except Exception as error:  # noqa: BLE001 — accepted (or already failed): the goodbye changes nothing
        logger.warning("SMTP goodbye failed for delivery %s: %s", what, error)


def send_email_batch(
    deliveries: Sequence[Delivery],
    *,
    on_accepted: Callable[[Delivery], None],
    on_failed: Callable[[Delivery, Exception], None],
    may_go_on: Callable[[], bool] = lambda: True,
) -> tuple[list[Delivery], Exception | None]:
    """Send the deliveries' e-mails in order over ONE connection to the relay (the mail
    backend's `open`, then `send_messages` for each message, one `close`).

    For each message: `on_accepted(delivery)` as soon as the relay has accepted it (its
    250 to DATA), before the next message is sent — the caller marks that row sent
    there, as `send_email` does for one; or `on_failed(delivery, error)`: a
    `PermanentError` (a refused recipient, a 5xx: only this one fails, the batch goes
    on), a `TransientError` (4xx, timeout, connection lost: the batch stops there) or
    another exception (the message could not be built: only this one, the batch goes on).

    Returns the deliveries not tried — all of them if the relay cannot be reached, the
    rest after a relay failure, or after `may_go_on()` said no — with the relay's error
    (None when `may_go_on` stopped it or all were tried): the caller gives them back."""
    items = digest_items_of(deliveries)
    connection = get_connection()
    try:
        try:
            connection.open()
        except SMTP_ERRORS as error:
            return list(deliveries), smtp_failure(error)
        for index, delivery in enumerate(deliveries):
            if not may_go_on():
                return list(deliveries[index:]), None
            try:
                message = email_message(delivery, connection, items=items.get(delivery.pk))
            except Exception as error:  # noqa: BLE001 — this message only (a template, a row): the others go on
                on_failed(delivery, error)
                continue
            try:
                sent = connection.send_messages([message])
            except SMTP_ERRORS as error:
                failure = smtp_failure(error)
                on_failed(delivery, failure)
                if isinstance(failure, TransientError):
                    return list(deliveries[index + 1 :]), failure
                continue
            if not sent:  # the backend had nothing to send (no recipient address)
                on_failed(delivery, PermanentError("aucune adresse e-mail"))
                continue
            on_accepted(delivery)
        return [], None
    finally:
        _goodbye(connection, [d.pk for d in deliveries])


# --- SMS -------------------------------------------------------------------------------------


class ConsoleSMSBackend:
    """Development: print the SMS."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class LocmemSMSBackend:
    """Tests: keep the messages in memory."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        type(self).outbox.append((to, text))


class HTTPGatewaySMSBackend:
    """An HTTP SMS gateway: POST JSON {"to", "text"} with a bearer token (SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN)."""

    def send(self, to: str, text: str) -> None:
        try:
            response = requests.post(
                settings.SMS_GATEWAY_URL,
                json={"to": to, "text": text, "sender": settings.SMS_SENDER},
                headers={"Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
                timeout=10,
            )
        except requests.RequestException as error:
            raise TransientError(f"passerelle SMS injoignable : {error.__class__.__name__}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"passerelle SMS : HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"passerelle SMS : HTTP {response.status_code}")


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def send_sms(delivery: Delivery) -> None:
    if not delivery.user.phone:
        raise PermanentError("aucun numéro de téléphone mobile")
    try:
        phone = french_mobile_e164(delivery.user.phone)
    except ValidationError:
        raise PermanentError("numéro de téléphone mobile invalide") from None
    sms_backend().send(phone, message_for(delivery)["sms"][:320])


SENDERS = {"email": send_email, "sms": send_sms}


# --- Channels plugged in by other apps ----------------------------------------------------------


class ExternalChannel(Protocol):
    """A channel another app adds (interop's rest-hook to a structure's software).

    `accounts()` are the users reached only through this channel: the engine never
    e-mails them nor lists them in the portal. `plan(...)` runs in the change's
    transaction, once per `notify` call, and returns the `Delivery` rows it created
    (they are then sent after the commit like the others, by `tasks.deliver`, which
    calls `send`).
    """

    key: str

    def accounts(self) -> QuerySet: ...

    def plan(self, *, event_type: str, person, actor, now) -> list[Delivery]: ...

    def send(self, delivery: Delivery) -> None: ...


EXTERNAL: dict[str, ExternalChannel] = {}


def register(channel: ExternalChannel) -> None:
    """Plug a channel in (an AppConfig.ready): its sender joins SENDERS."""
    EXTERNAL[channel.key] = channel
    SENDERS[channel.key] = channel.send
