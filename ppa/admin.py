from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from ppa.models import Plan, PlanVersion
from reference.models import SerafinCode


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
