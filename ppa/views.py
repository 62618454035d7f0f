"""Pages of the projet personnalisé, for professionals (the person and carers with the
`ppa` write right use the same pages for their expectations and comments).

Every page loads the person through the gate (category `ppa`); every write calls a
service. Section forms post with HTMX and get their section back; without JavaScript
they post and redirect to the version page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access
from coordination.models import Category, Structure, TeamMembership
from ppa import documents, selectors, services
from ppa.forms import (
    ActionForm,
    AmendForm,
    CommentForm,
    DiffForm,
    ExpectationsForm,
    MdphSheetFileForm,
    MdphSheetForm,
    NeedForm,
    ObjectiveForm,
    SignForm,
    TextSectionForm,
)
from ppa.models import EXPECTATION_FIELDS, Action, Need, Objective, Plan, PlanVersion, Section
from ppa.services import PlanFrozen
from reference import selectors as reference_selectors
from reference.models import SerafinKind


def _person_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _version(request, version_id: int, action: str = "read") -> PlanVersion:
    """The version, through the gate (a stranger gets 404 whatever the id)."""
    version = get_object_or_404(PlanVersion.objects.select_related("plan__person"), pk=version_id)
    access.require(request.user, version.plan.person, Category.PPA, action, path=request.path)
    return version


def _loaded(version: PlanVersion) -> PlanVersion:
    return selectors.with_sections(PlanVersion.objects.filter(pk=version.pk)).get()


def _section_context(request, version: PlanVersion, forms: dict | None = None) -> dict:
    person = version.plan.person
    can_write = access.check(request.user, person, Category.PPA, "write") is not None
    person_side = services.is_person_side(request.user, person)
    is_draft = version.is_draft
    contributions: dict[str, list] = {s: [] for s in Section.values}
    for contribution in version.contributions.all():
        contributions[contribution.section].append(contribution)
    forms = forms or {}
    can_edit_pro = is_draft and can_write and not person_side and request.user.is_professional
    context = {
        "person": person,
        "version": version,
        "plan": version.plan,
        "is_draft": is_draft,
        "can_write": can_write and is_draft,
        "can_edit_pro": can_edit_pro,
        "contributions": contributions,
        "sections": Section,
        "expectations": [
            (PlanVersion._meta.get_field(n).verbose_name, getattr(version, n)) for n in EXPECTATION_FIELDS
        ],
    }
    if is_draft and can_write:
        context["expectations_form"] = forms.get("expectations") or ExpectationsForm.for_version(version)
        context["comment_form"] = forms.get("comment") or CommentForm(prefix="commentaire")
    if can_edit_pro:
        context["need_form"] = forms.get("need") or NeedForm(prefix="besoin")
        context["objective_form"] = forms.get("objective") or ObjectiveForm(prefix="objectif", version=version)
        context["action_form"] = forms.get("action") or ActionForm(prefix="modalite", version=version)
        context["resources_form"] = forms.get("resources") or TextSectionForm(
            prefix="ressources", initial={"text": version.resources}
        )
        context["remarks_form"] = forms.get("remarks") or TextSectionForm(
            prefix="remarques", initial={"text": version.remarks}
        )
    return context


DEPENDENT_SECTIONS = {
    Section.NEEDS: (Section.OBJECTIVES, Section.ACTIONS),
    Section.OBJECTIVES: (Section.ACTIONS,),
}


def _section_response(
    request, version: PlanVersion, section: str, *, forms: dict | None = None, done: str = "", status: int = 200
) -> HttpResponse:
    """HTMX: the section, refreshed. Otherwise: back to the version page (or the page
    with the errors, status 400)."""
    version = _loaded(version)
    context = _section_context(request, version, forms)
    if request.htmx:
        context.update(section=section, htmx_messages=[done] if done else [])
        # A need feeds the objective form, an objective the action form: after a change,
        # the sections that list them are swapped out of band so their forms are current.
        context["dependent_sections"] = DEPENDENT_SECTIONS.get(section, ()) if status == 200 else ()
        return render(request, "ppa/snippets/section_response.html", context, status=status)
    if status != 200:
        return render(request, "ppa/version.html", _page_context(request, version, context), status=status)
    if done:
        messages.success(request, done)
    return redirect(reverse("ppa:version", args=[version.pk]) + f"#{section}")


def _frozen(request, version: PlanVersion, error: ValidationError, section: str) -> HttpResponse:
    """The version cannot change: say so plainly, change nothing (409; 400 for HTMX,
    which swaps 400 answers only)."""
    context = _section_context(request, _loaded(version))
    context.update(section=section, htmx_errors=error.messages)
    if request.htmx:
        return render(request, "ppa/snippets/section.html", context, status=400)
    return render(request, "ppa/version.html", _page_context(request, context["version"], context), status=409)


def _page_context(request, version: PlanVersion, context: dict | None = None) -> dict:
    context = context or _section_context(request, version)
    person = version.plan.person
    roles = services.sign_roles_for(request.user, person) if version.status == "submitted" else []
    signed = {s.role for s in version.sign_offs.all()}
    context.update(
        sign_form=SignForm(initial={"role": roles[0]}) if [r for r in roles if r not in signed] else None,
        sign_roles=[r for r in roles if r not in signed],
        section_list=[(s.value, s.label) for s in Section],
    )
    context.update(_document_context(request, version))
    return context


def _document_context(request, version: PlanVersion) -> dict:
    """The link to the version's PDF in the documents (for who may read documents), or
    the button to file it when it is missing (a professional who may write them)."""
    if not version.is_frozen:
        return {}
    person = version.plan.person
    rights = access.check(request.user, person, Category.DOCUMENTS, "read")
    if rights is None:
        return {}
    if version.document_id:
        url = (
            reverse("documents:detail", args=[version.document_id])
            if request.user.is_professional
            else reverse("portal_space_open", args=[person.pk, "documents"])
        )
        return {"plan_document_url": url}
    can_file = (
        request.user.is_professional and access.check(request.user, person, Category.DOCUMENTS, "write") is not None
    )
    return {"plan_document_missing": True, "can_file_document": can_file}


# --- Pages ------------------------------------------------------------------------------------


@login_required
def plan(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's plan: the version in force, the open draft or amendment, the history."""
    grant = access.require(
        request.user, _person_id(person_id), Category.PPA, "read", path=request.path, probe_write=True
    )
    person = grant.person
    the_plan = Plan.objects.filter(person=person).first()
    context = {
        "person": person,
        "plan": the_plan,
        "can_write": grant.can_write,
        "is_professional": request.user.is_professional,
    }
    if the_plan is not None:
        current = selectors.current_version(the_plan)
        context.update(
            current=_loaded(current) if current else None,
            open=selectors.open_version(the_plan),
            versions=selectors.versions_of(the_plan),
        )
        if context["current"] is not None:
            context.update(_section_context(request, context["current"]))
            context["can_write"] = grant.can_write
    return render(request, "ppa/plan.html", context)


