"""Consents and their history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from common.forms import add_service_errors
from coordination import access, rules, services
from coordination.models import (
    Category,
    CollectionMethod,
)
from portal.user_portal.forms import (
    ConsentForm,
)
from portal.user_portal.spaces import open_space, page_context, portal_page


@portal_page
def consents(request: HttpRequest) -> HttpResponse:
    """My decisions (DMP, consultation, partners) and their history; deciders record new ones."""
    person = open_space(request, Category.RECORD).person
    is_decider = rules.is_decider(request.user, person)
    form = ConsentForm(request.POST or None) if is_decider else None
    if request.method == "POST":
        if form is None:
            raise access.AccessDenied("Seule la personne ou son représentant légal peut prendre cette décision.")
        if form.is_valid():
            try:
                services.consent_record(
                    actor=request.user, person=person, collected_via=CollectionMethod.PORTAL, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Votre décision est enregistrée.")
                return redirect("portal_consents")
    history = person.consents.select_related("recorded_by").order_by("-recorded_at", "-pk")[:100]
    current = sorted(services.current_consents(person).values(), key=lambda c: (c.kind, c.partner))
    return render(
        request,
        "portal/user/consents.html",
        page_context(
            request,
            person,
            form=form,
            history=history,
            current=current,
            dmp_feeding_allowed=services.dmp_feeding_allowed(person),
        ),
        status=400 if form is not None and form.errors else 200,
    )
