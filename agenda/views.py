"""Pages of the agenda. A person's agenda and its events go through the gate (category
`agenda`); a professional's own agenda shows what they take part in and their imported
busy times ("Occupé")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from agenda import ics, selectors, services
from agenda.forms import EventForm, ExternalCalendarForm, FeedForm, RespondForm
from agenda.models import AgendaFeed, Event, EventSource, EventStatus, ExternalCalendar, FeedOwnerKind, Visibility
from common.forms import add_service_errors
from common.timezone import PARIS, requested_day
from coordination import access, rules
from coordination.models import Category

VIEWS = {"ligne": "Ligne de vie", "semaine": "Semaine", "mois": "Mois", "liste": "Liste"}
_FORM_FIELDS = {"places": "place_kind", "rrule": "repeat"}


# --- Periods ----------------------------------------------------------------------------


def _period(view: str, day: date) -> tuple[datetime, datetime, date, date]:
    """(start, end, previous day, next day) of the page's period, in local time."""
    if view == "semaine":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
        prev, nxt = first - timedelta(days=7), last
    elif view == "mois":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        prev, nxt = (first - timedelta(days=1)).replace(day=1), last
    elif view == "ligne":
        # Two weeks back, four weeks ahead; the links move by six weeks.
        first, last = day - timedelta(days=14), day + timedelta(days=28)
        prev, nxt = day - timedelta(days=42), day + timedelta(days=42)
    else:  # liste
        first, last = day, day + timedelta(days=60)
        prev, nxt = day - timedelta(days=60), last
    start = datetime.combine(first, time.min, tzinfo=PARIS)
    end = datetime.combine(last, time.min, tzinfo=PARIS)
    return start, end, prev, nxt


_STATUS_BADGES = {
    EventStatus.PROPOSED: '<span class="badge">Proposé</span> ',
    EventStatus.DONE: '<span class="badge badge--success">Réalisé</span> ',
}
_CANCELLED_BADGE = '<span class="badge badge--warning">Annulé</span> '
_INTERNAL_BADGE = '<span class="badge">Interne</span> '
# The person's own appointments, marked as hers (a text; the sign is decoration).
_PERSONS_SIDE_BADGES = {
    selectors.PERSONS_OWN: '<span class="badge badge--person"><span aria-hidden="true">&#9733;</span> '
    "Ajouté par la personne</span> ",
    selectors.PERSON_ACCEPTED: '<span class="badge badge--person"><span aria-hidden="true">&#10003;</span> '
    "Accepté par la personne</span> ",
}


def _decorate(items, *, show_person: bool) -> list:
    """Each item's list entry (`item.html`), computed once in Python: a page lists up to
    a few hundred occurrences, and per-item template nodes, includes, `{% url %}`, date
    filters and even `format_html` cost several times these lines (measured in
    bench/agenda_person.py). Every text that is not ours (titles, places, names) goes
    through `escape`."""
    url_pattern = reverse("agenda:event", args=[0])[:-2] + "{}/"
    sides = selectors.persons_side(
        item.event.pk for item in items if not getattr(item, "is_busy_block", False) and item.event.person_id
    )
    for item in items:
        starts_at, ends_at = item.starts_at.astimezone(PARIS), item.ends_at.astimezone(PARIS)
        if getattr(item, "is_busy_block", False):
            item.html = mark_safe(  # noqa: S308 - constant markup, the calendar's name escaped
                f'<li class="agenda-item"><span class="agenda-item__time">{starts_at:%H:%M} – {ends_at:%H:%M}'
                f'</span> <span class="agenda-item__title">Occupé</span> '
                f'<span class="muted">({escape(item.calendar_name)})</span></li>'
            )
            continue
        event = item.event
        time_label = "Toute la journée" if event.is_all_day else f"{starts_at:%H:%M} – {ends_at:%H:%M}"
        badges = (
            [_CANCELLED_BADGE]
            if item.is_cancelled
            else ([_STATUS_BADGES[event.status]] if event.status in _STATUS_BADGES else [])
        )
        if event.visibility == Visibility.INTERNAL:
            badges.append(_INTERNAL_BADGE)
        if event.pk in sides:
            badges.append(_PERSONS_SIDE_BADGES[sides[event.pk]])
        notes = ["(régulier)"] if event.rrule or event.recurrence_of_id else []
        if show_person and event.person_id:
            notes.append(f"— {event.person.display_name}")
        notes.extend(f"— {place}" for place in event.place_list)
        css = "agenda-item agenda-item--cancelled" if item.is_cancelled else "agenda-item"
        item.html = mark_safe(  # noqa: S308 - constant markup; titles, names and places escaped
            f'<li class="{css}"><span class="agenda-item__time">{time_label}</span> '
            f'<a class="agenda-item__title" href="{url_pattern.format(event.pk)}">{escape(event.title)}</a> '
            + "".join(badges)
            + "".join(f'<span class="muted">{escape(note)}</span> ' for note in notes)
            + "</li>"
        )
    return items


