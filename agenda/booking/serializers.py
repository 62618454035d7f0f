"""Serializers of the booking API. Shapes stay close to FHIR: availability windows as a
Schedule's available times, slots as Slot (start, end, status "free"), meetings as
Appointment (status, participant[] with their answers)."""

from __future__ import annotations

import datetime as dt

from rest_framework import serializers

from agenda.models import AvailabilityException, AvailabilityWindow, Event, ExceptionKind, Participant
from common.api import InputSerializer, InputSerializerMixin


class AvailabilityWindowSerializer(InputSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = AvailabilityWindow
        fields = [
            "id",
            "structure",
            "weekday",
            "start_time",
            "end_time",
            "place_kind",
            "place_label",
            "valid_from",
            "valid_until",
        ]
        read_only_fields = ["id"]


class AvailabilityExceptionSerializer(InputSerializerMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ExceptionKind.choices)

    class Meta:
        model = AvailabilityException
        fields = ["id", "kind", "starts_at", "ends_at", "label"]
        read_only_fields = ["id"]


class AvailabilitySerializer(serializers.Serializer):
    windows = AvailabilityWindowSerializer(many=True)
    exceptions = AvailabilityExceptionSerializer(many=True)


class FreeBusySpanSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["free", "busy"], help_text="FHIR Slot.status.")


class SlotSearchSerializer(InputSerializer):
    participants = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        help_text="Identifiants des professionnels requis (vous êtes ajouté·e).",
    )
    optional_participants = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    duration_minutes = serializers.IntegerField(min_value=5, max_value=600)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    minimum_notice_hours = serializers.IntegerField(min_value=0, max_value=720, default=24)
    buffer_before_minutes = serializers.IntegerField(min_value=0, max_value=240, default=0)
    buffer_after_minutes = serializers.IntegerField(min_value=0, max_value=240, default=0)
    working_hours_start = serializers.TimeField(default=dt.time(8))
    working_hours_end = serializers.TimeField(default=dt.time(19))
    step_minutes = serializers.IntegerField(min_value=5, max_value=240, default=30)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)

    def validate(self, data):
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": "La fin de la période doit être après son début."})
        if data["end"] - data["start"] > dt.timedelta(days=93):
            raise serializers.ValidationError({"end": "Cherchez sur trois mois au plus."})
        if data["working_hours_end"] <= data["working_hours_start"]:
            raise serializers.ValidationError(
                {"working_hours_end": "La fin des heures ouvrées doit être après leur début."}
            )
        return data


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField(help_text="FHIR Slot.status : toujours « free ».")
    adjacent = serializers.BooleanField(help_text="Accolé à un engagement existant (moins de dérangement).")
    optional_free = serializers.ListField(child=serializers.IntegerField())


class SlotResultSerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)
    message = serializers.CharField(help_text="Explication en français quand aucun créneau n'est trouvé.")


class ParticipantSerializer(serializers.ModelSerializer):
    professional = serializers.IntegerField(source="professional_id", allow_null=True)
    name = serializers.CharField(source="__str__")

    class Meta:
        model = Participant
        fields = [
            "id",
            "kind",
            "professional",
            "name",
            "is_required",
            "is_organiser",
            "response",
            "responded_at",
            "comment",
            "counter_starts_at",
            "counter_ends_at",
        ]


class MeetingSerializer(serializers.ModelSerializer):
    start = serializers.DateTimeField(source="starts_at")
    end = serializers.DateTimeField(source="ends_at")
    participants = ParticipantSerializer(many=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "uid",
            "title",
            "motive",
            "status",
            "start",
            "end",
            "hold_expires_at",
            "answer_deadline",
            "sequence",
            "participants",
        ]


class MeetingCreateSerializer(InputSerializer):
    invitees = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    optional_invitees = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    motive = serializers.CharField(max_length=500)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class MeetingResponseSerializer(InputSerializer):
    response = serializers.ChoiceField(choices=["accepted", "declined", "counter"])
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    counter_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    counter_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
