"""The record exports in the admin, for support: an export that failed shows with its
reason (status « Échec », the error) and can be asked again."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from common.admin import ReadOnlyAdmin
from common.handoff import queue_after_commit
from records.models import ExportStatus, RecordExport


@admin.register(RecordExport)
class RecordExportAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "requested_by", "status", "attempts", "progress", "ready_at", "error"]
    list_filter = ["status"]
    search_fields = ["requested_by__email"]
    date_hierarchy = "requested_at"
    list_select_related = ["requested_by"]
    exclude = ["file"]
    actions = ["build_again"]

    @admin.action(description="Relancer les exports en échec sélectionnés")
    def build_again(self, request, queryset):
        from records.tasks import build_export

        ids = list(queryset.filter(status=ExportStatus.FAILED).values_list("pk", flat=True))
        RecordExport.objects.filter(pk__in=ids).update(
            status=ExportStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), error=""
        )
        queue_after_commit(build_export, ids)
        self.message_user(request, f"{len(ids)} export(s) remis en file d'attente.")
