"""Exchanges in the admin: for support only, never edited here (nothing is lost)."""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ReadOnlyInline
from exchanges.models import Conversation, Message, MessageAttachment, MessageRevision, Participant


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ["user", "added_by", "added_at", "last_read_at", "removed_at"]


class AttachmentInline(ReadOnlyInline):
    model = MessageAttachment
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_at"]


class RevisionInline(ReadOnlyInline):
    model = MessageRevision
    fields = ["revised_at", "body"]


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "person", "structure", "created_by", "created_at", "last_message_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "person__birth_name"]
    list_select_related = ["person", "structure", "created_by"]
    inlines = [ParticipantInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "conversation", "author", "edited_at", "withdrawn_at", "transmission"]
    list_select_related = ["conversation", "author"]
    date_hierarchy = "created_at"
    inlines = [AttachmentInline, RevisionInline]
