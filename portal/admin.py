"""Accounts in the Django admin (users identified by e-mail); portal invitations, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from common.admin import OutboxAdmin, ReadOnlyAdmin
from common.phones import french_mobile_e164
from portal.models import Heartbeat, InvitationEmail, KnownDevice, PortalInvitation, User


class UserCreationForm(auth_forms.AdminUserCreationForm):
    """E-mail, then the password twice (or no password: the user sets one by reset link)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("Un compte existe déjà avec cette adresse e-mail.", code="unique")
        return email


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "")
        return french_mobile_e164(phone) if phone else ""

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Un compte existe déjà avec cette adresse e-mail.", code="unique")
        return email


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "phone")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")


@admin.register(PortalInvitation)
class PortalInvitationAdmin(ReadOnlyAdmin):
    """Read-only: invitations are made and used through `portal.invitations` (the token
    itself is never stored, only its hash, which is not shown)."""

    list_display = ["email", "person", "relationship", "created_by", "created_at", "expires_at", "used_at"]
    list_filter = ["relationship"]
    search_fields = ["email"]
    list_select_related = ["person", "created_by"]
    exclude = ["token_hash"]


@admin.register(InvitationEmail)
class InvitationEmailAdmin(OutboxAdmin):
    """The invitations' e-mails: failed ones with their reason, and a resend action."""

    list_display = ["created_at", "invitation", "status", "attempts", "sent_at", "last_error"]
    list_select_related = ["invitation"]
    exclude = ["link"]
    send_task = "portal.tasks.send_invitation_email"


@admin.register(KnownDevice)
class KnownDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "label", "first_seen_at", "last_seen_at"]
    search_fields = ["user__email"]


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    """The worker's and beat's last signs of life (also in /readyz, as warnings)."""

    list_display = ("name", "last_seen", "age", "detail")

    @admin.display(description="il y a")
    def age(self, obj: Heartbeat) -> str:
        from django.utils import timezone
        from django.utils.timesince import timesince

        return timesince(obj.last_seen, timezone.now())