@login_required
@require_POST
def plan_create(request: HttpRequest, person_id: int) -> HttpResponse:
    person = access.get_person_or_404(request.user, person_id, Category.PPA, "write", path=request.path)
    try:
        the_plan = services.plan_create(actor=request.user, person=person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("ppa:plan", person_id=person.pk)
    messages.success(request, "Projet personnalisé commencé : complétez le brouillon.")
    return redirect("ppa:version", version_id=the_plan.versions.get().pk)


@login_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _loaded(_version(request, version_id))
    return render(request, "ppa/version.html", _page_context(request, version))


def _edit(request, version_id: int, section: str, form_key: str, build, call, done: str) -> HttpResponse:
    """A section edit: the form, then the service; frozen → the clear message."""
    version = _version(request, version_id, "write")
    form = build(version)
    if not form.is_valid():
        return _section_response(request, version, section, forms={form_key: form}, status=400)
    try:
        call(version, form.cleaned_data)
    except PlanFrozen as error:
        return _frozen(request, version, error, section)
    except ValidationError as error:
        add_service_errors(form, error)
        return _section_response(request, version, section, forms={form_key: form}, status=400)
    return _section_response(request, version, section, done=done)


@login_required
@require_POST
def expectations_edit(request: HttpRequest, version_id: int) -> HttpResponse:
    return _edit(
        request,
        version_id,
        Section.EXPECTATIONS,
        "expectations",
        lambda v: ExpectationsForm(request.POST, prefix="attentes"),
        lambda v, data: services.expectations_update(actor=request.user, version=v, **data),
        "Attentes enregistrées.",
    )


@login_required
@require_POST
def text_edit(request: HttpRequest, version_id: int, section: str) -> HttpResponse:
    if section not in (Section.RESOURCES, Section.REMARKS):
        raise Http404
    prefix = "ressources" if section == Section.RESOURCES else "remarques"
    return _edit(
        request,
        version_id,
        section,
        section,
        lambda v: TextSectionForm(request.POST, prefix=prefix),
        lambda v, data: services.text_section_update(actor=request.user, version=v, section=section, text=data["text"]),
        "Enregistré.",
    )


@login_required
@require_POST
def comment_add(request: HttpRequest, version_id: int) -> HttpResponse:
    section = request.POST.get("commentaire-section") or Section.REMARKS
    section = section if section in Section.values else Section.REMARKS
    return _edit(
        request,
        version_id,
        section,
        "comment",
        lambda v: CommentForm(request.POST, prefix="commentaire"),
        lambda v, data: services.comment_add(actor=request.user, version=v, **data),
        "Commentaire ajouté.",
    )


@login_required
@require_POST
def need_add(request: HttpRequest, version_id: int) -> HttpResponse:
    return _edit(
        request,
        version_id,
        Section.NEEDS,
        "need",
        lambda v: NeedForm(request.POST, prefix="besoin"),
        lambda v, data: services.need_add(actor=request.user, version=v, **data),
        "Besoin ajouté.",
    )


@login_required
@require_POST
def objective_add(request: HttpRequest, version_id: int) -> HttpResponse:
    return _edit(
        request,
        version_id,
        Section.OBJECTIVES,
        "objective",
        lambda v: ObjectiveForm(request.POST, prefix="objectif", version=v),
        lambda v, data: services.objective_add(actor=request.user, version=v, **data),
        "Objectif ajouté.",
    )


@login_required
@require_POST
def action_add(request: HttpRequest, version_id: int) -> HttpResponse:
    return _edit(
        request,
        version_id,
        Section.ACTIONS,
        "action",
        lambda v: ActionForm(request.POST, prefix="modalite", version=v),
        lambda v, data: services.action_add(actor=request.user, version=v, **data),
        "Modalité ajoutée.",
    )


@login_required
def objective_edit(request: HttpRequest, objective_id: int) -> HttpResponse:
    """Edit one objective (its status and note too), on its own page."""
    objective = get_object_or_404(Objective.objects.select_related("version__plan__person"), pk=objective_id)
    version = objective.version
    access.require(
        request.user,
        version.plan.person,
        Category.PPA,
        "write" if request.method == "POST" else "read",
        path=request.path,
    )
    initial = {
        "title": objective.title,
        "needs": list(objective.needs.all()),
        "indicator": objective.indicator,
        "target_on": objective.target_on,
        "status": objective.status,
        "status_note": objective.status_note,
    }
    form = ObjectiveForm(request.POST or None, initial=initial, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_update(actor=request.user, objective=objective, **form.cleaned_data)
        except PlanFrozen as error:
            messages.error(request, " ".join(error.messages))
            return redirect("ppa:version", version_id=version.pk)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Objectif enregistré.")
            return redirect(reverse("ppa:version", args=[version.pk]) + "#objectives")
    return render(
        request,
        "ppa/objective_edit.html",
        {"form": form, "objective": objective, "version": version, "person": version.plan.person},
        status=400 if request.method == "POST" else 200,
    )


def _remove(request, model, pk: int, section: str, call, done: str) -> HttpResponse:
    item = get_object_or_404(model.objects.select_related("version__plan__person"), pk=pk)
    version = _version(request, item.version_id, "write")
    try:
        call(item)
    except PlanFrozen as error:
        return _frozen(request, version, error, section)
    return _section_response(request, version, section, done=done)


@login_required
@require_POST
def need_remove(request: HttpRequest, need_id: int) -> HttpResponse:
    return _remove(
        request,
        Need,
        need_id,
        Section.NEEDS,
        lambda n: services.need_remove(actor=request.user, need=n),
        "Besoin retiré.",
    )


@login_required
@require_POST
def objective_remove(request: HttpRequest, objective_id: int) -> HttpResponse:
    return _remove(
        request,
        Objective,
        objective_id,
        Section.OBJECTIVES,
        lambda o: services.objective_remove(actor=request.user, objective=o),
        "Objectif retiré.",
    )


@login_required
@require_POST
def action_remove(request: HttpRequest, action_id: int) -> HttpResponse:
    return _remove(
        request,
        Action,
        action_id,
        Section.ACTIONS,
        lambda a: services.action_remove(actor=request.user, action=a),
        "Modalité retirée.",
    )


def _workflow(request, version: PlanVersion, call, done: str) -> HttpResponse:
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("ppa:version", version_id=version.pk)


@login_required
@require_POST
def submit(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version(request, version_id, "write")
    return _workflow(
        request,
        version,
        lambda: services.plan_submit(actor=request.user, version=version),
        "Projet soumis à validation : il attend les signatures.",
    )


@login_required
@require_POST
def sign(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version(request, version_id)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez à quel titre vous signez.")
        return redirect("ppa:version", version_id=version.pk)
    return _workflow(
        request,
        version,
        lambda: services.plan_sign(actor=request.user, version=version, role=form.cleaned_data["role"]),
        "Signature enregistrée.",
    )


@login_required
def amend(request: HttpRequest, person_id: int) -> HttpResponse:
    person = access.get_person_or_404(
        request.user, person_id, Category.PPA, "write" if request.method == "POST" else "read", path=request.path
    )
    the_plan = get_object_or_404(Plan, person=person)
    form = AmendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.plan_amend(actor=request.user, plan=the_plan, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Avenant ouvert : il reprend la version en vigueur.")
            return redirect("ppa:version", version_id=version.pk)
    return render(
        request,
        "ppa/amend.html",
        {"form": form, "person": person, "plan": the_plan},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def history(request: HttpRequest, person_id: int) -> HttpResponse:
    """Version history and the diff between any two versions, section by section."""
    person = access.get_person_or_404(request.user, person_id, Category.PPA, "read", path=request.path)
    the_plan = get_object_or_404(Plan, person=person)
    versions = the_plan.versions.order_by("-number")
    form = DiffForm(request.GET or None, versions=versions)
    diff = old = new = None
    if form.is_valid():
        old, new = (_loaded(form.cleaned_data[k]) for k in ("old", "new"))
        diff = selectors.version_diff(old, new)
    return render(
        request,
        "ppa/history.html",
        {"person": person, "plan": the_plan, "versions": versions, "form": form, "diff": diff, "old": old, "new": new},
    )


@login_required
@require_POST
def events_generate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = _version(request, version_id, "write")
    try:
        result = services.plan_events_generate(actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Agenda mis à jour : {result.created} série(s) créée(s), "
            f"{result.ended} arrêtée(s), {result.kept} inchangée(s).",
        )
    return redirect("ppa:version", version_id=version.pk)


@login_required
def mdph_sheet(request: HttpRequest, version_id: int) -> HttpResponse:
    """The MDPH liaison sheet, printable (the documents block will file and send it)."""
    version = _version(request, version_id, "write")
    if not request.user.is_professional:
        raise access.AccessDenied("La fiche de liaison MDPH est préparée par un professionnel.")
    # A preview, posted: the health text typed here stays out of the URL, the server's
    # log and the browser's history (#16). It changes nothing, so it renders, no redirect.
    form = MdphSheetForm(request.POST if request.method == "POST" else None)
    sheet = file_form = None
    person = version.plan.person
    if form.is_valid():
        sheet = services.mdph_sheet_build(version, **form.cleaned_data)
        if access.check(request.user, person, Category.DOCUMENTS, "write") is not None:
            address = documents.mdph_address(person)
            file_form = MdphSheetFileForm(
                initial={**form.cleaned_data, "send": bool(address), "recipient_address": address}
            )
    return render(
        request,
        "ppa/mdph_sheet.html",
        {"form": form, "sheet": sheet, "version": version, "person": person, "file_form": file_form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
@require_POST
def mdph_sheet_file(request: HttpRequest, version_id: int) -> HttpResponse:
    """File the MDPH liaison sheet as a document and, if asked, send it by MSSanté."""
    version = _version(request, version_id, "write")
    person = version.plan.person
    form = MdphSheetFileForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            document, sending = documents.mdph_sheet_file(
                actor=request.user,
                version=version,
                change=data["change"],
                reason=data["reason"],
                recipient_address=data["recipient_address"] if data["send"] else "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Fiche de liaison déposée dans les documents"
                + (" ; son envoi par messagerie sécurisée est en cours." if sending else "."),
            )
            return redirect("documents:detail", document.pk)
    sheet = services.mdph_sheet_build(
        version, change=request.POST.get("change", ""), reason=request.POST.get("reason", "")
    )
    return render(
        request,
        "ppa/mdph_sheet.html",
        {"form": MdphSheetForm(), "sheet": sheet, "version": version, "person": person, "file_form": form},
        status=400,
    )


@login_required
@require_POST
def document_file(request: HttpRequest, version_id: int) -> HttpResponse:
    """File the validated version's PDF when the automatic filing could not."""
    version = _version(request, version_id, "read")
    if not request.user.is_professional:
        raise access.AccessDenied("Le projet est déposé dans les documents par un professionnel.")
    try:
        document = documents.plan_document_file(actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("ppa:version", version_id=version.pk)
    messages.success(request, "Le projet personnalisé est dans les documents.")
    return redirect("documents:detail", document.pk)


@login_required
def overdue(request: HttpRequest, structure_id: int | None = None) -> HttpResponse:
    """Reviews past due, for each of my structures (or one of them)."""
    teams = TeamMembership.objects.filter(professional__user=request.user, ended_on__isnull=True)
    structures = Structure.objects.filter(pk__in=teams.values("structure_id")).order_by("name")
    if structure_id is not None:
        structures = structures.filter(pk=structure_id)
        if not structures.exists():
            raise Http404
    groups = []
    for structure in structures:
        rows = list(selectors.overdue_reviews(request.user, structure))
        groups.append((structure, rows))
    access.log_many(
        request.user,
        list({v.plan.person_id: v.plan.person for _s, rows in groups for v in rows}.values()),
        Category.PPA,
        path=request.path,
    )
    return render(request, "ppa/overdue.html", {"groups": groups})


@login_required
def serafin_search(request: HttpRequest) -> HttpResponse:
    """Search the SERAFIN-PH nomenclature by code or words of the label (accents
    ignored). HTMX: the options of the select; otherwise a page listing the codes."""
    kind = request.GET.get("kind") if request.GET.get("kind") in SerafinKind.values else None
    query = request.GET.get("q", "")[:100]
    codes = list(reference_selectors.serafin_search(query, kind))
    if request.htmx:
        return render(request, "ppa/snippets/serafin_options.html", {"codes": codes, "query": query})
    return render(
        request, "ppa/serafin.html", {"codes": codes, "query": query, "kind": kind, "kinds": SerafinKind.choices}
    )
