"""Availability of professionals: weekly windows and exceptions (services and selectors).

Another professional sees someone's availability as free/busy only (no titles, no
persons), and only when they share a circle (both active members of one person's circle)
or a structure team; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from agenda import slots
from agenda.audit_types import AgendaAudit
from agenda.models import AvailabilityException, AvailabilityWindow, ExceptionKind
from coordination.models import CircleMember, Profession, Professional, Structure, TeamMembership
from coordination.services import audit


def _active_teams(professional: Professional) -> QuerySet:
    return TeamMembership.objects.filter(professional=professional, ended_on__isnull=True)


def colleagues(professional: Professional) -> QuerySet[Professional]:
    """Active professionals who share a circle or a structure with `professional` (them excluded)."""
    shared_circle = CircleMember.objects.filter(
        ended_at__isnull=True,
        professional=OuterRef("pk"),
        person__in=CircleMember.objects.filter(ended_at__isnull=True, professional=professional).values("person"),
    )
    shared_team = TeamMembership.objects.filter(
        ended_on__isnull=True,
        professional=OuterRef("pk"),
        structure__in=_active_teams(professional).values("structure"),
    )
    return (
        Professional.objects.filter(is_active=True)
        .exclude(profession=Profession.SOFTWARE)  # a structure's software is no one to meet
        .filter(Q(Exists(shared_circle)) | Q(Exists(shared_team)))
        .exclude(pk=professional.pk)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def shares_with(viewer, professional: Professional) -> bool:
    viewer_pro = getattr(viewer, "professional", None) if getattr(viewer, "is_authenticated", False) else None
    if viewer_pro is None:
        return False
    if viewer_pro.pk == professional.pk:
        return True
    return colleagues(viewer_pro).filter(pk=professional.pk).exists()


def professional_for_viewer_or_404(viewer, professional_id) -> Professional:
    """The professional whose free/busy `viewer` may see; 404 otherwise (as for a stranger)."""
    try:
        professional = Professional.objects.select_related("user").get(pk=int(professional_id), is_active=True)
    except (Professional.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    if not shares_with(viewer, professional):
        raise Http404
    return professional


def free_busy(professional: Professional, start: dt.datetime, end: dt.datetime) -> dict:
    """Free and busy spans only: what colleagues may see of a professional's time."""
    calendar = slots.load_calendars([professional.pk], start, end)[professional.pk]
    free = slots.available(calendar, start, end)
    busy = slots.intersect(calendar.busy, [(start, end)])
    return {"free": slots.subtract(free, busy), "busy": busy}


def _own_professional(actor) -> Professional:
    professional = getattr(actor, "professional", None)
    if professional is None:
        raise ValidationError("Seuls les professionnels déclarent des disponibilités.")
    return professional


@transaction.atomic
def availability_window_create(
    *,
    actor,
    structure: Structure,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    place_kind: str = "address",
    place_label: str = "",
) -> AvailabilityWindow:
    """Add a weekly window for the actor, in a structure of their team. Guarantees start <
    end and valid dates in order; audited."""
    professional = _own_professional(actor)
    errors = {}
    if not _active_teams(professional).filter(structure=structure).exists():
        errors["structure"] = "Choisissez une structure dont vous faites partie."
    if end_time <= start_time:
        errors["end_time"] = "L'heure de fin doit être après l'heure de début."
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = "La date de fin doit être après la date de début."
    if errors:
        raise ValidationError(errors)
    window = AvailabilityWindow.objects.create(
        professional=professional,
        structure=structure,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        valid_from=valid_from or dt.date.today(),
        valid_until=valid_until,
        place_kind=place_kind,
        place_label=place_label,
    )
    audit(actor, None, AgendaAudit.EVENT_CREATED, availability_window=window.pk)
    return window


@transaction.atomic
def availability_window_delete(*, actor, window: AvailabilityWindow) -> None:
    """Remove one of the actor's own windows (bookings already made stay)."""
    if window.professional_id != _own_professional(actor).pk:
        raise Http404
    audit(actor, None, AgendaAudit.EVENT_CANCELLED, availability_window=window.pk)
    window.delete()


@transaction.atomic
def availability_exception_create(
    *, actor, kind: str, starts_at: dt.datetime, ends_at: dt.datetime, label: str = ""
) -> AvailabilityException:
    """Add an absence, a holiday or a one-off extra window for the actor; audited."""
    professional = _own_professional(actor)
    errors = {}
    if kind not in ExceptionKind.values:
        errors["kind"] = "Choisissez le type d'exception."
    if ends_at <= starts_at:
        errors["ends_at"] = "La fin doit être après le début."
    if errors:
        raise ValidationError(errors)
    exception = AvailabilityException.objects.create(
        professional=professional, kind=kind, starts_at=starts_at, ends_at=ends_at, label=label
    )
    audit(actor, None, AgendaAudit.EVENT_CREATED, availability_exception=exception.pk)
    return exception


@transaction.atomic
def availability_exception_delete(*, actor, exception: AvailabilityException) -> None:
    if exception.professional_id != _own_professional(actor).pk:
        raise Http404
    audit(actor, None, AgendaAudit.EVENT_CANCELLED, availability_exception=exception.pk)
    exception.delete()
