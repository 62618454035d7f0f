"""Notifications: what each user is told (in the portal, by e-mail or SMS), their
choices, and the outbox of sendings. Types are registered by each app
(`common.notify`); a notification carries no health detail: a type, a link, a person id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.notify import Frequency
from common.outbox import OutboxItem
from coordination.models import Person


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    # An alert in a structure's own software (its DUI), through a FHIR subscription
    # (rest-hook): the channel is plugged in by `interop` (notifications.channels.register).
    REST_HOOK = "rest_hook", "Alerte dans le logiciel de la structure"


class NotificationPreference(models.Model):
    """A user's choice for one notification type (absent: the type's defaults)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name="utilisateur",
    )
    event_type = models.CharField("type de notification", max_length=50)
    frequency = models.CharField("fréquence", max_length=10, choices=Frequency.choices)
    in_app = models.BooleanField("alerte dans le portail", default=True)
    email = models.BooleanField("e-mail", default=True)
    sms = models.BooleanField("SMS", default=False)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"
        constraints = [models.UniqueConstraint(fields=["user", "event_type"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.event_type} : {self.get_frequency_display()}"


class Notification(models.Model):
    """Something new for one user. Carries no health detail: a type, a link, a person id."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="destinataire"
    )
    event_type = models.CharField("type", max_length=50)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="personne concernée"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    # The id of what it is about in the type's block (a transmission…), for the centre's summary.
    subject_id = models.PositiveBigIntegerField("objet", null=True, blank=True)
    url = models.CharField("lien", max_length=300, blank=True)
    created_at = models.DateTimeField("créée le", default=timezone.now)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    is_in_app = models.BooleanField("visible dans le portail", default=True)
    frequency = models.CharField("fréquence", max_length=10, choices=Frequency.choices)
    wants_email = models.BooleanField("par e-mail", default=False)
    wants_sms = models.BooleanField("par SMS", default=False)
    # Set when a daily or weekly digest has taken this notification.
    digested_at = models.DateTimeField("résumé envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            # The centre's groups: one recipient's notifications by type and person.
            models.Index(fields=["recipient", "event_type", "person"], name="notification_group"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True, is_in_app=True), name="notification_unread"
            ),
            models.Index(
                fields=["frequency", "recipient"],
                condition=Q(digested_at__isnull=True),
                name="notification_digest_pending",
            ),
            # A digest's items: equality on both (build and rendering), whatever the history.
            models.Index(fields=["digested_at", "recipient"], name="notification_digested"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.recipient}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "À envoyer"
    SENDING = "sending", "En cours d'envoi"
    RETRY = "retry", "Nouvel essai prévu"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec définitif"


class Delivery(OutboxItem):
    """The unit of work of sending: one message on one channel (one notification, or a digest).

    An outbox row (`common.outbox`): claimed with a lease, retried with backoff, its
    Message-ID kept across attempts."""

    # A task handed the row sends it at once (the admin's resend, a test).
    CLAIM_BEFORE_DUE = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries", verbose_name="destinataire"
    )
    channel = models.CharField("canal", max_length=10, choices=Channel.choices)
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name="notification",
    )
    digest = models.CharField(
        "résumé", max_length=10, blank=True, choices=[("", "—"), ("daily", "Quotidien"), ("weekly", "Hebdomadaire")]
    )
    item_count = models.PositiveIntegerField("nombre d'éléments", default=1)
    status = models.CharField("statut", max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "envoi"
        verbose_name_plural = "envois"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.user} ({self.get_status_display()})"
