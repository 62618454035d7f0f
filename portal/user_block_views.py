"""The user portal, second part: my agenda, my documents, my projet personnalisé.

Same rules as `portal.user_views`: whose space is kept in the session and checked by the
access gate on every request (a stranger gets 404, a carer without the right a 403 with
a plain reason). Reads go through the blocks' selectors, writes through their services
(`agenda.booking.appointment_answer`, `agenda.services.agenda_feed_*`,
`documents.services.document_create`, `ppa.services.expectations_update`,
`comment_add`, `plan_sign`), which audit as whom the user acted.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from agenda import booking, ics
from agenda import selectors as agenda_selectors
from agenda import services as agenda_services
from agenda.models import AgendaFeed, Event, EventStatus, FeedOwnerKind
from agenda.views import PARIS, _day
from common.forms import add_service_errors
from coordination import access, news
from coordination.models import Category, Person, RecordVisit
from documents import selectors as document_selectors
from documents import services as document_services
from documents.forms import PortalUploadForm
from documents.models import Document, DocumentStatus, DocumentType
from portal.user_forms import FeedActionForm, FeedCreateForm, PlanCommentForm, ProposalAnswerForm
from portal.user_views import _context, _open, portal_page
from ppa import selectors as ppa_selectors
from ppa import services as ppa_services
from ppa.forms import ExpectationsForm
from ppa.models import EXPECTATION_FIELDS, PlanVersion, SignOffRole, VersionStatus

AGENDA_VIEWS = {"ligne": "Ligne de vie", "semaine": "Semaine", "mois": "Mois"}
CONTRACT_TYPES = (DocumentType.STAY_CONTRACT, DocumentType.DIPC, DocumentType.CAST)
DOCUMENTS_SHOWN = 200
DEPOSITS_SHOWN = 50
HOME_APPOINTMENTS = 3
HOME_DOCUMENTS = 5
NEW_DOCUMENTS_DAYS = 30
FEED_SESSION_KEY = "portal_new_feed_url"


# --- Shared reads (also used by the home tiles) ------------------------------------------------


def pending_proposals(user, person: Person) -> list[Event]:
    """Appointments proposed to the person that still wait for an answer, nearest deadline first."""
    return list(
        agenda_selectors.person_events(user, person)
        .filter(status=EventStatus.PROPOSED, answer_deadline__gt=timezone.now())
        .select_related("structure")
        .prefetch_related("places")
        .order_by("answer_deadline", "pk")[:20]
    )


def upcoming(user, person: Person, days: int = 60, limit: int = HOME_APPOINTMENTS) -> list:
    """The next occurrences (not cancelled, not still proposed) in the coming `days`."""
    now = timezone.now()
    items = agenda_selectors.occurrences(agenda_selectors.person_events(user, person), now, now + timedelta(days=days))
    return [i for i in items if not i.is_cancelled and i.event.status != EventStatus.PROPOSED and i.ends_at > now][
        :limit
    ]


def new_documents(user, person: Person) -> list[Document]:
    """Validated documents added since my last visit of my documents (else the last 30 days)."""
    visit = RecordVisit.objects.filter(user=user, person=person).values_list("visited_at", flat=True).first()
    since = visit or timezone.now() - timedelta(days=NEW_DOCUMENTS_DAYS)
    return list(
        document_selectors.documents_of(user, person)
        .filter(status=DocumentStatus.VALIDATED, superseded_at__isnull=True, validated_at__gt=since)
        .order_by("-validated_at", "-pk")[:HOME_DOCUMENTS]
    )


def plan_summary(person: Person) -> dict:
    """The plan's state for the home tile: the version in force, the one in progress."""
    versions = list(
        PlanVersion.objects.filter(
            plan__person=person, status__in=[VersionStatus.VALIDATED, VersionStatus.DRAFT, VersionStatus.SUBMITTED]
        )
    )
    return {
        "current": next((v for v in versions if v.status == VersionStatus.VALIDATED), None),
        "open": next((v for v in versions if v.status != VersionStatus.VALIDATED), None),
        "today": timezone.localdate(),
    }


# --- My agenda ---------------------------------------------------------------------------------


