"""Django admin of the evaluation block: questionnaires defined as data (a JSON
definition, checked by `evaluation.definition`), versions published through the services;
evaluations and referrals shown read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from common.admin import ReadOnlyAdmin, ServiceAdmin, adopt
from evaluation import services
from evaluation.definition import parse
from evaluation.models import Evaluation, Questionnaire, QuestionnaireVersion, Referral, VersionStatus


class DefinitionField(forms.JSONField):
    def validate(self, value):
        super().validate(value)
        parse(value)


class QuestionnaireForm(forms.ModelForm):
    definition = DefinitionField(
        label="définition de la première version", required=False, help_text="Voir evaluation/definition.py."
    )

    class Meta:
        model = Questionnaire
        fields = ["code", "title", "kind", "structure", "description", "source", "is_active"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(ServiceAdmin):
    form = QuestionnaireForm
    list_display = ["title", "code", "kind", "structure", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["title", "code"]
    add_fields = ("code", "title", "kind", "structure", "description", "source", "definition")
    fields = ("code", "title", "kind", "structure", "description", "source", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "kind", "structure") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            # Title, presentation and whether it is offered: no evaluation depends on them.
            obj.save(update_fields=["title", "description", "source", "is_active"])
            return
        if not form.cleaned_data.get("definition"):
            raise ValidationError({"definition": "Donnez la définition de la première version."})
        created = services.questionnaire_create(
            actor=request.user,
            structure=obj.structure,
            code=obj.code,
            title=obj.title,
            kind=obj.kind,
            definition=form.cleaned_data["definition"],
            description=obj.description,
        )
        if obj.source:
            created.source = obj.source
            created.save(update_fields=["source"])
        adopt(obj, created)


class VersionForm(forms.ModelForm):
    definition = DefinitionField(label="définition")

    class Meta:
        model = QuestionnaireVersion
        fields = ["questionnaire", "definition", "change_note"]


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(ServiceAdmin):
    form = VersionForm
    list_display = ["questionnaire", "number", "status", "published_at"]
    list_filter = ["status"]
    actions = ["publish"]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.status == VersionStatus.DRAFT)

    def get_readonly_fields(self, request, obj=None):
        return ("questionnaire",) if obj else ()

    def save_model(self, request, obj, form, change):
        draft = services.version_draft(
            actor=request.user, questionnaire=obj.questionnaire, definition=form.cleaned_data["definition"]
        )
        if obj.change_note != draft.change_note:
            draft.change_note = obj.change_note
            draft.save(update_fields=["change_note"])
        adopt(obj, draft)

    @admin.action(description="Publier les brouillons choisis")
    def publish(self, request, queryset):
        for version in queryset.filter(status=VersionStatus.DRAFT):
            try:
                services.version_publish(actor=request.user, version=version, change_note=version.change_note)
            except ValidationError as error:
                self.message_user(request, f"{version} : {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{version} publiée.")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["version", "person", "evaluated_on", "score", "band_label"]
    raw_id_fields = ["person"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["structure", "sent_at", "urgency", "status"]
    list_filter = ["status", "urgency"]
