"""The notifications API's shapes (what the pages show, no health detail)."""

from __future__ import annotations

from rest_framework import serializers

from common.api import InputSerializer
from common.notify import Frequency, blocks, catalogue
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    message = serializers.SerializerMethodField(help_text="Ce qui est nouveau, en une phrase, sans détail de santé.")
    block = serializers.SerializerMethodField(help_text="Domaine (cercle, agenda, cahier de liaison…).")
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event_type", "block", "message", "person", "url", "created_at", "read_at", "is_read"]

    def get_message(self, notification: Notification) -> str:
        kind = catalogue().get(notification.event_type)
        return kind.message if kind else ""

    def get_block(self, notification: Notification) -> str:
        kind = catalogue().get(notification.event_type)
        return blocks().get(kind.block, "") if kind else ""

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationFilterSerializer(InputSerializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Non lues seulement.")
    block = serializers.CharField(required=False, allow_blank=True, max_length=30, help_text="Un domaine.")


class MarkedCountSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class PreferenceInputSerializer(InputSerializer):
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()
    sms = serializers.BooleanField()


class PreferenceSerializer(serializers.Serializer):
    event_type = serializers.CharField()
    label = serializers.CharField()
    block = serializers.CharField()
    mutable = serializers.BooleanField(help_text="Faux pour un avis de sécurité : toujours envoyé.")
    frequency = serializers.CharField()
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()
    sms = serializers.BooleanField()
