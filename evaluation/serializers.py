"""Input and output serializers of the evaluation API. Input serializers check shapes;
the questionnaire's definition, the services and the gate decide."""

from __future__ import annotations

from rest_framework import serializers

from common.api import InputSerializer
from evaluation.models import Evaluation, NeedSuggestion, Questionnaire, QuestionnaireVersion

MAX_ANSWERS = 500


class QuestionnaireVersionSerializer(serializers.ModelSerializer):
    definition = serializers.JSONField(
        help_text="Parties, questions, conditions et score (voir README, « Évaluation »)."
    )

    class Meta:
        model = QuestionnaireVersion
        fields = ["id", "number", "status", "published_at", "change_note", "definition"]


class QuestionnaireSerializer(serializers.ModelSerializer):
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Questionnaire
        fields = ["id", "code", "title", "kind", "description", "source", "structure", "current_version"]

    def get_current_version(self, obj) -> QuestionnaireVersionSerializer:
        versions = [v for v in obj.versions.all() if v.status == "published"]
        return QuestionnaireVersionSerializer(max(versions, key=lambda v: v.number)).data if versions else None


class NeedSuggestionSerializer(serializers.ModelSerializer):
    serafin = serializers.CharField(source="serafin.code", read_only=True)

    class Meta:
        model = NeedSuggestion
        fields = ["id", "serafin", "description", "status", "decided_at"]


class EvaluationSerializer(serializers.ModelSerializer):
    questionnaire = serializers.CharField(source="version.questionnaire.code", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    version_id = serializers.IntegerField(read_only=True)
    suggestions = NeedSuggestionSerializer(many=True, read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "person",
            "questionnaire",
            "version",
            "version_id",
            "respondent_carer",
            "evaluated_on",
            "answers",
            "score",
            "band_label",
            "band_interpretation",
            "comment",
            "corrects",
            "created_at",
            "suggestions",
        ]


class EvaluationInputSerializer(InputSerializer):
    questionnaire = serializers.SlugField(
        max_length=60, help_text="Code du questionnaire (sa version publiée en cours)."
    )
    answers = serializers.DictField(
        child=serializers.JSONField(), help_text="Réponses par code de question : texte, nombre ou liste de valeurs."
    )
    evaluated_on = serializers.DateField(required=False)
    respondent_carer = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    comment = serializers.CharField(required=False, allow_blank=True)
    corrects = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def validate_answers(self, value):
        if len(value) > MAX_ANSWERS:
            raise serializers.ValidationError(f"{MAX_ANSWERS} réponses au plus.")
        return value
