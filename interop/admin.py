"""Administration of the connected software: connect one (its client id and secret are
shown once), revoke it (tokens, subscriptions and team membership end at once), and see
its subscriptions. django-oauth-toolkit's own admin lists the tokens (deletable: a
deleted token is revoked)."""

from __future__ import annotations

from django.contrib import admin, messages

from common.admin import ReadOnlyAdmin, ServiceAdmin, adopt
from interop import services
from interop.models import ConnectedSoftware, SourceIdentifier, Subscription, SubscriptionStatus


@admin.register(ConnectedSoftware)
class ConnectedSoftwareAdmin(ServiceAdmin):
    list_display = ("name", "structure", "client_id", "team_role", "is_active", "created_at", "revoked_at")
    list_filter = ("is_active", "structure")
    add_fields = ("name", "structure", "team_role", "scopes")
    fields = ("name", "structure", "client_id", "user", "team_role", "scopes", "is_active", "created_at", "revoked_at")
    readonly_fields = ("client_id", "user", "structure", "team_role", "is_active", "created_at", "revoked_at")
    actions = ("revoke",)

    def get_changeform_initial_data(self, request):
        from interop.scopes import DEFAULT_SOFTWARE_SCOPES

        return {"scopes": DEFAULT_SOFTWARE_SCOPES}

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @admin.display(description="identifiant client (client_id)")
    def client_id(self, obj) -> str:
        return obj.application.client_id if obj.application_id else ""

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "scopes"])
            return
        software, secret = services.connected_software_create(
            actor=request.user,
            structure=form.cleaned_data["structure"],
            name=form.cleaned_data["name"],
            team_role=form.cleaned_data["team_role"],
            scopes=form.cleaned_data["scopes"],
        )
        adopt(obj, software)
        messages.warning(
            request,
            f"Logiciel connecté. Identifiant client : {software.application.client_id} — secret : {secret} "
            "(affiché une seule fois : seul son empreinte est conservée).",
        )

    @admin.action(description="Déconnecter (révoquer jetons, abonnements et accès)")
    def revoke(self, request, queryset):
        for software in queryset:
            services.connected_software_revoke(actor=request.user, software=software)
        self.message_user(request, "Logiciels déconnectés : leurs jetons ne fonctionnent plus.")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("software", "person", "event_type", "status", "endpoint", "created_at", "last_error")
    list_filter = ("status", "event_type")
    actions = ("stop",)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_staff

    @admin.action(description="Arrêter l'abonnement")
    def stop(self, request, queryset):
        for subscription in queryset.filter(status=SubscriptionStatus.ACTIVE).select_related("software"):
            services.subscription_end(software=subscription.software, subscription=subscription)
        self.message_user(request, "Abonnements arrêtés.")


@admin.register(SourceIdentifier)
class SourceIdentifierAdmin(ReadOnlyAdmin):
    list_display = ("software", "kind", "system", "value", "object_id", "updated_at")
    list_filter = ("kind",)
