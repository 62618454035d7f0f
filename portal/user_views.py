"""The user portal: the person and their carers see, answer and decide.

Whose space is shown is kept in the session (`portal_person_id`) and checked by the
access gate on every request: a stranger gets 404, a carer without the right a 403 with
a plain reason. Writes go through the circle, consent and liaison services, which
record as whom the user acted (themself, legal representative, granted right).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from common.notify import catalogue
from coordination import access, services
from coordination.models import (
    AccessLog,
    AccessVia,
    BreakGlassAccess,
    Category,
    CircleMember,
    CircleRole,
    CollectionMethod,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    EndReason,
    Grant,
    JoinRequest,
    JoinRequestStatus,
    Level,
    MemberKind,
    Person,
)
from liaison import selectors as liaison_selectors
from liaison import services as liaison_services
from liaison.models import Scope
from notifications.models import Notification
from portal import invitations
from portal.user_forms import (
    AnswerForm,
    ConsentForm,
    GrantsForm,
    InvitationForm,
    MemberEndForm,
    ObservationForm,
    SetPasswordForm,
    SpaceForm,
    level_sentence,
)

SESSION_KEY = "portal_person_id"
LOG_PAGE_SIZE = 30
HOME_TRANSMISSIONS = 5

_VERB = {"read": "a consulté", "write": "a modifié"}
_WHAT = {
    Category.RECORD: "votre dossier",
    Category.AGENDA: "votre agenda",
    Category.LIAISON: "votre cahier de liaison",
    Category.PPA: "votre projet personnalisé",
    Category.DOCUMENTS: "vos documents",
    Category.CIRCLE: "votre cercle et vos droits",
}


# --- Whose space ---------------------------------------------------------------------------


def spaces(user):
    """The persons whose space `user` may open: themself, and persons they are a carer of."""
    return (
        Person.objects.filter(Q(user=user) | Q(carer_links__user=user, carer_links__ended_on__isnull=True))
        .distinct()
        .order_by("birth_name", "first_name")
    )


def _current_person_id(request: HttpRequest) -> int | None:
    """The chosen space, else the only one. None when the user must choose (or has none)."""
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        return int(chosen)
    ids = list(spaces(request.user).values_list("pk", flat=True)[:2])
    if len(ids) == 1:
        request.session[SESSION_KEY] = ids[0]
        return ids[0]
    if not ids:
        raise Http404
    return None


class ChooseSpace(Exception):
    pass


def _open(request: HttpRequest, category: str, action: str = "read", *, probe_write: bool = False):
    """The gate on the current space (404 for a stranger, 403 without the right)."""
    person_id = _current_person_id(request)
    if person_id is None:
        raise ChooseSpace
    return access.require(request.user, person_id, category, action, path=request.path, probe_write=probe_write)


def portal_page(view):
    """Signed-in users only; send a carer of several persons to the space chooser."""

    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ChooseSpace:
            return redirect("portal_spaces")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _context(request: HttpRequest, person: Person, **extra) -> dict:
    is_self = person.user_id == request.user.pk
    return {
        "person": person,
        "is_self": is_self,
        "is_decider": access.is_decider(request.user, person),
        "space_count": spaces(request.user).count(),
        **extra,
    }


@portal_page
def space_choose(request: HttpRequest) -> HttpResponse:
    """A carer of several persons picks whose space they are in."""
    mine = list(spaces(request.user))
    if request.method == "POST":
        form = SpaceForm(request.POST)
        if not form.is_valid() or form.cleaned_data["person"] not in {p.pk for p in mine}:
            raise Http404
        request.session[SESSION_KEY] = form.cleaned_data["person"]
        return redirect("portal_home")
    return render(request, "portal/user/spaces.html", {"spaces": mine, "current": request.session.get(SESSION_KEY)})


# Pages a link from outside the portal (a notification, an e-mail) may open in a given
# person's space: the link carries the person, the session then remembers the space.
SPACE_PAGES = {
    "accueil": "portal_home",
    "documents": "portal_documents",
    "agenda": "portal_agenda",
    "projet": "portal_ppa",
    "cahier-de-liaison": "portal_notebook",
    "cercle": "portal_circle",
}


@login_required
def space_open(request: HttpRequest, person_id: int, page: str) -> HttpResponse:
    """Open `page` in the space of `person_id` (404 unless it is one of my spaces)."""
    if page not in SPACE_PAGES or not spaces(request.user).filter(pk=person_id).exists():
        raise Http404
    request.session[SESSION_KEY] = person_id
    return redirect(SPACE_PAGES[page])


# --- Home -----------------------------------------------------------------------------------


def _may(request, person: Person, category: str, action: str = "read") -> bool:
    """Check and log a read the page makes of a category (no exception)."""
    try:
        access.require(request.user, person, category, action, path=request.path)
    except access.AccessDenied:
        return False
    return True


def _block_tiles(request, person: Person) -> dict:
    """Home tiles of the agenda, PPA and documents, each only with its read right."""
    from portal import user_block_views as blocks

    tiles: dict = {}
    if _may(request, person, Category.AGENDA):
        tiles["appointments"] = blocks.upcoming(request.user, person)
        tiles["proposals"] = blocks.pending_proposals(request.user, person)
    if _may(request, person, Category.PPA):
        tiles["plan"] = blocks.plan_summary(person)
    if _may(request, person, Category.DOCUMENTS):
        tiles["new_documents"] = blocks.new_documents(request.user, person)
    return tiles


@portal_page
def home(request: HttpRequest) -> HttpResponse:
    """Latest shared transmissions I may read, unread notifications, decisions awaiting me."""
    if not request.session.get(SESSION_KEY) and not spaces(request.user).exists():
        return render(request, "portal/user_home.html", {"no_space": True})
    person_id = _current_person_id(request)
    if person_id is None:
        raise ChooseSpace
    person = spaces(request.user).filter(pk=person_id).first()
    if person is None:
        # A link ended since the space was chosen (or a forged id): forget it.
        request.session.pop(SESSION_KEY, None)
        raise Http404
    transmissions = None
    if _may(request, person, Category.LIAISON):
        transmissions = list(
            liaison_selectors.notebook(request.user, person)
            .filter(scope=Scope.SHARED, withdrawn_at__isnull=True)
            .select_related("author")
            .order_by("-observed_at", "-pk")[:HOME_TRANSMISSIONS]
        )
    notifications = list(
        Notification.objects.filter(recipient=request.user, is_in_app=True, read_at__isnull=True).order_by(
            "-created_at"
        )[:5]
    )
    for notification in notifications:
        kind = catalogue().get(notification.event_type)
        notification.message = kind.message if kind else ""
    context = _context(request, person, transmissions=transmissions, notifications=notifications)
    context.update(_block_tiles(request, person))
    if context["is_decider"]:
        context["pending_requests"] = list(
            JoinRequest.objects.filter(person=person, status=JoinRequestStatus.PENDING).select_related(
                "professional__user", "structure"
            )
        )
        context["pending_delegations"] = list(
            Delegation.objects.filter(person=person, status=DelegationStatus.PENDING).select_related(
                "delegate__user", "delegator__user"
            )
        )
    return render(request, "portal/user_home.html", context)


# --- Record summary ------------------------------------------------------------------------


@portal_page
def record(request: HttpRequest) -> HttpResponse:
    """Identity, accompanying structures and dates, referent, the circle at a glance."""
    person = _open(request, Category.RECORD).person
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
        _context(
            request,
            person,
            accompaniments=accompaniments,
            members=members,
            referents=referents,
            shows_circle=shows_circle,
        ),
    )


# --- Liaison notebook ----------------------------------------------------------------------


@portal_page
def notebook(request: HttpRequest) -> HttpResponse:
    """Shared transmissions (liaison read); post an observation (liaison write)."""
    grant = _open(request, Category.LIAISON, probe_write=True)
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
        _context(request, person, page=page, form=form, can_write=can_write),
        status=400 if form is not None and form.errors else 200,
    )


# --- Circle and rights --------------------------------------------------------------------


@portal_page
def circle(request: HttpRequest) -> HttpResponse:
    """Members and their rights in plain words; a decider changes them."""
    person = _open(request, Category.CIRCLE).person
    is_decider = access.is_decider(request.user, person)
    members = list(
        CircleMember.objects.active()
        .filter(person=person)
        .select_related("user", "structure", "professional__user", "carer_link")
        .prefetch_related(Prefetch("grants", queryset=Grant.objects.order_by("category")))
        .order_by("kind", "started_at")
    )
    for member in members:
        levels = {g.category: g.level for g in member.grants.all()}
        member.sentences = [level_sentence(c, levels.get(c, Level.NONE)) for c in Category.values]
        member.is_me = member.user_id == request.user.pk
        if is_decider and member.holds_rights and member.kind != MemberKind.PERSON:
            member.form = GrantsForm(levels=levels, prefix=f"m{member.pk}")
        member.can_end = is_decider and member.kind != MemberKind.PERSON
        member.can_oppose = is_decider and member.kind in (MemberKind.PROFESSIONAL, MemberKind.CARER)
    context = _context(request, person, members=members)
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
    person = _open(request, Category.CIRCLE, "write").person
    return get_object_or_404(CircleMember.objects.select_related("person", "carer_link"), pk=member_id, person=person)


@portal_page
@require_POST
def grants_update(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id)
    form = GrantsForm(request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        messages.error(request, "Choisissez un niveau pour chaque ligne : rien, voir, ou voir et écrire.")
        return redirect("portal_circle")
    try:
        services.grants_set(actor=request.user, member=member, levels=form.levels())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Les droits de {member.display_name} sont changés.")
    return redirect("portal_circle")


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
    person = _open(request, Category.CIRCLE, "write").person
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
    person = _open(request, Category.CIRCLE, "write").person
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


# --- Consents ------------------------------------------------------------------------------


@portal_page
def consents(request: HttpRequest) -> HttpResponse:
    """My decisions (DMP, consultation, partners) and their history; deciders record new ones."""
    person = _open(request, Category.RECORD).person
    is_decider = access.is_decider(request.user, person)
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
        _context(
            request,
            person,
            form=form,
            history=history,
            current=current,
            dmp_feeding_allowed=services.dmp_feeding_allowed(person),
        ),
        status=400 if form is not None and form.errors else 200,
    )


# --- Who accessed my data ------------------------------------------------------------------


def _who(log: AccessLog, roles: dict[int, str], person: Person) -> str:
    name = log.user.get_full_name() or log.user.email
    role = roles.get(log.user_id)
    return f"{name}, {role}" if role else name


def access_sentence(log: AccessLog, roles: dict[int, str], person: Person) -> str:
    """'Marie Dupont, infirmière du SSIAD, a consulté votre cahier de liaison le 12/11 à 10:02'."""
    at = timezone.localtime(log.at)
    verb = _VERB.get(log.action, "a consulté")
    if log.user_id == person.user_id:
        who, verb = "Vous", verb.replace("a ", "avez ", 1)
    else:
        who = f"{_who(log, roles, person)},"
    sentence = f"{who} {verb} {_WHAT.get(log.category, '')}"
    sentence += f" le {at:%d/%m/%Y} à {at:%H:%M}"
    if log.via == AccessVia.REPRESENTATIVE:
        sentence += " (en tant que représentant légal)"
    elif log.via == AccessVia.DELEGATION:
        sentence += " (par une délégation)"
    elif log.via == AccessVia.BREAK_GLASS:
        sentence += " en urgence (bris de glace)"
    return sentence + "."


@portal_page
def access_log(request: HttpRequest) -> HttpResponse:
    """The access log in plain language; break-the-glass rows with their reason."""
    person = _open(request, Category.CIRCLE).person
    logs = AccessLog.objects.filter(person=person).select_related("user").order_by("-at", "-pk")
    page = Paginator(logs, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    user_ids = {row.user_id for row in rows}
    roles: dict[int, str] = {}
    for member in (
        CircleMember.objects.filter(person=person, user_id__in=user_ids)
        .select_related("structure")
        .order_by("started_at")
    ):
        label = member.get_role_display().lower()
        roles[member.user_id] = f"{label} ({member.structure.name})" if member.structure_id else label
    glass = list(
        BreakGlassAccess.objects.filter(
            person=person, user_id__in={r.user_id for r in rows if r.via == AccessVia.BREAK_GLASS}
        ).select_related("structure")
    )
    for row in rows:
        if row.user_id not in roles and row.via == AccessVia.BREAK_GLASS:
            opening = next((g for g in glass if g.user_id == row.user_id), None)
            if opening:
                roles[row.user_id] = opening.structure.name
    for row in rows:
        row.sentence = access_sentence(row, roles, person)
        row.is_glass = row.via == AccessVia.BREAK_GLASS
        if row.is_glass:
            row.glass = next(
                (g for g in glass if g.user_id == row.user_id and g.started_at <= row.at <= g.expires_at), None
            )
    return render(request, "portal/user/access_log.html", _context(request, person, page=page, rows=rows))


# --- Invitations ----------------------------------------------------------------------------


@login_required
def invitation_create(request: HttpRequest, person_id: int) -> HttpResponse:
    """A structure professional (circle write) invites the person or a carer by e-mail."""
    if not request.user.is_professional:
        raise Http404
    person = access.get_person_or_404(request.user, person_id, Category.CIRCLE, "write", path=request.path)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_create(
                actor=request.user, person=person, base_url=settings.SITE_URL, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Invitation envoyée à {form.cleaned_data['email']}. Le lien sert une seule fois."
            )
            return redirect("portal_invitation_create", person_id=person.pk)
    pending = person.portal_invitations.filter(used_at__isnull=True, expires_at__gt=timezone.now())[:20]
    return render(
        request,
        "portal/user/invitation_form.html",
        {"person": person, "form": form, "pending": pending},
        status=400 if form.errors else 200,
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: set a password once; the account joins the person's circle."""
    try:
        invitation = invitations.invitation_for_token(token)
    except ValidationError as error:
        return render(request, "portal/user/invitation_invalid.html", {"message": error.messages[0]}, status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Votre compte est prêt. Connectez-vous avec votre adresse e-mail et ce mot de passe."
            )
            return redirect("account_login")
    return render(
        request,
        "portal/user/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.errors else 200,
    )
