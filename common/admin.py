"""Admin behaviour shared by the apps: writes through services (a refusal shown on the
form, in French), rows that can only be ended, and read-only views for support."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.utils import timezone


def adopt(obj: Model, created: Model) -> None:
    """Make the admin's unsaved instance the row the service created (for the log and redirect)."""
    obj.__dict__.update(created.__dict__)


def _add_service_error(form: forms.BaseForm, error: Exception) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error)
    else:
        form.add_error(None, str(error))


class ServiceAdmin(admin.ModelAdmin):
    """Writes through services; a refusal is shown on the form, in French.

    The service runs in `save_model`, inside the admin's transaction. When it refuses,
    the transaction is rolled back and the form is shown again with the refusal added
    to its errors (the second pass stops at validation, so nothing is written).
    """

    add_fields: tuple[str, ...] = ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        if obj is None and self.add_fields:
            return self.add_fields
        return super().get_fields(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, PermissionDenied) as error:
            if request.method != "POST" or hasattr(request, "_service_error"):
                raise
            request._service_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        def clean(form):
            cleaned_data = form_class.clean(form)
            _add_service_error(form, error)
            return cleaned_data

        return type(form_class.__name__, (form_class,), {"clean": clean})


class EndableForm(forms.ModelForm):
    """Change form of a row that can only be ended: the end takes effect now."""

    def clean(self):
        cleaned_data = super().clean() or {}
        ended_on = cleaned_data.get("ended_on")
        if "end_reason" in self.fields and cleaned_data.get("end_reason") and not ended_on:
            self.add_error("ended_on", "Indiquez la date de fin.")
        if ended_on and self.instance.pk:
            if ended_on < self.instance.started_on:
                self.add_error("ended_on", "La fin ne peut pas précéder le début.")
            elif ended_on > timezone.localdate():
                self.add_error(
                    "ended_on", "La fin prend effet immédiatement : choisissez aujourd'hui ou une date passée."
                )
        return cleaned_data


class EndableAdmin(ServiceAdmin):
    """Created by a service; afterwards only the end (date, reason) can be entered, once."""

    form = EndableForm
    change_fields: tuple[str, ...] = ()
    end_fields: tuple[str, ...] = ("ended_on",)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.ended_on is not None:
            return self.change_fields
        return tuple(name for name in self.change_fields if name not in self.end_fields)

    def ends(self, obj, form, change) -> bool:
        return change and "ended_on" in form.changed_data and obj.ended_on is not None


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown for support; changed only by the application (services), never here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OutboxAdmin(ReadOnlyAdmin):
    """An outbox (common.outbox) for support: filter by status (failed sendings show
    with their reason) and resend the failed ones (same Message-ID)."""

    # The task that sends one row (set by each admin; a dotted path, imported at use).
    send_task: str = ""
    actions = ["resend_failed"]
    list_filter = ("status",)

    @admin.action(description="Renvoyer les envois en échec sélectionnés")
    def resend_failed(self, request, queryset):
        from django.utils.module_loading import import_string

        from common.handoff import last_error_recorder, queue_after_commit
        from common.outbox import resend_failed

        ids = resend_failed(self.model, queryset)
        queue_after_commit(import_string(self.send_task), ids, record=last_error_recorder(self.model))
        self.message_user(request, f"{len(ids)} envoi(s) remis en file d'attente.")
