"""The circle and its rights: the person or legal representative decides."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from coordination import matrix, rules, services
from coordination.models import (
    Category,
    CircleMember,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    EndReason,
    JoinRequest,
    JoinRequestStatus,
    Level,
    MemberKind,
)
from portal.user_portal.forms import (
    AnswerForm,
    GrantsForm,
    MemberEndForm,
    level_sentence,
    rights_summary,
)
from portal.user_portal.menu import of_name
from portal.user_portal.spaces import open_space, page_context, portal_page


@portal_page
def circle(request: HttpRequest) -> HttpResponse:
    """Members and their rights in plain words; a decider changes them."""
    person = open_space(request, Category.CIRCLE).person
    is_decider = rules.is_decider(request.user, person)
    members = matrix.with_levels(
        CircleMember.objects.active()
        .filter(person=person)
        .select_related("user", "structure", "professional__user", "carer_link")
        .order_by("kind", "started_at"),
        person,
    )
    is_self = person.user_id == request.user.pk
    for member in members:
        levels = member.levels
        member.sentences = [level_sentence(c, levels.get(c, Level.NONE)) for c in Category.values]
        member.summary = rights_summary(levels) if member.holds_rights else "Sans compte : aucun droit à donner."
        member.is_me = member.user_id == request.user.pk
        if is_decider and member.holds_rights and member.kind != MemberKind.PERSON:
            member.form = GrantsForm(levels=levels, is_self=is_self, prefix=f"m{member.pk}")
        member.can_end = is_decider and member.kind != MemberKind.PERSON
        member.can_oppose = is_decider and member.kind in (MemberKind.PROFESSIONAL, MemberKind.CARER)
    title = "Mon cercle et mes droits" if is_self else of_name("Le cercle de {}", person.first_name or str(person))
    context = page_context(request, person, members=members, circle_title=title)
    if is_decider:
        context["pending_requests"] = list(
            JoinRequest.objects.filter(person=person, status=JoinRequestStatus.PENDING).select_related(
                "professional__user", "structure"
            )
        )
        context["delegations"] = list(
            Delegation.objects.filter(person=person, status__in=[DelegationStatus.PENDING, DelegationStatus.ACTIVE])
            .select_related("delegate__user", "delegator__user")
            .prefetch_related(Prefetch("grants", queryset=DelegationGrant.objects.order_by("category")))
        )
    return render(request, "portal/user/circle.html", context)


def _member(request, member_id: int) -> CircleMember:
    person = open_space(request, Category.CIRCLE, "write").person
    return get_object_or_404(CircleMember.objects.select_related("person", "carer_link"), pk=member_id, person=person)


@portal_page
@require_POST
def grants_update(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    form = GrantsForm(request.POST, prefix=f"m{member.pk}")
    back = f"{reverse('portal_circle')}#membre-{member.pk}"
    if not form.is_valid():
        messages.error(request, "Choisissez un niveau pour chaque ligne : rien, voir, ou voir et écrire.")
        return redirect(back)
    try:
        services.grants_set(actor=request.user, member=member, levels=form.levels())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Les droits de {member.display_name} sont changés.")
    return redirect(back)


@portal_page
@require_POST
def member_end(request: HttpRequest, member_id: int) -> HttpResponse:
    """Remove a member (a carer's link ends too) or oppose a professional or a carer."""
    member = _member(request, member_id)
    form = MemberEndForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        if form.cleaned_data["how"] == "oppose":
            services.circle_member_end(actor=request.user, member=member, reason=EndReason.OPPOSITION)
        elif member.carer_link_id:
            services.carer_link_end(actor=request.user, link=member.carer_link)
        else:
            services.circle_member_end(actor=request.user, member=member, reason=EndReason.END_OF_CARE)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{member.display_name} ne fait plus partie de votre cercle.")
    return redirect("portal_circle")


@portal_page
@require_POST
def join_request_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    person = open_space(request, Category.CIRCLE, "write").person
    join_request = get_object_or_404(JoinRequest, pk=request_id, person=person)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.join_request_answer(actor=request.user, join_request=join_request, accept=form.cleaned_data["accept"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Demande acceptée. Choisissez maintenant ses droits."
            if form.cleaned_data["accept"]
            else "Demande refusée.",
        )
    return redirect("portal_circle")


@portal_page
@require_POST
def delegation_answer(request: HttpRequest, delegation_id: int) -> HttpResponse:
    person = open_space(request, Category.CIRCLE, "write").person
    delegation = get_object_or_404(Delegation, pk=delegation_id, person=person)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.delegation_answer(actor=request.user, delegation=delegation, accept=form.cleaned_data["accept"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Délégation acceptée." if form.cleaned_data["accept"] else "Délégation refusée.")
    return redirect("portal_circle")
