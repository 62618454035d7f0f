"""Input and output serializers of the documents API."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from common.api import InputSerializer
from documents.models import DmpShare, Document, DocumentStatus, DocumentType, MssanteSending


class DmpShareSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_cancellable = serializers.BooleanField(read_only=True)

    class Meta:
        model = DmpShare
        fields = [
            "id",
            "action",
            "status",
            "status_label",
            "send_after",
            "sent_at",
            "attempts",
            "next_attempt_at",
            "cancelled_at",
            "is_cancellable",
        ]


class MssanteSendingSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = MssanteSending
        fields = [
            "id",
            "recipient_address",
            "recipient_label",
            "status",
            "status_label",
            "created_at",
            "sent_at",
            "attempts",
            "last_error",
        ]


class DocumentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    structure = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "person",
            "doc_type",
            "title",
            "document_on",
            "author",
            "structure",
            "source",
            "status",
            "version",
            "replaces",
            "content_type",
            "size",
            "sha256",
            "created_at",
            "validated_at",
            "superseded_at",
            "decline_reason",
            "withdrawn_at",
            "withdraw_reason",
            "download_url",
        ]

    def get_author(self, document: Document) -> str:
        return document.author.get_full_name() or document.author.email

    def get_structure(self, document: Document) -> str:
        return document.author_structure.name if document.author_structure else ""

    def get_download_url(self, document: Document) -> str:

        return reverse("documents:download", args=[document.pk])


class DocumentListItemSerializer(DocumentSerializer):
    dmp_status = serializers.CharField(allow_null=True, read_only=True)
    dmp_sent_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "dmp_status", "dmp_sent_at"]


class DocumentDetailSerializer(DocumentSerializer):
    dmp_shares = DmpShareSerializer(many=True, read_only=True)
    mssante_sendings = MssanteSendingSerializer(many=True, read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "dmp_shares", "mssante_sendings"]


class DocumentUploadSerializer(InputSerializer):
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, label="type de document")
    title = serializers.CharField(max_length=200, label="titre")
    document_on = serializers.DateField(required=False, allow_null=True, default=None, label="date du document")
    file = serializers.FileField(label="fichier")
    validate = serializers.BooleanField(required=False, default=False, label="valider maintenant")


class DocumentFilterSerializer(InputSerializer):
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    history = serializers.BooleanField(required=False, default=False)


class MssanteSendSerializer(InputSerializer):
    recipient_address = serializers.EmailField(label="adresse MSSanté")
    recipient_label = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