def _days(items, today: date, year: bool = True) -> list[dict]:
    """Items grouped by local day, each day with its anchor and French heading."""
    fmt = "l j F Y" if year else "l j F"
    return [
        {
            "anchor": f"jour-{day:%Y%m%d}",
            "items": day_items,
            "label": dateformat.format(day, fmt) + (" (aujourd'hui)" if day == today else ""),
        }
        for day, day_items in selectors.group_by_day(items)
    ]


def _month_weeks(first: date, items, today: date) -> list[list[dict]]:
    by_day = dict(selectors.group_by_day(items))
    start = first - timedelta(days=first.weekday())
    weeks = []
    day = start
    while day < (first + timedelta(days=32)).replace(day=1) or day.weekday() != 0:
        week = []
        for _ in range(7):
            week.append({"number": day.day, "is_today": day == today, "items": by_day.get(day, [])})
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


def _agenda_context(request, view: str, items, start, end, prev, nxt, *, show_person: bool = False) -> dict:
    now = timezone.now()
    today = timezone.localdate()
    _decorate(items, show_person=show_person)
    context = {
        "view": view,
        "views": VIEWS,
        "start": start,
        "end": end - timedelta(days=1),
        "prev": prev,
        "next": nxt,
        "today": today,
        "now": now,
    }
    if view == "ligne":
        context["past_days"] = _days([i for i in items if i.ends_at <= now], today)
        context["future_days"] = _days([i for i in items if i.ends_at > now], today)
    elif view == "mois":
        context["weeks"] = _month_weeks(start.date(), items, today)
    elif view == "semaine":
        by_day = dict(selectors.group_by_day(items))
        days = [start.date() + timedelta(days=i) for i in range(7)]
        context["week_days"] = [
            {
                "anchor": f"jour-{day:%Y%m%d}",
                "items": by_day.get(day, []),
                "label": dateformat.format(day, "l j F") + (" (aujourd'hui)" if day == today else ""),
            }
            for day in days
        ]
    else:
        context["days"] = _days(items, today)
    return context


# --- Agendas ----------------------------------------------------------------------------


@login_required
def my_agenda(request: HttpRequest) -> HttpResponse:
    """My agenda: what I take part in across my structures, and my imported busy times."""
    view = request.GET.get("vue", "semaine")
    view = view if view in VIEWS and view != "ligne" else "semaine"
    start, end, prev, nxt = _period(view, requested_day(request))
    items = selectors.occurrences(selectors.professional_events(request.user), start, end, details=False)
    professional = getattr(request.user, "professional", None)
    busy = selectors.professional_busy_blocks(professional, start, end)
    items = sorted([*items, *busy], key=lambda i: i.starts_at)
    context = _agenda_context(request, view, items, start, end, prev, nxt, show_person=True)
    context.update(
        {
            "calendars": list(professional.external_calendars.all()) if professional else [],
            "views": {k: v for k, v in VIEWS.items() if k != "ligne"},
        }
    )
    return render(request, "agenda/my_agenda.html", context)


