from __future__ import annotations

from django.contrib import admin

from ppa.models import Plan, PlanVersion, SerafinCode


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reference data and plans are read here; writes go through the services."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SerafinCode)
class SerafinCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "label", "kind", "depth"]
    list_filter = ["kind"]
    search_fields = ["code", "search_text"]


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["person", "structure", "created_at"]
    raw_id_fields = ["person"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "status", "validated_at", "review_due_on"]
    list_filter = ["status"]
