"""The directory of professionals, to add one to a person's circle: the person or their
legal representative adds them (no right until granted); another member with the
`circle` write proposes them (the person decides)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from admission import selectors
from admission.forms import DirectoryAddForm, DirectorySearchForm
from coordination import access, rules
from coordination import services as coordination
from coordination.models import Category, Person, Profession, Professional

PAGE_SIZE = 20


def _person(request: HttpRequest, person_id) -> tuple[Person, bool]:
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "write", path=request.path)
    return person, rules.is_decider(request.user, person)


def _back(request: HttpRequest, person: Person) -> str:
    if rules.is_professional(request.user):
        return reverse("coordination:circle", args=[person.pk])
    return reverse("portal_circle")


@login_required
def directory(request: HttpRequest, person_id: int) -> HttpResponse:
    person, is_decider = _person(request, person_id)
    form = DirectorySearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    professionals = selectors.professional_search(
        text=filters.get("q", ""), profession=filters.get("profession", ""), structure=filters.get("structure", "")
    )
    page = Paginator(professionals, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "admission/snippets/directory_results.html" if request.htmx else "admission/directory.html"
    return render(
        request,
        template,
        {
            "person": person,
            "is_decider": is_decider,
            "form": form,
            "page": page,
            "add_form": DirectoryAddForm(),
            "back": _back(request, person),
        },
    )


@login_required
@require_POST
def directory_add(request: HttpRequest, person_id: int, professional_id: int) -> HttpResponse:
    person, is_decider = _person(request, person_id)
    professional = get_object_or_404(
        Professional.objects.exclude(profession=Profession.SOFTWARE), pk=professional_id, is_active=True
    )
    form = DirectoryAddForm(request.POST)
    name = professional.user.get_full_name() or professional.user.email
    if not form.is_valid():
        messages.error(request, "Choisissez le rôle du professionnel auprès de la personne.")
        return redirect("admission:directory", person_id=person.pk)
    try:
        if is_decider:
            coordination.circle_member_add(
                actor=request.user, person=person, role=form.cleaned_data["role"], professional=professional
            )
            messages.success(
                request, f"{name} fait partie du cercle. Il ou elle n'a aucun droit tant que vous n'en donnez pas."
            )
        else:
            coordination.circle_invite(
                actor=request.user,
                person=person,
                professional=professional,
                role=form.cleaned_data["role"],
                message=form.cleaned_data["message"] or "Proposé depuis l'annuaire des professionnels.",
            )
            messages.success(request, f"{name} est proposé·e : la personne ou son représentant légal décidera.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("admission:directory", person_id=person.pk)
    return redirect(_back(request, person))
