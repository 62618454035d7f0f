"""My agenda: life-line, week, month; proposals to answer; calendar subscriptions."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from agenda import ics
from agenda import selectors as agenda_selectors
from agenda import services as agenda_services
from agenda.booking import services as booking
from agenda.models import AgendaFeed, EventSource, FeedOwnerKind, Visibility
from common.forms import add_service_errors
from common.timezone import PARIS, requested_day
from coordination import access, rules
from coordination.models import (
    Category,
)
from portal.user_portal.forms import (
    FeedActionForm,
    FeedCreateForm,
    OwnAppointmentForm,
    ProposalAnswerForm,
)
from portal.user_portal.spaces import open_space, page_context, portal_page
from portal.user_portal.views.home import pending_proposals

AGENDA_VIEWS = {"ligne": "Ligne de vie", "semaine": "Semaine", "mois": "Mois"}


FEED_SESSION_KEY = "portal_new_feed_url"


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
    the subscription link (ICS); for the person's side, the form to add her own."""
    return _agenda_page(request, open_space(request, Category.AGENDA).person)


def _agenda_page(request: HttpRequest, person, own_form: OwnAppointmentForm | None = None) -> HttpResponse:
    view = request.GET.get("vue", "ligne")
    view = view if view in AGENDA_VIEWS else "ligne"
    start, end, prev, nxt = _period(view, requested_day(request))
    items = agenda_selectors.without_duplicates(
        agenda_selectors.occurrences(agenda_selectors.person_events(request.user, person), start, end)
    )
    # The person's own appointments (added by her side): her side may cancel them here.
    own_side = {person.user_id, *rules.legal_representative_links(person=person).values_list("user_id", flat=True)}
    for item in items:
        item.is_own = item.event.source == EventSource.PORTAL and item.event.created_by_id in own_side
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
        page_context(
            request,
            person,
            proposals=proposals,
            may_answer=may_answer,
            answer_form=ProposalAnswerForm(),
            feeds=feeds,
            feed_form=FeedCreateForm(),
            new_feed_url=request.session.pop(FEED_SESSION_KEY, None),
            own_form=own_form or (OwnAppointmentForm(prefix="rdv") if rules.is_decider(request.user, person) else None),
            **context,
        ),
        status=400 if own_form is not None else 200,
    )


@portal_page
@require_POST
def proposal_answer(request: HttpRequest, event_id: int) -> HttpResponse:
    """Accept or decline a proposed appointment (the person, or a carer or legal
    representative with `agenda` write)."""
    person = open_space(request, Category.AGENDA).person
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
        messages.error(request, "Choisissez : accepter, refuser ou demander une autre date.")
        return redirect("portal_agenda")
    choice = form.cleaned_data["accept"]
    accept, new_date = choice == "1", choice == "autre"
    try:
        booking.appointment_answer(
            actor=request.user, event=event, accept=accept, comment=form.cleaned_data["comment"], new_date=new_date
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if new_date:
            done = f"Demande envoyée : le professionnel va proposer une autre date pour « {event.title} »."
        elif accept:
            done = f"Rendez-vous accepté : « {event.title} »."
        else:
            done = f"Rendez-vous refusé : « {event.title} ». Le professionnel est prévenu."
        messages.success(request, done)
    return redirect("portal_agenda")


def _webcal(request: HttpRequest, token: str) -> str:
    url = request.build_absolute_uri(reverse("agenda:feed", args=[token]))
    return "webcal://" + url.split("://", 1)[1]


@portal_page
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    """A secret subscription address for this person's agenda, shown once."""
    person = open_space(request, Category.AGENDA).person
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
    person = open_space(request, Category.AGENDA).person
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
    person = open_space(request, Category.AGENDA).person
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


@portal_page
@require_POST
def own_appointment_create(request: HttpRequest) -> HttpResponse:
    """The person, or her legal representative, adds one of her own appointments: shown
    to whoever may read her agenda, changed only by her side (`is_persons_own`)."""
    person = open_space(request, Category.AGENDA, "write").person
    if not rules.is_decider(request.user, person):
        raise access.AccessDenied("Seuls la personne et son représentant légal ajoutent ses propres rendez-vous.")
    form = OwnAppointmentForm(request.POST, prefix="rdv")
    if form.is_valid():
        data = form.cleaned_data
        starts_at = datetime.combine(data["on"], data["starts"], tzinfo=PARIS)
        try:
            agenda_services.event_create(
                actor=request.user,
                person=person,
                title=data["title"],
                starts_at=starts_at,
                ends_at=datetime.combine(data["on"], data["ends"], tzinfo=PARIS),
                places=[{"kind": "address", "label": data["place"]}] if data["place"] else None,
                include_actor=False,
                source=EventSource.PORTAL,
                visibility=Visibility.SHARED,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Rendez-vous ajouté : « {data['title']} », le {starts_at:%d/%m/%Y à %H:%M}.")
            return redirect(reverse("portal_agenda") + f"?date={data['on'].isoformat()}")
    return _agenda_page(request, person, own_form=form)


@portal_page
@require_POST
def own_appointment_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    """The person's side cancels one of her own appointments (it stays, as cancelled)."""
    person = open_space(request, Category.AGENDA, "write").person
    event = get_object_or_404(agenda_selectors.person_events(request.user, person), pk=event_id)
    if not agenda_services.is_persons_own(event):
        raise Http404
    agenda_services.event_cancel(actor=request.user, event=event, reason="annulé par la personne")
    messages.success(request, f"Rendez-vous annulé : « {event.title} ».")
    return redirect("portal_agenda")
