"""Documents and their outboxes in the admin: read-only metadata (files only through the gate)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import OutboxAdmin, ReadOnlyAdmin
from documents.models import DmpShare, Document, MssanteSending


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """Metadata only: the file is served through the gate, not from the admin."""

    list_display = ("created_at", "person", "doc_type", "title", "version", "status", "source", "author")
    list_filter = ("doc_type", "status", "source")
    list_select_related = ("person", "author")
    search_fields = ("title", "person__birth_name", "person__used_name", "sha256")
    date_hierarchy = "created_at"
    exclude = ("file",)
    show_full_result_count = False


@admin.register(DmpShare)
class DmpShareAdmin(OutboxAdmin):
    list_display = ("created_at", "document", "action", "status", "send_after", "attempts", "sent_at", "last_error")
    list_filter = ("status", "action")
    send_task = "documents.tasks.send_dmp_share"
    list_select_related = ("document",)
    show_full_result_count = False


@admin.register(MssanteSending)
class MssanteSendingAdmin(OutboxAdmin):
    list_display = ("created_at", "document", "recipient_address", "status", "attempts", "sent_at", "last_error")
    send_task = "documents.tasks.send_mssante"
    list_filter = ("status",)
    list_select_related = ("document",)
    search_fields = ("recipient_address",)
    show_full_result_count = False
