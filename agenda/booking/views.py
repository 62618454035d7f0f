"""Pages of availability and meeting booking, for professionals; the person's answer page
for a proposed appointment. Writes go through `agenda.availability` and `agenda.booking`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from agenda import availability, slots
from agenda.booking import services as booking
from agenda.booking.forms import ExceptionForm, PickForm, ProposalForm, ResponseForm, SearchForm, WindowForm
from agenda.models import AvailabilityException, AvailabilityWindow, Event, EventStatus, Participant, Response
from common.forms import add_service_errors
from common.timezone import PARIS
from coordination import access
from coordination.models import Category, Professional


def _professional(request: HttpRequest) -> Professional:
    professional = getattr(request.user, "professional", None)
    if professional is None or not professional.is_active:
        raise Http404
    return professional


def _with_participants(queryset):
    return queryset.prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("professional__user"))
    )


# --- Availability ----------------------------------------------------------------------------


@login_required
def availability_editor(request: HttpRequest) -> HttpResponse:
    """My weekly windows and exceptions, with the forms to add them."""
    professional = _professional(request)
    window_form = WindowForm(professional=professional, prefix="window")
    exception_form = ExceptionForm(prefix="exception")
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "window":
            window_form = WindowForm(request.POST, professional=professional, prefix="window")
            form, create = window_form, availability.availability_window_create
        else:
            exception_form = ExceptionForm(request.POST, prefix="exception")
            form, create = exception_form, availability.availability_exception_create
        if form.is_valid():
            try:
                create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Disponibilité enregistrée.")
                return redirect("agenda:availability")
        status = 400
    return render(
        request,
        "agenda/booking/availability.html",
        {
            "windows": AvailabilityWindow.objects.filter(professional=professional).select_related("structure"),
            "exceptions": AvailabilityException.objects.filter(professional=professional, ends_at__gte=timezone.now()),
            "window_form": window_form,
            "exception_form": exception_form,
        },
        status=status,
    )


@login_required
@require_POST
def availability_window_delete(request: HttpRequest, pk: int) -> HttpResponse:
    window = get_object_or_404(AvailabilityWindow, pk=pk, professional=_professional(request))
    availability.availability_window_delete(actor=request.user, window=window)
    messages.success(request, "Plage supprimée.")
    return redirect("agenda:availability")


@login_required
@require_POST
def availability_exception_delete(request: HttpRequest, pk: int) -> HttpResponse:
    exception = get_object_or_404(AvailabilityException, pk=pk, professional=_professional(request))
    availability.availability_exception_delete(actor=request.user, exception=exception)
    messages.success(request, "Exception supprimée.")
    return redirect("agenda:availability")


@login_required
def free_busy(request: HttpRequest, professional_id: int) -> HttpResponse:
    """A colleague's free/busy over the next two weeks (no titles, no persons)."""
    professional = availability.professional_for_viewer_or_404(request.user, professional_id)
    start = slots.local(timezone.localdate(), dt.time(0))
    end = start + dt.timedelta(days=14)
    spans = availability.free_busy(professional, start, end)
    return render(request, "agenda/booking/free_busy.html", {"professional": professional, **spans})


# --- Booking ---------------------------------------------------------------------------------


@login_required
def booking_search(request: HttpRequest) -> HttpResponse:
    """Criteria, then the proposed slots, each with a button to pick it."""
    professional = _professional(request)
    colleagues = availability.colleagues(professional)
    form = SearchForm(
        request.GET or None,
        colleagues=colleagues,
        initial={
            "window_start": timezone.localdate() + dt.timedelta(days=1),
            "window_end": timezone.localdate() + dt.timedelta(days=14),
        },
    )
    result = None
    picks = []
    if form.is_valid():
        invitees = list(form.cleaned_data["invitees"])
        result = slots.find_slots([professional.pk] + [p.pk for p in invitees], form.criteria())
        for slot in result.slots:
            picks.append(
                (
                    slot,
                    PickForm(
                        colleagues=colleagues,
                        initial={
                            "invitees": invitees,
                            "motive": form.cleaned_data["motive"],
                            "starts_at": slot.start.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
                            "ends_at": slot.end.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
                        },
                    ),
                )
            )
    return render(
        request,
        "agenda/booking/search.html",
        {"form": form, "result": result, "picks": picks},
        status=400 if request.GET and not form.is_valid() else 200,
    )


