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
from django.utils import timezone

from common.admin import EndableAdmin, EndableForm, ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin, adopt
from coordination import services
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
    GrantChange,
    JoinRequest,
    Person,
    Professional,
    Structure,
    TeamMembership,
)

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
        adopt(
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
        adopt(
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
            adopt(
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
            adopt(
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
            adopt(
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
            adopt(
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


@admin.register(GrantChange)
class GrantChangeAdmin(ReadOnlyAdmin):
    """The history of the matrix (the matrix itself: guardian's permission rows)."""

    list_display = ("changed_at", "person", "user", "category", "old_level", "new_level", "changed_by", "reason")
    list_filter = ("category", "new_level")
    list_select_related = ("person", "user", "changed_by")
    search_fields = ("person__birth_name", "person__used_name", "user__email", "user__last_name")
    date_hierarchy = "changed_at"
    show_full_result_count = False


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
    list_display = ("started_at", "user", "person", "structure", "expires_at", "notice", "notified_at")
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
