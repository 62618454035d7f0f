"""Professionals' pages of the circle of care. Every person is loaded through the gate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access, matrix, news, rules, services
from coordination.forms import (
    AccessLogFilterForm,
    BreakGlassForm,
    CaseloadFilterForm,
    ConsentForm,
    DelegationForm,
    InviteForm,
    JoinRequestForm,
    MemberEndForm,
)
from coordination.models import (
    ACCESS_LOG,
    AccessLog,
    Accompaniment,
    BreakGlassAccess,
    BreakGlassNotice,
    Category,
    CircleMember,
    Delegation,
    DelegationStatus,
    JoinRequest,
    JoinRequestStatus,
    Level,
    Person,
    TeamMembership,
)

PAGE_SIZE = 25


def professional_required(view):
    """Pages of this module are for professionals; others get 404 (nothing to see here)."""

    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not rules.is_professional(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _active_accompaniments():
    return Prefetch(
        "accompaniments",
        queryset=Accompaniment.objects.filter(ended_on__isnull=True).select_related("structure"),
        to_attr="active_accompaniments",
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def _caseload_rows(persons) -> None:
    """What a caseload row shows, computed once per person in Python: 25 rows of
    `{% url %}`, date and pluralize filters cost more than these lines (bench/README.md,
    "in-process profile"). The template still escapes every value."""
    head, tail = reverse("coordination:person", args=[987654321]).split("987654321")
    for person in persons:
        person.overview_url = f"{head}{person.pk}{tail}"
        person.birth_label = f"{person.birth_date:%d/%m/%Y}" if person.birth_date else ""
        person.structures_label = ", ".join(a.structure.name for a in person.active_accompaniments) or "—"
        news = []
        if person.new_documents:
            news.append(_plural(person.new_documents, "document"))
        if person.new_transmissions:
            news.append(_plural(person.new_transmissions, "transmission"))
        person.news_label = ", ".join(news) or "—"


@professional_required
def caseload(request: HttpRequest) -> HttpResponse:
    """My caseload: persons whose record I may read, searchable and paginated."""
    form = CaseloadFilterForm(request.GET or None, user=request.user)
    delegate = access.holds_active_delegation(request.user)  # asked once for the list and its counters
    persons = access.persons_visible_to(request.user, Category.RECORD, delegate=delegate)
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            for word in query.split():
                persons = persons.filter(
                    Q(birth_name__icontains=word)
                    | Q(used_name__icontains=word)
                    | Q(first_name__icontains=word)
                    | Q(birth_first_names__icontains=word)
                )
        if form.cleaned_data["structure"]:
            persons = persons.filter(
                accompaniments__structure=form.cleaned_data["structure"], accompaniments__ended_on__isnull=True
            )
    persons = news.annotate_news(
        persons.prefetch_related(_active_accompaniments()), request.user, delegate=delegate
    ).order_by("birth_name", "birth_first_names", "pk")
    page = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("page"))
    access.log_many(request.user, page.object_list, Category.RECORD, path=request.path)
    _caseload_rows(page.object_list)
    template = "coordination/snippets/caseload_results.html" if request.htmx else "coordination/caseload.html"
    return render(request, template, {"form": form, "page": page})


@professional_required
def person_overview(request: HttpRequest, person_id: int) -> HttpResponse:
    """Identity, accompanying structures, circle with roles and my rights, pending requests."""
    # The access log's row and the visit in one transaction: one commit per page.
    with access.atomic_with_log():
        grant = access.require(request.user, person_id, Category.RECORD, "read", path=request.path)
        person = grant.person
        my_levels = access.effective_levels(request.user, person)
        can_see_circle = my_levels[Category.CIRCLE] >= Level.READ
        members = []
        pending = []
        if can_see_circle:
            members = list(
                CircleMember.objects.active()
                .filter(person=person)
                .select_related("user", "structure", "professional")
                .order_by("kind", "started_at")
            )
            pending = list(
                JoinRequest.objects.filter(person=person, status=JoinRequestStatus.PENDING).select_related(
                    "professional__user", "structure"
                )
            )
        accompaniments = person.accompaniments.select_related("structure").order_by("-started_on")
        # What is new since my last visit, counted before this visit is recorded. The
        # counters filter on this one person, so whether the user is the delegate of a
        # delegation in force on *this* person (the gate's query read it) gives the same
        # counts as on *anyone* (`holds_active_delegation`, one query more): a delegation
        # on another person adds nothing here, and the delegate's lists leave out only
        # archived records, for which the question is asked as before.
        delegate = grant.delegate_here if person.archived_at is None else None
        fresh = (
            news.annotate_news(type(person).objects.filter(pk=person.pk), request.user, delegate=delegate)
            .values(*[f"new_{key}" for key in news.keys()])
            .first()
            or {}
        )
        news.record_visit(user=request.user, person=person)
    glass = None
    if grant.via == "break_glass":
        glass = (
            BreakGlassAccess.objects.filter(user=request.user, person=person, expires_at__gt=timezone.now())
            .order_by("-expires_at")
            .first()
        )
    return render(
        request,
        "coordination/person_overview.html",
        {
            "person": person,
            "access": grant,
            "my_levels": [(c, label, my_levels[c]) for c, label in Category.choices],
            "members": members,
            "pending": pending,
            "accompaniments": accompaniments,
            "can_see_circle": can_see_circle,
            "new_documents": fresh.get("new_documents", 0),
            "new_transmissions": fresh.get("new_transmissions", 0),
            "glass": glass,
            "can_break_glass": grant.via != "break_glass"
            and rules.break_glass_structures(request.user, person).exists(),
        },
    )


@professional_required
def circle(request: HttpRequest, person_id: int) -> HttpResponse:
    """The circle with its matrix, history, delegations; end a membership, delegate."""
    grant = access.require(request.user, person_id, Category.CIRCLE, "read", path=request.path)
    person = grant.person
    members = matrix.with_levels(
        CircleMember.objects.filter(person=person)
        .select_related("user", "structure", "professional", "carer_link")
        .order_by("ended_at", "kind", "started_at"),
        person,
    )
    for member in members:
        member.matrix = [(c, label, member.levels[c]) for c, label in Category.choices]
    can_write = access.check(request.user, person, Category.CIRCLE, "write") is not None
    am_member = any(m.is_active and m.user_id == request.user.pk and m.kind == "professional" for m in members)
    delegations = (
        Delegation.objects.filter(person=person)
        .select_related("delegator__user", "delegate__user")
        .prefetch_related("grants")
        .order_by("-created_at")
    )
    return render(
        request,
        "coordination/circle.html",
        {
            "person": person,
            "active_members": [m for m in members if m.is_active],
            "past_members": [m for m in members if not m.is_active],
            "categories": Category.choices,
            "can_write": can_write,
            "end_form": MemberEndForm(),
            "invite_form": InviteForm() if can_write else None,
            "delegations": delegations,
            "delegation_form": DelegationForm(user=request.user) if am_member else None,
            "now": timezone.now(),
            "DelegationStatus": DelegationStatus,
        },
    )


@professional_required
@require_POST
def member_end(request: HttpRequest, person_id: int, member_id: int) -> HttpResponse:
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "write", path=request.path)
    member = get_object_or_404(CircleMember, pk=member_id, person=person)
    form = MemberEndForm(request.POST)
    if form.is_valid():
        try:
            services.circle_member_end(actor=request.user, member=member, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{member.display_name} ne fait plus partie du cercle.")
    return redirect("coordination:circle", person_id=person.pk)


@professional_required
def delegation_create(request: HttpRequest, person_id: int) -> HttpResponse:
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "read", path=request.path)
    form = DelegationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(
                actor=request.user,
                person=person,
                delegate=form.cleaned_data["delegate"],
                levels=form.levels(),
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                "Délégation enregistrée. Elle s'appliquera quand la personne ou son représentant l'aura acceptée.",
            )
            return redirect("coordination:circle", person_id=person.pk)
    return render(
        request,
        "coordination/delegation_form.html",
        {"person": person, "form": form},
        status=400 if form.errors else 200,
    )


@professional_required
@require_POST
def delegation_revoke(request: HttpRequest, person_id: int, delegation_id: int) -> HttpResponse:
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "read", path=request.path)
    delegation = get_object_or_404(Delegation, pk=delegation_id, person=person)
    try:
        services.delegation_revoke(actor=request.user, delegation=delegation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Délégation révoquée.")
    return redirect("coordination:circle", person_id=person.pk)


@professional_required
def join_request(request: HttpRequest) -> HttpResponse:
    """Ask to join a person's circle. The answer never says whether the person exists."""
    form = JoinRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = services.find_person_for_request(
            ins_matricule=data["ins_matricule"],
            birth_name=data["birth_name"],
            birth_date=data["birth_date"],
            first_name=data["first_name"],
        )
        if person is not None:
            try:
                services.join_request_create(
                    actor=request.user,
                    person=person,
                    role=data["role"],
                    message=data["message"],
                    structure=data["structure"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
                return render(
                    request,
                    "coordination/join_request.html",
                    {"form": form, "mine": _my_requests(request.user)},
                    status=400,
                )
        messages.success(
            request,
            "Votre demande a été transmise si la personne est connue. Elle ou son représentant légal y répondra.",
        )
        return redirect("coordination:join_request")
    return render(
        request,
        "coordination/join_request.html",
        {"form": form, "mine": _my_requests(request.user)},
        status=400 if form.errors else 200,
    )


def _my_requests(user):
    # Only answered requests: listing a pending one would tell that the person exists.
    return (
        JoinRequest.objects.filter(professional__user=user)
        .exclude(status=JoinRequestStatus.PENDING)
        .select_related("person")
        .order_by("-created_at")[:20]
    )


def _told(glass: BreakGlassAccess) -> str:
    """Who was actually told of the opening, in the words of the record."""
    if glass.notice == BreakGlassNotice.CIRCLE:
        return "La personne, ses représentants légaux ou les référents de la structure en sont informés."
    if glass.notice == BreakGlassNotice.STRUCTURE_ADMINS:
        return (
            "La personne n'a ni compte ni référent à prévenir : "
            "les administrateurs de la structure en sont informés à sa place."
        )
    return "Personne n'a pu être prévenu (aucun compte à prévenir) : l'ouverture reste tracée."


@professional_required
def break_glass(request: HttpRequest, person_id: int) -> HttpResponse:
    """Emergency read access with a written reason (only via an accompanying structure)."""

    person = get_object_or_404(Person, pk=person_id)
    if not rules.break_glass_structures(request.user, person).exists():
        raise Http404
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            glass = services.break_glass_open(actor=request.user, person=person, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.warning(
                request, f"Accès en urgence ouvert en lecture. Chaque consultation est tracée. {_told(glass)}"
            )
            return redirect("coordination:person", person_id=person.pk)
    return render(
        request, "coordination/break_glass.html", {"person": person, "form": form}, status=400 if form.errors else 200
    )


@professional_required
def structure_access_log(request: HttpRequest, structure_id: int) -> HttpResponse:
    """For a structure's administrators: who accessed the records of the persons it accompanies."""
    structure = access.require_structure_admin(request.user, structure_id)
    form = AccessLogFilterForm(request.GET or None)
    logs = (
        AccessLog.objects.filter(
            person__accompaniments__structure=structure, person__accompaniments__ended_on__isnull=True
        )
        .select_related("user", "person")
        .order_by("-at", "-pk")
    )
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            logs = logs.filter(
                Q(person__birth_name__icontains=query)
                | Q(person__used_name__icontains=query)
                | Q(user__last_name__icontains=query)
                | Q(user__email__icontains=query)
            )
        if form.cleaned_data["via"]:
            logs = logs.filter(via=form.cleaned_data["via"])
        if form.cleaned_data["since"]:
            logs = logs.filter(at__date__gte=form.cleaned_data["since"])
    page = Paginator(logs, 50).get_page(request.GET.get("page"))
    # Reading these traces is itself traced, for each person shown.
    access.log_many(request.user, {log.person for log in page.object_list}, ACCESS_LOG, path=request.path)
    return render(
        request, "coordination/structure_access_log.html", {"structure": structure, "form": form, "page": page}
    )


@professional_required
def my_structures(request: HttpRequest) -> HttpResponse:
    memberships = (
        TeamMembership.objects.filter(professional__user=request.user, ended_on__isnull=True)
        .select_related("structure")
        .order_by("structure__name")
    )
    return render(request, "coordination/my_structures.html", {"memberships": memberships})


@professional_required
def invite(request: HttpRequest, person_id: int) -> HttpResponse:
    """A member with `circle` write proposes a colleague; the person decides."""
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "write", path=request.path)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.circle_invite(actor=request.user, person=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Proposition envoyée : la personne ou son représentant légal l'acceptera ou la refusera."
            )
            return redirect("coordination:circle", person_id=person.pk)
    return render(
        request, "coordination/invite.html", {"person": person, "form": form}, status=400 if form.errors else 200
    )


@professional_required
def consents(request: HttpRequest, person_id: int) -> HttpResponse:
    """Current decisions and their full history; record a decision collected by a professional."""
    action = "write" if request.method == "POST" else "read"
    person = access.get_person_or_404(request.user, person_id, Category.RECORD, action, path=request.path)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=request.user, person=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Décision enregistrée.")
            return redirect("coordination:consents", person_id=person.pk)
    history = person.consents.select_related("recorded_by").order_by("-recorded_at", "-pk")
    current = services.current_consents(person)
    can_write = access.check(request.user, person, Category.RECORD, "write") is not None
    return render(
        request,
        "coordination/consents.html",
        {
            "person": person,
            "form": form if can_write else None,
            "history": history,
            "current": sorted(current.values(), key=lambda c: (c.kind, c.partner)),
            "dmp_feeding_allowed": services.dmp_feeding_allowed(person),
        },
        status=400 if form.errors else 200,
    )
