"""Administration of the admission block: possible duplicates to decide, offers, requests."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from admission import services
from admission.models import AdmissionCopy, AdmissionEvent, AdmissionRequest, IdentityReview, Offer


@admin.register(IdentityReview)
class IdentityReviewAdmin(admin.ModelAdmin):
    list_display = ["created_at", "structure", "requested_by", "candidate", "status"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in IdentityReview._meta.fields]
    actions = ["same_person", "other_person"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _decide(self, request, queryset, is_same_person: bool) -> None:
        for review in queryset:
            try:
                services.identity_review_decide(actor=request.user, review=review, is_same_person=is_same_person)
            except ValidationError as error:
                self.message_user(request, f"{review} : {' '.join(error.messages)}", messages.ERROR)

    @admin.action(description="C'est la même personne : la rattacher à la structure")
    def same_person(self, request, queryset) -> None:
        self._decide(request, queryset, True)

    @admin.action(description="Ce n'est pas la même personne : créer la personne saisie")
    def other_person(self, request, queryset) -> None:
        self._decide(request, queryset, False)


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["structure", "department", "postcode", "places_available", "availability_updated_on"]
    list_filter = ["is_published", "department"]
    search_fields = ["structure__name", "city", "postcode"]
    raw_id_fields = ["structure"]
    filter_horizontal = ["services"]


class AdmissionEventInline(admin.TabularInline):
    model = AdmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "previous_status", "message", "is_requester_answer", "at", "by"]


@admin.register(AdmissionCopy)
class AdmissionCopyAdmin(admin.ModelAdmin):
    list_display = ["request", "structure", "status", "updated_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AdmissionCopy._meta.fields]
    inlines = [AdmissionEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AdmissionRequest)
class AdmissionRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "requester_kind", "source"]
    readonly_fields = [f.name for f in AdmissionRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