@login_required
def person_agenda(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's consolidated agenda: a life-line (past and future), or week/month views."""
    grant = access.require(request.user, person_id, Category.AGENDA, "read", path=request.path, probe_write=True)
    person = grant.person
    view = request.GET.get("vue", "ligne")
    view = view if view in VIEWS else "ligne"
    start, end, prev, nxt = _period(view, requested_day(request))
    items = selectors.without_duplicates(
        selectors.occurrences(
            selectors.person_events(request.user, person), start, end, details=False, with_person=False
        )
    )
    context = _agenda_context(request, view, items, start, end, prev, nxt)
    context.update({"person": person, "can_write": grant.can_write})
    if request.htmx and request.GET.get("fragment"):
        return render(request, "agenda/snippets/agenda_body.html", context)
    return render(request, "agenda/person_agenda.html", context)


# --- Events -----------------------------------------------------------------------------


def _load(request, event_id: int, action: str = "read") -> Event:
    """An event the user may see (else 404): through the gate for a person's event."""
    event = get_object_or_404(Event.objects.select_related("person", "structure", "serafin_service"), pk=event_id)
    if event.person_id is not None:
        if selectors.is_participant(request.user, event) and action == "read":
            return event
        access.require(request.user, event.person, Category.AGENDA, action, path=request.path)
        if not selectors.can_see(request.user, event):
            raise Http404
        return event
    if event.created_by_id == request.user.pk or selectors.is_participant(request.user, event):
        return event
    raise Http404


@login_required
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _load(request, event_id)
    participants = list(event.participants.select_related("professional__user"))
    me = next(
        (
            p
            for p in participants
            if p.user_id == request.user.pk or (p.professional_id and p.professional.user_id == request.user.pk)
        ),
        None,
    )
    can_write = (
        access.check(request.user, event.person, Category.AGENDA, "write") is not None
        if event.person_id
        else event.created_by_id == request.user.pk
    ) and not (event.source == EventSource.IMPORT and event.created_by_id != request.user.pk)
    upcoming = []
    if event.rrule and event.recurrence_of_id is None:
        now = timezone.now()
        upcoming = selectors.expand_one(event, now, now + timedelta(days=120))[:10]
    return render(
        request,
        "agenda/event.html",
        {
            "event": event,
            "participants": participants,
            "me": me,
            "places": list(event.places.all()),
            "can_write": can_write and event.status not in (EventStatus.CANCELLED, EventStatus.DONE),
            "respond_form": RespondForm(),
            "upcoming": upcoming,
            "now": timezone.now(),
            "overrides": list(event.overrides.all()),
        },
    )


def _edit_page(request, form, *, person=None, event=None, status=200) -> HttpResponse:
    return render(request, "agenda/event_form.html", {"form": form, "person": person, "event": event}, status=status)


@login_required
def event_create(request: HttpRequest, person_id: int | None = None) -> HttpResponse:
    person = None
    if person_id is not None:
        person = access.get_person_or_404(request.user, person_id, Category.AGENDA, "write", path=request.path)
    if request.method != "POST":
        initial = {}
        if request.GET.get("debut"):
            initial["starts_at"] = request.GET["debut"]
        return _edit_page(request, EventForm(user=request.user, person=person, initial=initial), person=person)
    form = EventForm(request.POST, user=request.user, person=person)
    if form.is_valid():
        try:
            event = services.event_create(actor=request.user, person=person, **form.service_kwargs())
        except ValidationError as error:
            add_service_errors(form, error, _FORM_FIELDS)
        else:
            messages.success(request, "Évènement enregistré.")
            return redirect("agenda:event", event_id=event.pk)
    return _edit_page(request, form, person=person, status=400)


@login_required
def event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _load(request, event_id, "write" if request.method == "POST" else "read")
    if event.status in (EventStatus.CANCELLED, EventStatus.DONE):
        messages.error(request, "Un rendez-vous annulé ou réalisé ne peut plus être modifié.")
        return redirect("agenda:event", event_id=event.pk)
    place = event.places.first()
    initial = {
        "title": event.title,
        "event_type": event.event_type,
        "is_all_day": event.is_all_day,
        "starts_at": timezone.localtime(event.starts_at),
        "ends_at": timezone.localtime(event.ends_at),
        "visibility": event.visibility,
        "serafin_service": event.serafin_service,
        "motive": event.motive,
        "place_kind": place.kind if place else "",
        "place_address": place.address if place else "",
        "place_url": place.url if place else "",
    }
    if request.method != "POST":
        return _edit_page(
            request,
            EventForm(user=request.user, person=event.person, editing=True, initial=initial),
            event=event,
            person=event.person,
        )
    form = EventForm(request.POST, user=request.user, person=event.person, editing=True, initial=initial)
    if form.is_valid():
        kwargs = form.service_kwargs()
        kwargs.pop("rrule", None)
        try:
            services.event_update(actor=request.user, event=event, **kwargs)
        except ValidationError as error:
            add_service_errors(form, error, _FORM_FIELDS)
        else:
            messages.success(request, "Évènement modifié. Les participants sont prévenus.")
            return redirect("agenda:event", event_id=event.pk)
    return _edit_page(request, form, event=event, person=event.person, status=400)


@login_required
@require_POST
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _load(request, event_id, "write")
    recurrence_id = request.POST.get("occurrence")
    try:
        if recurrence_id:
            services.occurrence_cancel(
                actor=request.user, event=event, recurrence_id=datetime.fromisoformat(recurrence_id)
            )
            messages.success(request, "Cette occurrence est annulée.")
        else:
            services.event_cancel(actor=request.user, event=event, reason=request.POST.get("reason", ""))
            messages.success(request, "Évènement annulé. Les participants sont prévenus.")
    except (ValidationError, ValueError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("agenda:event", event_id=event.pk)


@login_required
@require_POST
def event_done(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _load(request, event_id, "write")
    try:
        services.event_mark_done(actor=request.user, event=event)
        messages.success(request, "Rendez-vous marqué comme réalisé.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("agenda:event", event_id=event.pk)


@login_required
@require_POST
def event_respond(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _load(request, event_id)
    form = RespondForm(request.POST)
    if form.is_valid():
        try:
            services.participant_respond(actor=request.user, event=event, **form.cleaned_data)
            messages.success(request, "Votre réponse est enregistrée.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, str(error))
    else:
        messages.error(request, "Choisissez une réponse.")
    return redirect("agenda:event", event_id=event.pk)


@login_required
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event as a .ics file (with its changed occurrences); titles included: the user sees them."""
    event = _load(request, event_id)
    series = event.recurrence_of or event
    events = [series, *series.overrides.all()] if series.rrule else [event]
    content = ics.calendar_for(events, name="Rendez-vous", include_titles=True)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rendez-vous-{event.pk}.ics"'
    return response


# --- ICS feeds --------------------------------------------------------------------------


@login_required
def feeds(request: HttpRequest) -> HttpResponse:
    """My subscription URLs; a new URL is shown once, right after it is made."""
    if request.method == "POST":
        form = FeedForm(request.POST)
        person = None
        if request.POST.get("person"):
            person = access.get_person_or_404(
                request.user, request.POST["person"], Category.AGENDA, "read", path=request.path
            )
        if form.is_valid():
            try:
                _feed, token = services.agenda_feed_create(actor=request.user, person=person, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                request.session["agenda_new_feed_url"] = _webcal(request, token)
                return redirect("agenda:feeds")
        messages.error(request, "Choisissez l'agenda.")
        return redirect("agenda:feeds")
    new_url = request.session.pop("agenda_new_feed_url", None)
    mine = list(AgendaFeed.objects.filter(owner=request.user).select_related("person").order_by("-created_at"))
    # An ended membership or a lost right takes the person's name away with the feed.
    followed = set(
        access.persons_visible_to(request.user, Category.AGENDA)
        .filter(pk__in={feed.person_id for feed in mine if feed.person_id})
        .values_list("pk", flat=True)
    )
    for subscription in mine:
        subscription.person_visible = subscription.person_id in followed
    return render(
        request,
        "agenda/feeds.html",
        {
            "feeds": mine,
            "new_url": new_url,
            "is_professional": rules.is_professional(request.user),
            "person_id": request.GET.get("personne", ""),
        },
    )


def _webcal(request, token: str) -> str:
    url = request.build_absolute_uri(reverse("agenda:feed", args=[token]))
    return "webcal://" + url.split("://", 1)[1]


@login_required
@require_POST
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(AgendaFeed, pk=feed_id, owner=request.user)
    if request.POST.get("regenerate"):
        _feed, token = services.agenda_feed_regenerate(actor=request.user, feed=feed)
        request.session["agenda_new_feed_url"] = _webcal(request, token)
        messages.success(request, "Nouvelle adresse créée ; l'ancienne ne fonctionne plus.")
    else:
        services.agenda_feed_revoke(actor=request.user, feed=feed)
        messages.success(request, "Abonnement révoqué : l'adresse ne fonctionne plus.")
    return redirect("agenda:feeds")


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS subscription itself (no session: the secret token is the credential). The
    owner must still hold the right; the read is logged by the gate."""
    subscription = services.feed_for_token(token)
    if subscription is None or not subscription.owner.is_active:
        raise Http404
    owner = subscription.owner
    now = timezone.now()
    since = now - timedelta(days=90)
    if subscription.kind == FeedOwnerKind.PERSON:
        try:
            access.require(owner, subscription.person, Category.AGENDA, "read", path=request.path)
        except PermissionDenied:
            raise Http404 from None
        queryset = selectors.person_events(owner, subscription.person)
        name = f"Agenda de {subscription.person.display_name}"
    else:
        queryset = selectors.professional_events(owner)
        name = "Mon agenda professionnel"
    events = list(
        queryset.filter(Q(series_ends_at__gte=since) | Q(series_ends_at__isnull=True))
        .prefetch_related("places")
        .order_by("starts_at")[:5000]
    )
    AgendaFeed.objects.filter(pk=subscription.pk).update(last_used_at=now)
    content = ics.calendar_for(events, name=name, include_titles=subscription.include_titles)
    return HttpResponse(content, content_type="text/calendar; charset=utf-8")


# --- External calendars -----------------------------------------------------------------


@login_required
def external_calendars(request: HttpRequest) -> HttpResponse:
    """My external calendars: last successful sync, last error; add by URL or file."""
    professional = getattr(request.user, "professional", None)
    if professional is None:
        raise Http404
    form = ExternalCalendarForm()
    status = 200
    if request.method == "POST":
        form = ExternalCalendarForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            content = data["file"].read() if data.get("file") else None
            try:
                calendar = services.external_calendar_add(
                    actor=request.user, name=data["name"], url=data.get("url") or "", content=content
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                calendar.refresh_from_db()
                if calendar.last_error:
                    messages.error(request, f"Agenda ajouté, mais : {calendar.last_error}")
                else:
                    messages.success(request, "Agenda ajouté. Ses créneaux apparaissent comme « Occupé ».")
                return redirect("agenda:external_calendars")
        status = 400
    calendars = list(professional.external_calendars.all())
    return render(request, "agenda/external_calendars.html", {"calendars": calendars, "form": form}, status=status)


@login_required
@require_POST
def external_calendar_action(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(ExternalCalendar, pk=calendar_id, professional__user=request.user)
    if request.POST.get("remove"):
        services.external_calendar_remove(actor=request.user, calendar=calendar)
        messages.success(request, "Agenda externe retiré.")
    elif request.FILES.get("file"):
        services.external_calendar_replace_file(
            actor=request.user, calendar=calendar, content=request.FILES["file"].read(10_000_000)
        )
        calendar.refresh_from_db()
        if calendar.last_error:
            messages.error(request, calendar.last_error)
        else:
            messages.success(request, "Agenda mis à jour.")
    elif calendar.url:
        ics.refresh(calendar)
        calendar.refresh_from_db()
        if calendar.last_error:
            messages.error(request, calendar.last_error)
        else:
            messages.success(request, "Agenda synchronisé.")
    return redirect("agenda:external_calendars")
