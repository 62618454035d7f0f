"""Taking a person in (structure staff): the intake form with duplicate detection, and
the end of an accompaniment. Every person is loaded through the gate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from admission import selectors, services
from admission.forms import AccompanimentEndForm, AdmitForm, InviteeFormSet
from admission.views import professional_required
from common.forms import add_service_errors
from coordination import access
from coordination.models import Accompaniment, Category, Person


def _invitees(form: AdmitForm, formset) -> list[services.Invitee]:
    invitees = []
    if form.cleaned_data.get("invite_person") and form.cleaned_data.get("email"):
        invitees.append(services.Invitee(email=form.cleaned_data["email"]))
    for row in formset.cleaned_data:
        if row.get("email"):
            invitees.append(services.Invitee(email=row["email"], relationship=row["relationship"]))
    return invitees


def _done(request: HttpRequest, result: services.AdmitResult, structure) -> HttpResponse:
    messages.success(
        request,
        f"{result.person.display_name} est accompagné·e par {structure.name} depuis le "
        f"{result.accompaniment.started_on:%d/%m/%Y} ; l'équipe est entrée dans son cercle.",
    )
    if result.invited:
        messages.success(request, f"Invitation au portail envoyée à : {', '.join(result.invited)}.")
    if result.not_invited:
        messages.warning(
            request,
            f"Invitation non envoyée à : {', '.join(result.not_invited)}. Un référent peut l'envoyer depuis la "
            "page de la personne (il faut le droit d'écriture sur le cercle).",
        )
    return redirect("coordination:person", person_id=result.person.pk)


@professional_required
def admit(request: HttpRequest) -> HttpResponse:
    """Identity, INS, contact, carers to invite, start of the accompaniment. Before
    creating, possible duplicates: one the user may see is shown with a button to take
    that person in; one they may not see is never named — it goes to an administrator."""
    structures = selectors.admitting_structures(request.user).order_by("name")
    if not structures.exists():
        raise Http404
    form = AdmitForm(request.POST or None, structures=structures)
    formset = InviteeFormSet(request.POST or None, prefix="proches")
    duplicates = None
    if request.method == "POST":
        # Both validated, so that every error shows at once.
        form_valid, formset_valid = form.is_valid(), formset.is_valid()
        if form_valid and formset_valid:
            structure = form.cleaned_data["structure"]
            traits = form.traits()
            started_on = form.cleaned_data["started_on"]
            invitees = _invitees(form, formset)
            try:
                if request.POST.get("link"):
                    person = get_object_or_404(
                        access.persons_visible_to(request.user, Category.RECORD), pk=request.POST["link"]
                    )
                    result = services.person_link(
                        actor=request.user, structure=structure, person=person, started_on=started_on, invitees=invitees
                    )
                    return _done(request, result, structure)
                if request.POST.get("review"):
                    services.identity_review_ask(
                        actor=request.user, structure=structure, started_on=started_on, **traits
                    )
                    messages.success(
                        request,
                        "Demande transmise à un administrateur du portail : il vérifiera l'identité et fera le "
                        "rattachement. Rien n'a été créé.",
                    )
                    return redirect("admission:admit")
                duplicates = selectors.find_duplicates(
                    request.user,
                    ins_matricule=traits["ins_matricule"],
                    birth_name=traits["birth_name"],
                    birth_date=traits["birth_date"],
                    sex=traits["sex"],
                    birth_place_insee=traits["birth_place_insee"],
                )
                confirm_new = request.POST.get("confirm_new") == "1"
                if duplicates.hidden or (duplicates.visible and not confirm_new):
                    return render(
                        request,
                        "admission/admit.html",
                        {"form": form, "formset": formset, "duplicates": duplicates},
                        status=409,
                    )
                result = services.person_admit(
                    actor=request.user,
                    structure=structure,
                    started_on=started_on,
                    invitees=invitees,
                    confirm_new=confirm_new,
                    **traits,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return _done(request, result, structure)
    return render(
        request,
        "admission/admit.html",
        {"form": form, "formset": formset, "duplicates": duplicates},
        status=400 if request.method == "POST" else 200,
    )


@professional_required
def accompaniments(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's accompaniments; the staff of a structure end its own."""
    person: Person = access.get_person_or_404(request.user, person_id, Category.RECORD, "read", path=request.path)
    mine = set(selectors.admitting_structures(request.user).values_list("pk", flat=True))
    rows = list(person.accompaniments.select_related("structure").order_by("-started_on", "-pk"))
    for row in rows:
        row.end_form = (
            AccompanimentEndForm(prefix=f"a{row.pk}") if row.ended_on is None and row.structure_id in mine else None
        )
    return render(request, "admission/accompaniments.html", {"person": person, "rows": rows})


@professional_required
@require_POST
def accompaniment_end(request: HttpRequest, person_id: int, accompaniment_id: int) -> HttpResponse:
    person: Person = access.get_person_or_404(request.user, person_id, Category.RECORD, "read", path=request.path)
    accompaniment = get_object_or_404(Accompaniment, pk=accompaniment_id, person=person)
    if not selectors.admits_for(request.user, accompaniment.structure_id):
        raise Http404
    form = AccompanimentEndForm(request.POST, prefix=f"a{accompaniment.pk}")
    if form.is_valid():
        try:
            services.accompaniment_close(actor=request.user, accompaniment=accompaniment, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Accompagnement par {accompaniment.structure.name} terminé le "
                f"{form.cleaned_data['ended_on']:%d/%m/%Y} ; son équipe a quitté le cercle.",
            )
            return redirect("admission:accompaniments", person_id=person.pk)
    rows = list(person.accompaniments.select_related("structure").order_by("-started_on", "-pk"))
    for row in rows:
        row.end_form = form if row.pk == accompaniment.pk else None
    return render(request, "admission/accompaniments.html", {"person": person, "rows": rows}, status=400)
