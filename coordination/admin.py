"""The coordination kernel in the Django admin (reference data and support).

Rights are materialised by `coordination.services`, so the admin never writes the
circle, the matrix or the logs itself:

- team memberships, accompaniments, carer links and persons are *created* and *ended*
  through their service (`save_model`), which brings the circle and the guardian
  permissions along; their other fields cannot be edited afterwards;
- the circle, the matrix, consents, join requests, delegations, break-the-glass
  openings and the logs are read-only here (they change in the application);
- nothing is deleted from the admin: history stays.

A service that refuses (ValidationError, AccessDenied) shows its French message on
the form instead of a server error.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone

from coordination import services
from coordination.access import AccessDenied
from coordination.models import (
    AccessLog,
    Accompaniment,
    AuditEvent,
    BreakGlassAccess,
    CarerLink,
    CircleMember,
    Consent,
    Delegation,
    DelegationGrant,
    Delivery,
    DeliveryStatus,
    DmpShare,
    Document,
    Grant,
    JoinRequest,
    KnownDevice,
    MssanteSending,
    Notification,
    NotificationPreference,
    Person,
    Professional,
    Structure,
    TeamMembership,
)

# --- Shared behaviour -------------------------------------------------------------------------


def _adopt(obj: Model, created: Model) -> None:
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
        except (ValidationError, AccessDenied) as error:
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
        cleaned_data = super().clean()
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


# --- Structures and professionals ---------------------------------------------------------------


class TeamInline(ReadOnlyInline):
    model = TeamMembership
    fields = ("professional", "role", "is_structure_admin", "started_on", "ended_on")
    readonly_fields = fields
    verbose_name_plural = "équipe (ajouts et départs : menu « Équipe »)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("professional__user")


@admin.register(Structure)
class StructureAdmin(ServiceAdmin):
    list_display = ("name", "finess", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "finess")
    fields = ("name", "finess", "kind", "address", "phone", "mssante_address", "is_active", "created_at")
    readonly_fields = ("created_at",)
    inlines = [TeamInline]

    def get_readonly_fields(self, request, obj=None):
        # The FINESS identifies the structure for partners: it is not rewritten.
        return ("finess", "created_at") if obj else ("created_at",)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        fields = {name: form.cleaned_data[name] for name in ("address", "phone", "mssante_address", "is_active")}
        _adopt(
            obj,
            services.structure_create(actor=request.user, name=obj.name, finess=obj.finess, kind=obj.kind, **fields),
        )


@admin.register(Professional)
class ProfessionalAdmin(ServiceAdmin):
    list_display = ("__str__", "email", "profession", "rpps", "is_active")
    list_filter = ("profession", "is_active")
    list_select_related = ("user",)
    search_fields = ("user__first_name", "user__last_name", "user__email", "rpps")
    fields = ("user", "profession", "rpps", "mssante_address", "is_active")
    add_fields = ("user", "profession", "rpps")
    autocomplete_fields = ("user",)

    @admin.display(description="adresse e-mail", ordering="user__email")
    def email(self, obj: Professional) -> str:
        return obj.user.email

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        _adopt(
            obj,
            services.professional_create(actor=request.user, user=obj.user, profession=obj.profession, rpps=obj.rpps),
        )


@admin.register(TeamMembership)
class TeamMembershipAdmin(EndableAdmin):
    list_display = ("professional", "structure", "role", "is_structure_admin", "started_on", "ended_on")
    list_filter = ("role", "is_structure_admin", ("ended_on", admin.EmptyFieldListFilter))
    list_select_related = ("professional__user", "structure")
    search_fields = (
        "structure__name",
        "structure__finess",
        "professional__user__email",
        "professional__user__last_name",
        "professional__rpps",
    )
    autocomplete_fields = ("structure", "professional")
    add_fields = ("structure", "professional", "role", "is_structure_admin", "started_on")
    change_fields = ("structure", "professional", "role", "is_structure_admin", "started_on", "ended_on")

    def save_model(self, request, obj, form, change):
        if not change:
            _adopt(
                obj,
                services.team_member_add(
                    actor=request.user,
                    structure=obj.structure,
                    professional=obj.professional,
                    role=obj.role,
                    is_structure_admin=obj.is_structure_admin,
                    started_on=obj.started_on,
                ),
            )
        elif self.ends(obj, form, change):
            services.team_member_end(actor=request.user, membership=obj, ended_on=obj.ended_on)


# --- Persons, accompaniments, carers --------------------------------------------------------------


class PersonAddForm(forms.ModelForm):
    structure = forms.ModelChoiceField(
        Structure.objects.filter(is_active=True),
        required=False,
        label="structure qui accompagne",
        help_text="Facultatif : démarre l'accompagnement, la structure et son équipe entrent dans le cercle.",
    )


_PERSON_TRAITS = (
    "birth_name",
    "used_name",
    "birth_first_names",
    "first_name",
    "birth_date",
    "sex",
    "birth_place_insee",
    "ins_matricule",
    "ins_oid",
    "identity_status",
    "phone",
    "email",
    "address",
)


@admin.register(Person)
class PersonAdmin(ServiceAdmin):
    list_display = ("display_name", "birth_date", "identity_status")
    list_filter = ("identity_status", "sex")
    search_fields = ("birth_name", "used_name", "birth_first_names", "first_name", "ins_matricule")
    autocomplete_fields = ("user",)
    add_fields = (*_PERSON_TRAITS, "user", "structure")
    fields = (*_PERSON_TRAITS, "user", "created_at")

    @admin.display(description="personne", ordering="birth_name")
    def display_name(self, obj: Person) -> str:
        return obj.display_name

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PersonAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # No identity service yet: the identity is read-only here. An account can be
        # given once (person_link_account).
        readonly = (*_PERSON_TRAITS, "created_at")
        return (*readonly, "user") if obj.user_id else readonly

    def save_model(self, request, obj, form, change):
        if not change:
            traits = {name: form.cleaned_data[name] for name in _PERSON_TRAITS}
            _adopt(
                obj,
                services.person_create(
                    actor=request.user, structure=form.cleaned_data.get("structure"), user=obj.user, **traits
                ),
            )
        elif "user" in form.changed_data and obj.user is not None:
            user = obj.user
            obj.user = None
            services.person_link_account(actor=request.user, person=obj, user=user)


@admin.register(Accompaniment)
class AccompanimentAdmin(EndableAdmin):
    list_display = ("person", "structure", "started_on", "ended_on", "end_reason")
    list_filter = (("ended_on", admin.EmptyFieldListFilter),)
    list_select_related = ("person", "structure")
    search_fields = (
        "person__birth_name",
        "person__used_name",
        "person__first_name",
        "structure__name",
        "structure__finess",
    )
    autocomplete_fields = ("person", "structure")
    add_fields = ("person", "structure", "started_on")
    change_fields = ("person", "structure", "started_on", "ended_on", "end_reason")
    end_fields = ("ended_on", "end_reason")

    def save_model(self, request, obj, form, change):
        if not change:
            _adopt(
                obj,
                services.accompaniment_start(
                    actor=request.user, person=obj.person, structure=obj.structure, started_on=obj.started_on
                ),
            )
        elif self.ends(obj, form, change):
            services.accompaniment_end(
                actor=request.user, accompaniment=obj, reason=obj.end_reason, ended_on=obj.ended_on
            )


class CarerLinkForm(EndableForm):
    def clean(self):
        cleaned_data = super().clean()
        ended_on = cleaned_data.get("ended_on")
        if ended_on and self.instance.pk and ended_on != timezone.localdate():
            self.add_error("ended_on", "Un lien aidant ou représentant se termine à la date du jour.")
        return cleaned_data


@admin.register(CarerLink)
class CarerLinkAdmin(EndableAdmin):
    form = CarerLinkForm
    list_display = ("user", "person", "relationship", "is_legal_representative", "started_on", "ended_on")
    list_filter = ("relationship", "is_legal_representative", ("ended_on", admin.EmptyFieldListFilter))
    list_select_related = ("user", "person")
    search_fields = ("user__email", "user__last_name", "person__birth_name", "person__used_name")
    autocomplete_fields = ("person", "user")
    add_fields = ("person", "user", "relationship", "started_on")
    change_fields = ("person", "user", "relationship", "is_legal_representative", "started_on", "ended_on")

    def save_model(self, request, obj, form, change):
        if not change:
            _adopt(
                obj,
                services.carer_link_create(
                    actor=request.user,
                    person=obj.person,
                    user=obj.user,
                    relationship=obj.relationship,
                    started_on=obj.started_on,
                ),
            )
        elif self.ends(obj, form, change):
            services.carer_link_end(actor=request.user, link=obj)


# --- The circle and the matrix (read-only: they change in the application) -------------------------


@admin.register(CircleMember)
class CircleMemberAdmin(ReadOnlyAdmin):
    list_display = ("person", "display", "kind", "role", "origin", "started_at", "ended_at")
    list_filter = ("kind", "origin", "role", ("ended_at", admin.EmptyFieldListFilter))
    list_select_related = ("person", "user", "structure")
    search_fields = (
        "person__birth_name",
        "person__used_name",
        "user__email",
        "user__last_name",
        "structure__name",
        "other_name",
    )

    @admin.display(description="membre")
    def display(self, obj: CircleMember) -> str:
        return obj.display_name


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ("person", "member_display", "category", "level", "updated_at", "updated_by")
    list_filter = ("category", "level")
    list_select_related = ("member__person", "member__user", "member__structure", "updated_by")
    search_fields = (
        "member__person__birth_name",
        "member__person__used_name",
        "member__user__email",
        "member__user__last_name",
    )

    @admin.display(description="personne", ordering="member__person__birth_name")
    def person(self, obj: Grant) -> Person:
        return obj.member.person

    @admin.display(description="membre")
    def member_display(self, obj: Grant) -> str:
        return obj.member.display_name


@admin.register(JoinRequest)
class JoinRequestAdmin(ReadOnlyAdmin):
    list_display = ("person", "professional", "structure", "role", "status", "created_at", "decided_at")
    list_filter = ("status", "role")
    list_select_related = ("person", "professional__user", "structure")
    search_fields = (
        "person__birth_name",
        "person__used_name",
        "professional__user__email",
        "professional__user__last_name",
    )
    date_hierarchy = "created_at"


class DelegationGrantInline(ReadOnlyInline):
    model = DelegationGrant
    fields = ("category", "level")
    readonly_fields = fields
    show_change_link = False


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ("person", "delegator", "delegate", "starts_at", "ends_at", "status")
    list_filter = ("status",)
    list_select_related = ("person", "delegator__user", "delegator__structure", "delegate__user")
    search_fields = ("person__birth_name", "person__used_name", "delegate__user__email", "delegator__user__email")
    date_hierarchy = "starts_at"
    inlines = [DelegationGrantInline]


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "user", "person", "structure", "expires_at", "notified_at")
    list_select_related = ("user", "person", "structure")
    search_fields = ("person__birth_name", "person__used_name", "user__email", "user__last_name")
    date_hierarchy = "started_at"


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "person", "kind", "partner", "decision", "collected_via", "recorded_by")
    list_filter = ("kind", "decision", "collected_via", "partner")
    list_select_related = ("person", "recorded_by")
    search_fields = ("person__birth_name", "person__used_name", "recorded_by__email")
    date_hierarchy = "recorded_at"


# --- Logs --------------------------------------------------------------------------------------------


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "person", "category", "action", "via", "ip", "request_id")
    list_filter = ("category", "action", "via")
    list_select_related = ("user", "person")
    search_fields = ("user__email", "user__last_name", "person__birth_name", "person__used_name", "request_id")
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "event_type", "actor", "acting_as", "person")
    list_filter = ("event_type", "acting_as")
    list_select_related = ("actor", "person")
    search_fields = ("actor__email", "actor__last_name", "person__birth_name", "person__used_name")
    date_hierarchy = "at"
    show_full_result_count = False


# --- Notifications ---------------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "event_type", "frequency", "read_at", "digested_at"]
    list_filter = ["frequency", "event_type"]
    search_fields = ["recipient__email"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Permanent failures show here (status « Échec définitif », with the last error)."""

    list_display = ["created_at", "user", "channel", "digest", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel", "digest"]
    search_fields = ["user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    actions = ["retry_now"]

    @admin.action(description="Renvoyer les envois en échec sélectionnés")
    def retry_now(self, request, queryset):
        from coordination.notifications import dispatch_after_commit

        failed = list(queryset.filter(status=DeliveryStatus.FAILED))
        Delivery.objects.filter(pk__in=[d.pk for d in failed]).update(
            status=DeliveryStatus.RETRY, attempts=0, next_attempt_at=None
        )
        dispatch_after_commit(failed)
        self.message_user(request, f"{len(failed)} envoi(s) remis en file d'attente.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "event_type", "frequency", "in_app", "email", "sms", "updated_at"]
    list_filter = ["event_type", "frequency"]
    search_fields = ["user__email"]


@admin.register(KnownDevice)
class KnownDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "label", "first_seen_at", "last_seen_at"]
    search_fields = ["user__email"]


# --- Documents ---------------------------------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """Metadata only: the file is served through the gate, not from the admin."""

    list_display = ("created_at", "person", "doc_type", "title", "version", "status", "source", "author")
    list_filter = ("doc_type", "status", "source")
    list_select_related = ("person", "author")
    search_fields = ("title", "person__birth_name", "person__used_name", "sha256")
    date_hierarchy = "created_at"
    exclude = ("file",)
    show_full_result_count = False


@admin.register(DmpShare)
class DmpShareAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "document", "action", "status", "send_after", "attempts", "sent_at")
    list_filter = ("status", "action")
    list_select_related = ("document",)
    show_full_result_count = False


@admin.register(MssanteSending)
class MssanteSendingAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "document", "recipient_address", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("document",)
    search_fields = ("recipient_address",)
    show_full_result_count = False