def _period(view: str, day) -> tuple[datetime, datetime, object, object]:
    if view == "semaine":
        first = day - timedelta(days=day.weekday())
        last, prev, nxt = first + timedelta(days=7), first - timedelta(days=7), first + timedelta(days=7)
    elif view == "mois":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        prev, nxt = (first - timedelta(days=1)).replace(day=1), last
    else:  # ligne: two weeks back, eight weeks ahead
        first, last = day - timedelta(days=14), day + timedelta(days=56)
        prev, nxt = day - timedelta(days=70), day + timedelta(days=70)
    return (datetime.combine(first, time.min, tzinfo=PARIS), datetime.combine(last, time.min, tzinfo=PARIS), prev, nxt)


def _month_weeks(first, items) -> list[list[tuple]]:
    """The month's calendar table: weeks (Monday first) of (day, that day's items)."""
    by_day = dict(agenda_selectors.group_by_day(items))
    day = first - timedelta(days=first.weekday())
    following_month = (first + timedelta(days=32)).replace(day=1)
    weeks = []
    while day < following_month:
        weeks.append([(day + timedelta(days=i), by_day.get(day + timedelta(days=i), [])) for i in range(7)])
        day += timedelta(days=7)
    return weeks


@portal_page
def agenda(request: HttpRequest) -> HttpResponse:
    """The person's agenda as the person or a carer may see it (shared events only):
    life-line (upcoming first, then past), week or month; proposals awaiting an answer;
    the subscription link (ICS)."""
    person = _open(request, Category.AGENDA).person
    view = request.GET.get("vue", "ligne")
    view = view if view in AGENDA_VIEWS else "ligne"
    start, end, prev, nxt = _period(view, _day(request))
    items = agenda_selectors.occurrences(agenda_selectors.person_events(request.user, person), start, end)
    now = timezone.now()
    context = {
        "view": view,
        "views": AGENDA_VIEWS,
        "start": start,
        "end": end - timedelta(days=1),
        "prev": prev,
        "next": nxt,
        "today": timezone.localdate(),
        "now": now,
    }
    if view == "ligne":
        context["future_days"] = agenda_selectors.group_by_day([i for i in items if i.ends_at > now])
        context["past_days"] = list(reversed(agenda_selectors.group_by_day([i for i in items if i.ends_at <= now])))
    elif view == "semaine":
        by_day = dict(agenda_selectors.group_by_day(items))
        context["week_days"] = [
            (start.date() + timedelta(days=i), by_day.get(start.date() + timedelta(days=i), [])) for i in range(7)
        ]
    else:
        context["weeks"] = _month_weeks(start.date(), items)
    proposals = pending_proposals(request.user, person)
    may_answer = bool(proposals) and booking.may_answer(request.user, proposals[0])
    feeds = list(
        AgendaFeed.objects.filter(
            owner=request.user, person=person, kind=FeedOwnerKind.PERSON, revoked_at__isnull=True
        ).order_by("-created_at")
    )
    return render(
        request,
        "portal/user/agenda.html",
        _context(
            request,
            person,
            proposals=proposals,
            may_answer=may_answer,
            answer_form=ProposalAnswerForm(),
            feeds=feeds,
            feed_form=FeedCreateForm(),
            new_feed_url=request.session.pop(FEED_SESSION_KEY, None),
            **context,
        ),
    )


