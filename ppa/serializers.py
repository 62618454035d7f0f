"""Input and output serializers of the PPA API. Output serializers read what
`ppa.selectors.with_sections` prefetched; input serializers check shapes, the services
and the gate decide."""

from __future__ import annotations

from rest_framework import serializers

from common.api import InputSerializer
from coordination.models import Professional, Structure
from ppa.models import (
    EXPECTATION_FIELDS,
    Action,
    Contribution,
    Need,
    Objective,
    ObjectiveStatus,
    Plan,
    PlanVersion,
    Section,
    SignOff,
    SignOffRole,
    Weekday,
)
from reference.models import SerafinCode

# --- Output -------------------------------------------------------------------------------------


class SerafinSerializer(serializers.ModelSerializer):
    class Meta:
        model = SerafinCode
        fields = ["id", "kind", "code", "label"]


class NeedSerializer(serializers.ModelSerializer):
    serafin = SerafinSerializer()

    class Meta:
        model = Need
        fields = ["id", "key", "serafin", "description"]


class ObjectiveSerializer(serializers.ModelSerializer):
    needs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Objective
        fields = ["id", "key", "title", "needs", "indicator", "target_on", "status", "status_note"]


class ActionSerializer(serializers.ModelSerializer):
    objectives = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    serafin = SerafinSerializer(allow_null=True)
    schedule = serializers.CharField(source="schedule_display", read_only=True)
    event = serializers.IntegerField(
        source="event_id", allow_null=True, read_only=True, help_text="Série d'agenda faite à partir de cette modalité."
    )

    class Meta:
        model = Action
        fields = [
            "id",
            "key",
            "title",
            "objectives",
            "professional",
            "structure",
            "serafin",
            "weekdays",
            "interval_weeks",
            "starts_at_time",
            "duration_minutes",
            "schedule_text",
            "schedule",
            "starts_on",
            "ends_on",
            "trial_ends_on",
            "involves_person",
            "event",
        ]


class ContributionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_full_name")

    class Meta:
        model = Contribution
        fields = ["section", "kind", "author", "acting_as", "summary", "text", "at"]


class SignOffSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_full_name")

    class Meta:
        model = SignOff
        fields = ["role", "user", "is_legal_representative", "signed_at"]


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanVersion
        fields = [
            "id",
            "number",
            "status",
            "based_on",
            "amendment_reason",
            "created_at",
            "submitted_at",
            "validated_at",
            "review_due_on",
            "superseded_at",
        ]


class VersionSerializer(VersionSummarySerializer):
    needs = NeedSerializer(many=True)
    objectives = ObjectiveSerializer(many=True)
    actions = ActionSerializer(many=True)
    contributions = ContributionSerializer(many=True)
    sign_offs = SignOffSerializer(many=True)

    class Meta(VersionSummarySerializer.Meta):
        fields = [
            *VersionSummarySerializer.Meta.fields,
            *EXPECTATION_FIELDS,
            "resources",
            "remarks",
            "needs",
            "objectives",
            "actions",
            "contributions",
            "sign_offs",
        ]


class PlanSerializer(serializers.ModelSerializer):
    versions = VersionSummarySerializer(many=True)

    class Meta:
        model = Plan
        fields = ["id", "person", "structure", "created_at", "versions"]


class ChangeSerializer(serializers.Serializer):
    label = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()


class SectionDiffSerializer(serializers.Serializer):
    section = serializers.CharField()
    title = serializers.CharField()
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = ChangeSerializer(many=True)


# --- Input --------------------------------------------------------------------------------------


class ExpectationsInputSerializer(InputSerializer):
    tastes = serializers.CharField(required=False, allow_blank=True)
    wishes = serializers.CharField(required=False, allow_blank=True)
    habits = serializers.CharField(required=False, allow_blank=True)
    beliefs = serializers.CharField(required=False, allow_blank=True)
    interests = serializers.CharField(required=False, allow_blank=True)


class TextInputSerializer(InputSerializer):
    text = serializers.CharField(allow_blank=True)


class CommentInputSerializer(InputSerializer):
    section = serializers.ChoiceField(choices=Section.choices)
    text = serializers.CharField()


class NeedInputSerializer(InputSerializer):
    serafin = serializers.PrimaryKeyRelatedField(queryset=SerafinCode.objects.filter(kind="need"))
    description = serializers.CharField()


class ObjectiveInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=300)
    needs = serializers.PrimaryKeyRelatedField(many=True, queryset=Need.objects.all())
    indicator = serializers.CharField(required=False, allow_blank=True, default="")
    target_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED)
    status_note = serializers.CharField(required=False, allow_blank=True, default="")


class ActionInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=300)
    objectives = serializers.PrimaryKeyRelatedField(many=True, queryset=Objective.objects.all())
    professional = serializers.PrimaryKeyRelatedField(
        queryset=Professional.objects.all(), required=False, allow_null=True, default=None
    )
    structure = serializers.PrimaryKeyRelatedField(
        queryset=Structure.objects.all(), required=False, allow_null=True, default=None
    )
    serafin = serializers.PrimaryKeyRelatedField(
        queryset=SerafinCode.objects.filter(kind="service"), required=False, allow_null=True, default=None
    )
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=Weekday.choices), required=False, default=list
    )
    interval_weeks = serializers.IntegerField(min_value=1, max_value=52, default=1)
    starts_at_time = serializers.TimeField(required=False, allow_null=True, default=None)
    duration_minutes = serializers.IntegerField(
        min_value=5, max_value=1440, required=False, allow_null=True, default=None
    )
    schedule_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    trial_ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    involves_person = serializers.BooleanField(default=True)


class SignInputSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=SignOffRole.choices)


class AmendInputSerializer(InputSerializer):
    reason = serializers.CharField()
