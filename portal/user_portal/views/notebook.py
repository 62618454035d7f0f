"""The shared liaison notebook, as the person and carers see it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from common.forms import add_service_errors
from coordination import access
from coordination.models import (
    Category,
)
from liaison import selectors as liaison_selectors
from liaison import services as liaison_services
from liaison.models import Scope
from portal.user_portal.forms import (
    ObservationForm,
)
from portal.user_portal.spaces import open_space, page_context, portal_page


@portal_page
def notebook(request: HttpRequest) -> HttpResponse:
    """Shared transmissions (liaison read); post an observation (liaison write)."""
    grant = open_space(request, Category.LIAISON, probe_write=True)
    person, can_write = grant.person, grant.can_write
    form = ObservationForm(request.POST or None) if can_write else None
    if request.method == "POST":
        if not can_write:
            access.require(request.user, person, Category.LIAISON, "write", path=request.path)
        if form.is_valid():
            try:
                liaison_services.transmission_create(
                    actor=request.user, person=person, scope=Scope.SHARED, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Votre message est dans le cahier de liaison.")
                return redirect("portal_notebook")
    queryset = (
        liaison_selectors.notebook(request.user, person)
        .filter(scope=Scope.SHARED)
        .select_related("author", "author_structure")
    )
    page = liaison_selectors.newest_first(queryset, request.GET.get("apres"))
    liaison_services.mark_read(actor=request.user, transmissions=page.items)
    return render(
        request,
        "portal/user/notebook.html",
        page_context(request, person, page=page, form=form, can_write=can_write),
        status=400 if form is not None and form.errors else 200,
    )
