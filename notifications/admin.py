"""Notifications in the admin: read-only, with a resend action for failed sendings."""

from __future__ import annotations

from django.contrib import admin

from common.admin import OutboxAdmin, ReadOnlyAdmin
from notifications.models import Delivery, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "event_type", "frequency", "read_at", "digested_at"]
    list_filter = ["frequency", "event_type"]
    search_fields = ["recipient__email"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]


@admin.register(Delivery)
class DeliveryAdmin(OutboxAdmin):
    """Permanent failures show here (status « Échec définitif », with the last error)."""

    list_display = ["created_at", "user", "channel", "digest", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel", "digest"]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    send_task = "notifications.tasks.deliver"
    # The action's name, kept for the bookmarks and tests of the support team.
    actions = ["retry_now"]

    @admin.action(description="Renvoyer les envois en échec sélectionnés")
    def retry_now(self, request, queryset):
        return self.resend_failed(request, queryset)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "event_type", "frequency", "in_app", "email", "sms", "updated_at"]
    list_filter = ["event_type", "frequency"]
    search_fields = ["user__email"]
