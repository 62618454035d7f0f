"""Admin: read-mostly (writes go through the services and the pages)."""

from __future__ import annotations

from django.contrib import admin

from agenda.models import AgendaFeed, Event, EventPlace, ExternalBusyTime, ExternalCalendar, Participant


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlaceInline(ReadOnlyMixin, admin.TabularInline):
    model = EventPlace
    extra = 0


class ParticipantInline(ReadOnlyMixin, admin.TabularInline):
    model = Participant
    extra = 0
    fields = ("kind", "professional", "structure", "display_name", "is_organiser", "response", "responded_at")


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "starts_at", "status", "visibility", "person", "structure", "source", "sequence")
    list_filter = ("status", "visibility", "source", "event_type")
    search_fields = ("uid", "title")
    raw_id_fields = ("person", "structure", "created_by", "recurrence_of")
    date_hierarchy = "starts_at"
    inlines = [PlaceInline, ParticipantInline]
    list_select_related = ("person", "structure")


@admin.register(ExternalCalendar)
class ExternalCalendarAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "professional", "kind", "is_active", "last_synced_at", "last_error_at")
    list_filter = ("kind", "is_active")


@admin.register(ExternalBusyTime)
class ExternalBusyTimeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("professional", "starts_at", "ends_at", "calendar")
    raw_id_fields = ("calendar", "professional")


@admin.register(AgendaFeed)
class AgendaFeedAdmin(admin.ModelAdmin):
    """Feeds may be revoked from the admin (a leaked URL); nothing else changes here."""

    list_display = ("owner", "kind", "person", "include_titles", "created_at", "revoked_at", "last_used_at")
    readonly_fields = ("owner", "kind", "person", "token_hash", "include_titles", "created_at", "last_used_at")
    list_filter = ("kind",)

    def has_add_permission(self, request, obj=None):
        return False
