"""The record summary (synthèse du dossier)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coordination import access
from coordination.models import (
    Category,
    CircleMember,
    CircleRole,
)
from portal.user_portal.spaces import open_space, page_context, portal_page


@portal_page
def record(request: HttpRequest) -> HttpResponse:
    """Identity, accompanying structures and dates, referent, the circle at a glance."""
    person = open_space(request, Category.RECORD).person
    accompaniments = person.accompaniments.select_related("structure").order_by("ended_on", "-started_on")
    # The members (referents included) are the circle's data: shown with `circle` read
    # only, and that read is logged like any other.
    shows_circle = access.check(request.user, person, Category.CIRCLE) is not None
    members = []
    if shows_circle:
        access.require(request.user, person, Category.CIRCLE, path=request.path)
        members = list(
            CircleMember.objects.active()
            .filter(person=person)
            .select_related("user", "structure", "professional__user", "carer_link")
            .order_by("kind", "started_at")
        )
    referents = [m for m in members if m.role == CircleRole.REFERENT]
    return render(
        request,
        "portal/user/record.html",
        page_context(
            request,
            person,
            accompaniments=accompaniments,
            members=members,
            referents=referents,
            shows_circle=shows_circle,
        ),
    )