@portal_page
@require_POST
def proposal_answer(request: HttpRequest, event_id: int) -> HttpResponse:
    """Accept or decline a proposed appointment (the person, or a carer or legal
    representative with `agenda` write)."""
    person = _open(request, Category.AGENDA).person
    event = get_object_or_404(
        agenda_selectors.person_events(request.user, person), pk=event_id, answer_deadline__isnull=False
    )
    if not booking.may_answer(request.user, event):
        raise access.AccessDenied(
            "Pour répondre à ce rendez-vous, il faut le droit de modifier l'agenda. "
            "Les droits sont décidés par la personne ou son représentant légal."
        )
    form = ProposalAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez : accepter ou refuser le rendez-vous.")
        return redirect("portal_agenda")
    accept = form.cleaned_data["accept"]
    try:
        booking.appointment_answer(actor=request.user, event=event, accept=accept, comment=form.cleaned_data["comment"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Rendez-vous accepté : « {event.title} »."
            if accept
            else f"Rendez-vous refusé : « {event.title} ». Le professionnel est prévenu.",
        )
    return redirect("portal_agenda")


def _webcal(request: HttpRequest, token: str) -> str:
    url = request.build_absolute_uri(reverse("agenda:feed", args=[token]))
    return "webcal://" + url.split("://", 1)[1]


@portal_page
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    """A secret subscription address for this person's agenda, shown once."""
    person = _open(request, Category.AGENDA).person
    form = FeedCreateForm(request.POST)
    include_titles = form.is_valid() and form.cleaned_data["include_titles"]
    _feed, token = agenda_services.agenda_feed_create(
        actor=request.user, kind=FeedOwnerKind.PERSON, person=person, include_titles=include_titles
    )
    request.session[FEED_SESSION_KEY] = _webcal(request, token)
    messages.success(
        request, "Votre adresse d'abonnement est prête. Copiez-la maintenant : elle ne sera plus affichée."
    )
    return redirect(reverse("portal_agenda") + "#abonnement")


@portal_page
@require_POST
def feed_action(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Stop a subscription address (it gives 404 at once) or replace it by a new one."""
    person = _open(request, Category.AGENDA).person
    feed = get_object_or_404(AgendaFeed, pk=feed_id, owner=request.user, person=person, revoked_at__isnull=True)
    form = FeedActionForm(request.POST)
    if not form.is_valid():
        raise Http404
    if form.cleaned_data["action"] == "regenerate":
        _feed, token = agenda_services.agenda_feed_regenerate(actor=request.user, feed=feed)
        request.session[FEED_SESSION_KEY] = _webcal(request, token)
        messages.success(request, "Nouvelle adresse créée. L'ancienne ne marche plus.")
    else:
        agenda_services.agenda_feed_revoke(actor=request.user, feed=feed)
        messages.success(request, "Abonnement arrêté. L'adresse ne marche plus.")
    return redirect(reverse("portal_agenda") + "#abonnement")


@portal_page
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event of the person's agenda as a .ics file (shared events only)."""
    person = _open(request, Category.AGENDA).person
    event = get_object_or_404(
        agenda_selectors.person_events(request.user, person).select_related("recurrence_of").prefetch_related("places"),
        pk=event_id,
    )
    series = event.recurrence_of or event
    events = [series, *series.overrides.prefetch_related("places")] if series.rrule else [event]
    content = ics.calendar_for(events, name="Rendez-vous", include_titles=True)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rendez-vous-{event.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- My documents ------------------------------------------------------------------------------


@portal_page
def documents(request: HttpRequest) -> HttpResponse:
    """The contract first, then the PPA documents and the other validated documents; my
    deposits with their review status; a form to send a document (goes to review)."""
    grant = _open(request, Category.DOCUMENTS, probe_write=True)
    person, can_write = grant.person, grant.can_write
    form = PortalUploadForm(request.POST or None, request.FILES or None) if can_write else None
    if request.method == "POST":
        if form is None:
            access.require(request.user, person, Category.DOCUMENTS, "write", path=request.path)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document_services.document_create(
                    actor=request.user,
                    person=person,
                    doc_type=data["doc_type"],
                    title=data["title"],
                    upload=data["file"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Document envoyé. Le référent va le regarder avant de l'ajouter au dossier.")
                return redirect("portal_documents")
    visible = document_selectors.documents_of(request.user, person)
    validated = list(
        visible.filter(status=DocumentStatus.VALIDATED, superseded_at__isnull=True)
        .select_related("author_structure")
        .order_by("-document_on", "-pk")[:DOCUMENTS_SHOWN]
    )
    contracts = [d for d in validated if d.doc_type in CONTRACT_TYPES]
    plans = [d for d in validated if d.doc_type == DocumentType.CARE_PLAN]
    others = [d for d in validated if d.doc_type not in CONTRACT_TYPES and d.doc_type != DocumentType.CARE_PLAN]
    deposits = list(
        visible.filter(author=request.user)
        .exclude(status=DocumentStatus.VALIDATED)
        .order_by("-created_at", "-pk")[:DEPOSITS_SHOWN]
    )
    visit = RecordVisit.objects.filter(user=request.user, person=person).values_list("visited_at", flat=True).first()
    for document in validated:
        document.is_new = visit is not None and document.validated_at is not None and document.validated_at > visit
    if request.method == "GET":
        news.record_visit(user=request.user, person=person)
    return render(
        request,
        "portal/user/documents.html",
        _context(
            request,
            person,
            form=form,
            contracts=contracts,
            plans=plans,
            others=others,
            deposits=deposits,
        ),
        status=400 if form is not None and form.errors else 200,
    )


# --- My projet personnalisé --------------------------------------------------------------------


@portal_page
def ppa(request: HttpRequest) -> HttpResponse:
    """The version in force in plain language, the next review; on a draft, my
    expectations and comments; on a version waiting for signatures, my signature."""
    grant = _open(request, Category.PPA, probe_write=True)
    person = grant.person
    versions = list(
        ppa_selectors.with_sections(
            PlanVersion.objects.filter(
                plan__person=person, status__in=[VersionStatus.VALIDATED, VersionStatus.DRAFT, VersionStatus.SUBMITTED]
            )
        ).order_by("number")
    )
    current = next((v for v in versions if v.status == VersionStatus.VALIDATED), None)
    pending = next((v for v in versions if v.status != VersionStatus.VALIDATED), None)
    context = {"current": current, "pending": pending, "can_write": grant.can_write, "today": timezone.localdate()}
    if pending is not None:
        context["pending_comments"] = [c for c in pending.contributions.all() if c.kind == "comment"]
        if pending.is_draft and grant.can_write:
            context["expectations_form"] = ExpectationsForm.for_version(pending)
            context["comment_form"] = PlanCommentForm(prefix="commentaire")
        if pending.status == VersionStatus.SUBMITTED:
            signed = {s.role: s for s in pending.sign_offs.all()}
            context["person_sign_off"] = signed.get(SignOffRole.PERSON)
            context["referent_sign_off"] = signed.get(SignOffRole.REFERENT)
            context["may_sign"] = (
                SignOffRole.PERSON not in signed
                and SignOffRole.PERSON in ppa_services.sign_roles_for(request.user, person)
            )
    return render(request, "portal/user/ppa.html", _context(request, person, **context))


def _version(request: HttpRequest, version_id: int) -> PlanVersion:
    person = _open(request, Category.PPA).person
    return get_object_or_404(PlanVersion.objects.select_related("plan__person"), pk=version_id, plan__person=person)


def _ppa_error(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@portal_page
@require_POST
def ppa_expectations(request: HttpRequest, version_id: int) -> HttpResponse:
    """My expectations on a draft, in my own words (ppa write)."""
    version = _version(request, version_id)
    form = ExpectationsForm(request.POST, prefix="attentes")
    if not form.is_valid():
        messages.error(request, "Vos attentes n'ont pas pu être lues. Réessayez.")
        return redirect("portal_ppa")
    try:
        ppa_services.expectations_update(
            actor=request.user, version=version, **{name: form.cleaned_data[name] for name in EXPECTATION_FIELDS}
        )
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        messages.success(request, "Vos attentes sont enregistrées dans le projet.")
    return redirect("portal_ppa")


@portal_page
@require_POST
def ppa_comment(request: HttpRequest, version_id: int) -> HttpResponse:
    """A comment on a part of a draft (ppa write)."""
    version = _version(request, version_id)
    form = PlanCommentForm(request.POST, prefix="commentaire")
    if not form.is_valid():
        messages.error(request, "Écrivez votre commentaire et choisissez la partie du projet.")
        return redirect("portal_ppa")
    try:
        ppa_services.comment_add(actor=request.user, version=version, **form.cleaned_data)
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        messages.success(request, "Votre commentaire est ajouté au projet.")
    return redirect("portal_ppa")


@portal_page
@require_POST
def ppa_sign(request: HttpRequest, version_id: int) -> HttpResponse:
    """The person (or the legal representative) signs a version waiting for signatures."""
    version = _version(request, version_id)
    try:
        ppa_services.plan_sign(actor=request.user, version=version, role=SignOffRole.PERSON)
    except ValidationError as error:
        _ppa_error(request, error)
    else:
        version.refresh_from_db(fields=["status"])
        messages.success(
            request,
            "Votre signature est enregistrée. Le projet est validé."
            if version.status == VersionStatus.VALIDATED
            else "Votre signature est enregistrée. Il manque encore la signature du référent.",
        )
    return redirect("portal_ppa")
