"""My projet personnalisé: read in plain words, expectations and comments, signature."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from coordination.models import (
    Category,
)
from portal.user_portal.forms import (
    PlanCommentForm,
)
from portal.user_portal.spaces import open_space, page_context, portal_page
from ppa import selectors as ppa_selectors
from ppa import services as ppa_services
from ppa.forms import ExpectationsForm
from ppa.models import EXPECTATION_FIELDS, PlanVersion, SignOffRole, VersionStatus


@portal_page
def ppa(request: HttpRequest) -> HttpResponse:
    """The version in force in plain language, the next review; on a draft, my
    expectations and comments; on a version waiting for signatures, my signature."""
    grant = open_space(request, Category.PPA, probe_write=True)
    person = grant.person
    versions = list(
        ppa_selectors.with_sections(
            PlanVersion.objects.filter(
                plan__person=person, status__in=[VersionStatus.VALIDATED, VersionStatus.DRAFT, VersionStatus.SUBMITTED]
            )
        ).order_by("number")
    )
    current = next((v for v in versions if v.status == VersionStatus.VALIDATED), None)
    pending = next((v for v in versions if v.status != VersionStatus.VALIDATED), None)
    context = {"current": current, "pending": pending, "can_write": grant.can_write, "today": timezone.localdate()}
    if pending is not None:
        context["pending_comments"] = [c for c in pending.contributions.all() if c.kind == "comment"]
        if pending.is_draft and grant.can_write:
            context["expectations_form"] = ExpectationsForm.for_version(pending)
            context["comment_form"] = PlanCommentForm(prefix="commentaire")
        if pending.status == VersionStatus.SUBMITTED:
            signed = {s.role: s for s in pending.sign_offs.all()}
            context["person_sign_off"] = signed.get(SignOffRole.PERSON)
            context["referent_sign_off"] = signed.get(SignOffRole.REFERENT)
            context["may_sign"] = (
                SignOffRole.PERSON not in signed
                and SignOffRole.PERSON in ppa_services.sign_roles_for(request.user, person)
            )
    return render(request, "portal/user/ppa.html", page_context(request, person, **context))


def _version(request: HttpRequest, version_id: int) -> PlanVersion:
    person = open_space(request, Category.PPA).person
    return get_object_or_404(PlanVersion.objects.select_related("plan__person"), pk=version_id, plan__person=person)


def _ppa_error(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@portal_page
@require_POST
def ppa_expectations(request: HttpRequest, version_id: int) -> HttpResponse:
    """My expectations on a draft, in my own words (ppa write)."""
    version = _version(request, version_id)
    form = ExpectationsForm(request.POST, prefix="attentes")
    if not form.is_valid():
        messages.error(request, "Vos attentes n'ont pas pu être lues. Réessayez.")
        return redirect("portal_ppa")
    try:
        ppa_services.expectations_update(
            actor=request.user, version=version, **{name: form.cleaned_data[name] for name in EXPECTATION_FIELDS}
        )
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        messages.success(request, "Vos attentes sont enregistrées dans le projet.")
    return redirect("portal_ppa")


@portal_page
@require_POST
def ppa_comment(request: HttpRequest, version_id: int) -> HttpResponse:
    """A comment on a part of a draft (ppa write)."""
    version = _version(request, version_id)
    form = PlanCommentForm(request.POST, prefix="commentaire")
    if not form.is_valid():
        messages.error(request, "Écrivez votre commentaire et choisissez la partie du projet.")
        return redirect("portal_ppa")
    try:
        ppa_services.comment_add(actor=request.user, version=version, **form.cleaned_data)
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        messages.success(request, "Votre commentaire est ajouté au projet.")
    return redirect("portal_ppa")


@portal_page
@require_POST
def ppa_sign(request: HttpRequest, version_id: int) -> HttpResponse:
    """The person (or the legal representative) signs a version waiting for signatures."""
    version = _version(request, version_id)
    try:
        ppa_services.plan_sign(actor=request.user, version=version, role=SignOffRole.PERSON)
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        version.refresh_from_db(fields=["status"])
        messages.success(
            request,
            "Votre signature est enregistrée. Le projet est validé."
            if version.status == VersionStatus.VALIDATED
            else "Votre signature est enregistrée. Il manque encore la signature du référent.",
        )
    return redirect("portal_ppa")
