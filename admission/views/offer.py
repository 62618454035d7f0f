"""The offer directory: search (every signed-in user), a structure's page, and the
offer's upkeep by the structure's administrators."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from admission import selectors, services
from admission.forms import OfferForm, OfferSearchForm
from admission.models import Offer
from admission.views import professional_required
from common.forms import add_service_errors
from coordination import access, rules

PAGE_SIZE = 20


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Structures by kind, place, public, service and places available, most relevant first."""
    form = OfferSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    offers = selectors.offer_search(
        kind=filters.get("kind", ""),
        department=filters.get("department", ""),
        postcode=filters.get("postcode", ""),
        public=filters.get("public", ""),
        age=filters.get("age"),
        service=filters.get("service"),
        with_places=filters.get("with_places", False),
        text=filters.get("q", ""),
    )
    page = Paginator(offers, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "admission/snippets/offer_results.html" if request.htmx else "admission/offer_search.html"
    return render(request, template, {"form": form, "page": page}, status=400 if form.errors else 200)


@login_required
def detail(request: HttpRequest, structure_id: int) -> HttpResponse:
    offer = get_object_or_404(
        Offer.objects.select_related("structure").prefetch_related("services"),
        structure_id=structure_id,
        is_published=True,
        structure__is_active=True,
    )
    can_edit = rules.administers_structure(request.user, offer.structure_id)
    return render(request, "admission/offer_detail.html", {"offer": offer, "can_edit": can_edit})


@professional_required
def edit(request: HttpRequest, structure_id: int) -> HttpResponse:
    """The structure's administrators keep its offer and its availability up to date."""
    structure = access.require_structure_admin(request.user, structure_id)
    offer = Offer.objects.filter(structure=structure).prefetch_related("services").first()
    initial = {"accepts_requests": True, "is_published": True}
    if offer is not None:
        initial = {name: getattr(offer, name) for name in services.OFFER_FIELDS}
        initial["services"] = list(offer.services.all())
    form = OfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen = data.pop("services")
        try:
            services.offer_save(actor=request.user, structure=structure, services=chosen, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Offre enregistrée : elle est à jour dans l'annuaire.")
            return redirect("admission:offer_edit", structure_id=structure.pk)
    return render(
        request,
        "admission/offer_edit.html",
        {"structure": structure, "offer": offer, "form": form},
        status=400 if form.errors else 200,
    )