@login_required
@require_POST
def booking_pick(request: HttpRequest) -> HttpResponse:
    professional = _professional(request)
    form = PickForm(request.POST, colleagues=availability.colleagues(professional))
    if not form.is_valid():
        messages.error(request, "Ce créneau ne peut pas être réservé : refaites la recherche.")
        return redirect("agenda:booking_search")
    try:
        event = booking.meeting_hold(
            actor=request.user, **{k: (list(v) if k == "invitees" else v) for k, v in form.cleaned_data.items()}
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("agenda:booking_search")
    messages.success(request, "Créneau réservé : les invitations sont envoyées.")
    return redirect("agenda:booking_meeting", pk=event.pk)


@login_required
def booking_requests(request: HttpRequest) -> HttpResponse:
    """My meeting requests (organised or received) and my proposals, with the answers."""
    events = _with_participants(
        Event.objects.filter(participants__user=request.user, source="booking").distinct().order_by("-starts_at")
    )[:100]
    events = list(events)
    for event in events:
        event.mine = next((p for p in event.participants.all() if p.user_id == request.user.pk), None)
        event.no_answer = booking.no_answer(event)
    return render(
        request, "agenda/booking/requests.html", {"events": events, "no_answer_label": booking.NO_ANSWER_LABEL}
    )


def _meeting(request, pk: int) -> tuple[Event, Participant]:
    event = get_object_or_404(_with_participants(Event.objects.select_related("person")), pk=pk, source="booking")
    mine = next((p for p in event.participants.all() if p.user_id == request.user.pk), None)
    if mine is None:
        raise Http404
    return event, mine


@login_required
def booking_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting: its slot, the participants and their answers; the answer form for an
    invitee, the counter-proposals and cancel button for the organiser."""
    event, mine = _meeting(request, pk)
    form = ResponseForm()
    status = 200
    if request.method == "POST":
        form = ResponseForm(request.POST)
        if form.is_valid():
            try:
                booking.meeting_respond(actor=request.user, event=event, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Réponse enregistrée.")
                return redirect("agenda:booking_meeting", pk=event.pk)
        status = 400
    can_answer = (
        not mine.is_organiser
        and event.status == EventStatus.PROPOSED
        and (event.hold_expires_at is None or event.hold_expires_at > timezone.now())
    )
    return render(
        request,
        "agenda/booking/meeting.html",
        {
            "event": event,
            "mine": mine,
            "form": form if can_answer else None,
            "Response": Response,
            "counters": [p for p in event.participants.all() if p.counter_starts_at] if mine.is_organiser else [],
        },
        status=status,
    )


@login_required
@require_POST
def booking_accept_counter(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    event, mine = _meeting(request, pk)
    participant = get_object_or_404(Participant, pk=participant_id, event=event)
    try:
        booking.meeting_accept_counter(actor=request.user, event=event, participant=participant)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Réunion déplacée : les participants sont invités à répondre de nouveau.")
    return redirect("agenda:booking_meeting", pk=event.pk)


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event, mine = _meeting(request, pk)
    booking.meeting_cancel(actor=request.user, event=event)
    messages.success(request, "Réunion annulée : les participants sont prévenus.")
    return redirect("agenda:booking_meeting", pk=event.pk)


# --- Appointments proposed to the person -----------------------------------------------------


@login_required
def proposal_create(request: HttpRequest, person_id: int) -> HttpResponse:
    person = access.get_person_or_404(request.user, person_id, Category.AGENDA, "write", path=request.path)
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            booking.appointment_propose(actor=request.user, person=person, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Rendez-vous proposé : le créneau est réservé jusqu'à la réponse.")
            return redirect("agenda:booking_requests")
    return render(
        request,
        "agenda/booking/proposal_form.html",
        {"person": person, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """The person (or their carer/representative with agenda write) answers a proposal."""
    event = get_object_or_404(Event.objects.select_related("person"), pk=pk, answer_deadline__isnull=False)
    if not booking.may_answer(request.user, event):
        raise Http404
    if request.method == "POST":
        try:
            booking.appointment_answer(actor=request.user, event=event, accept=request.POST.get("answer") == "accept")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Merci, votre réponse est enregistrée.")
        return redirect("agenda:booking_proposal", pk=event.pk)
    return render(
        request,
        "agenda/booking/proposal.html",
        {"event": event, "open": event.status == EventStatus.PROPOSED and event.answer_deadline > timezone.now()},
    )
