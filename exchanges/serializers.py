"""Input and output shapes of the exchanges' REST API (`exchanges.api`)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import InputSerializer, choices_text
from exchanges.models import ConversationKind, Message, MessageAttachment
from exchanges.services import MAX_ATTACHMENTS, MAX_BODY, SUBJECT_MAX


class ExchangeUserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.email


class ExchangeStructureRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField(help_text=choices_text(ConversationKind.choices))
    subject = serializers.CharField()
    person = serializers.IntegerField(
        source="person_id", allow_null=True, help_text="La personne concernée (aucune pour un sujet)."
    )
    structure = ExchangeStructureRefSerializer(
        allow_null=True, help_text="L'équipe de cette structure prend part à l'échange."
    )
    professional = ExchangeUserRefSerializer(allow_null=True, help_text="Le professionnel à qui la personne écrit.")
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    unread = serializers.IntegerField(help_text="Messages des autres, non retirés, après le dernier que j'ai lu.")


class ExchangeAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="Le fichier, à travers le contrôle d'accès (session ou jeton).")

    def get_url(self, attachment: MessageAttachment) -> str:
        return reverse("exchanges:attachment", args=[attachment.pk])


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    conversation = serializers.IntegerField(source="conversation_id")
    author = ExchangeUserRefSerializer()
    body = serializers.SerializerMethodField(help_text="Vide pour un message retiré.")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True, help_text="« Message retiré » par son auteur.")
    attachments = serializers.SerializerMethodField()
    transmission = serializers.IntegerField(
        source="transmission_id", allow_null=True, help_text="La transmission du cahier de liaison qui en est faite."
    )

    def get_body(self, message: Message) -> str:
        return "" if message.is_withdrawn else message.body

    @extend_schema_field(ExchangeAttachmentSerializer(many=True))
    def get_attachments(self, message: Message) -> list:
        if message.is_withdrawn:
            return []
        return list(ExchangeAttachmentSerializer(message.attachments.all(), many=True).data)


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="Du plus récent au plus ancien.")
    next = serializers.IntegerField(
        allow_null=True, help_text="Pour la page précédente (plus ancienne) : `?avant=` cette valeur."
    )


class ConversationParticipantSerializer(serializers.Serializer):
    user = ExchangeUserRefSerializer()
    added_at = serializers.DateTimeField()
    last_read_message = serializers.IntegerField(source="last_read_message_id", allow_null=True)
    last_read_at = serializers.DateTimeField(allow_null=True)


class ReadStateSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    last_read_message = serializers.IntegerField(allow_null=True)
    last_read_at = serializers.DateTimeField(allow_null=True)
    unread = serializers.IntegerField()


class MessageCreateSerializer(InputSerializer):
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_BODY,
        help_text="Le texte ; `@Prénom Nom` prévient ce lecteur (une seule fois).",
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text=f"Photos (JPEG, PNG, WebP) ou PDF, {MAX_ATTACHMENTS} au plus (multipart/form-data).",
    )


class ExchangeMarkReadSerializer(InputSerializer):
    up_to = serializers.IntegerField(
        required=False, min_value=1, help_text="Lu jusqu'à ce message (par défaut : le dernier). Jamais en arrière."
    )


class ConversationCreateSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=ConversationKind.choices, help_text=choices_text(ConversationKind.choices))
    subject = serializers.CharField(max_length=SUBJECT_MAX, help_text="L'objet de l'échange.")
    person = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="La personne concernée : obligatoire pour `person` et `person_team`, absente pour `topic`.",
    )
    structure = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="`topic` : l'une de vos structures, dont l'équipe prend part. `person_team` : la structure "
        "qui accompagne la personne et dont l'équipe écrit ou à qui la personne écrit.",
    )
    professional = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="`person_team`, du côté de la personne : le professionnel de son cercle à qui elle écrit "
        "(au lieu d'une structure).",
    )
    participants = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=200,
        help_text="Les utilisateurs invités (identifiants) : des professionnels qui peuvent lire les échanges "
        "de la personne (`person`), des professionnels (`topic`), la personne ou ses proches (`person_team` "
        "écrit par un professionnel).",
    )
    body = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_BODY, help_text="Le premier message (facultatif)."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text=f"Photos (JPEG, PNG, WebP) ou PDF du premier message, {MAX_ATTACHMENTS} au plus "
        "(multipart/form-data).",
    )


class ParticipantsAddSerializer(InputSerializer):
    participants = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=200,
        help_text="Les utilisateurs à inviter (identifiants), parmi ceux qui peuvent lire l'échange.",
    )
