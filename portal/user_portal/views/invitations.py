"""Invitations to the user portal: sent by circle members, accepted once."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from common.forms import add_service_errors
from coordination import access
from coordination.models import (
    Category,
)
from portal import invitations
from portal.user_portal.forms import (
    InvitationForm,
    SetPasswordForm,
)


@login_required
def invitation_create(request: HttpRequest, person_id: int) -> HttpResponse:
    """A structure professional (circle write) invites the person or a carer by e-mail."""
    if not request.user.is_professional:
        raise Http404
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "write", path=request.path)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_create(
                actor=request.user, person=person, base_url=settings.SITE_URL, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Invitation envoyée à {form.cleaned_data['email']}. Le lien sert une seule fois."
            )
            return redirect("portal_invitation_create", person_id=person.pk)
    pending = person.portal_invitations.filter(used_at__isnull=True, expires_at__gt=timezone.now())[:20]
    return render(
        request,
        "portal/user/invitation_form.html",
        {"person": person, "form": form, "pending": pending},
        status=400 if form.errors else 200,
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: set a password once; the account joins the person's circle."""
    try:
        invitation = invitations.invitation_for_token(token)
    except ValidationError as error:
        return render(request, "portal/user/invitation_invalid.html", {"message": error.messages[0]}, status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Votre compte est prêt. Connectez-vous avec votre adresse e-mail et ce mot de passe."
            )
            return redirect("account_login")
    return render(
        request,
        "portal/user/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.errors else 200,
    )
