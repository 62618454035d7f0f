"""Notifications in the admin: read-only, with a resend action for failed sendings."""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from notifications.models import Delivery, DeliveryStatus, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "event_type", "frequency", "read_at", "digested_at"]
    list_filter = ["frequency", "event_type"]
    search_fields = ["recipient__email"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Permanent failures show here (status « Échec définitif », with the last error)."""

    list_display = ["created_at", "user", "channel", "digest", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel", "digest"]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    actions = ["retry_now"]

    @admin.action(description="Renvoyer les envois en échec sélectionnés")
    def retry_now(self, request, queryset):
        from notifications.services import dispatch_after_commit

        failed = list(queryset.filter(status=DeliveryStatus.FAILED))
        Delivery.objects.filter(pk__in=[d.pk for d in failed]).update(
            status=DeliveryStatus.RETRY, attempts=0, next_attempt_at=None
        )
        dispatch_after_commit(failed)
        self.message_user(request, f"{len(failed)} envoi(s) remis en file d'attente.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "event_type", "frequency", "in_app", "email", "sms", "updated_at"]
    list_filter = ["event_type", "frequency"]
    search_fields = ["user__email"]
