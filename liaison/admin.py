"""Liaison notebook in the admin: for support only, never edited here (nothing is lost)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ReadOnlyInline
from liaison.models import Addressee, Attachment, Transmission, TransmissionRevision


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_at"]


class AddresseeInline(ReadOnlyInline):
    model = Addressee
    fields = ["user", "acknowledged_at", "reminded_at"]


class RevisionInline(ReadOnlyInline):
    model = TransmissionRevision
    fields = ["replaced_at", "snapshot"]


@admin.register(Transmission)
class TransmissionAdmin(ReadOnlyAdmin):
    list_display = [
        "observed_at",
        "person",
        "author",
        "author_structure",
        "category",
        "scope",
        "is_important",
        "remarkable_event",
        "status",
    ]
    list_filter = ["scope", "category", "kind", "is_important", "status"]
    search_fields = ["person__birth_name", "author__email"]
    date_hierarchy = "observed_at"
    list_select_related = ["person", "author", "author_structure"]
    inlines = [AttachmentInline, AddresseeInline, RevisionInline]
    exclude = ["search_document"]
