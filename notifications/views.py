"""The notification centre and preferences, for everyone (professionals, persons, carers)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common.forms import Form
from common.notify import Frequency, blocks, catalogue
from notifications import selectors, services
from notifications.models import Notification
from notifications.services import preferences_for


class NotificationFilterForm(Form):
    unread = forms.BooleanField(label="Non lues seulement", required=False)
    block = forms.ChoiceField(label="Domaine", required=False, choices=lambda: [("", "Tous"), *blocks().items()])


def _mine(user):
    return selectors.mine(user)


def unread_count(user) -> int:
    """The badge counts groups (type × person) with something unread, not single rows."""
    return selectors.unread_groups_count(user)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """My notifications, grouped by type and person, unread groups first."""
    form = NotificationFilterForm(request.GET or None)
    notifications = _mine(request.user)
    if form.is_valid():
        if form.cleaned_data["unread"]:
            notifications = notifications.filter(read_at__isnull=True)
        if form.cleaned_data["block"]:
            notifications = notifications.filter(event_type__startswith=f"{form.cleaned_data['block']}.")
    page = Paginator(selectors.group_rows(notifications), 30).get_page(request.GET.get("page"))
    page.object_list = selectors.decorate(request.user, page.object_list, path=request.path)
    template = "notifications/snippets/notification_list.html" if request.htmx else "notifications/notifications.html"
    return render(request, template, {"form": form, "page": page})


def _group_of(request, event_type: str, person_id: int):
    if event_type not in catalogue():
        raise Http404
    notifications = _mine(request.user).filter(event_type=event_type, person_id=person_id or None)
    if not notifications.exists():
        raise Http404
    return notifications


@login_required
def notification_group(request: HttpRequest, event_type: str, person_id: int) -> HttpResponse:
    """The notifications of one group, each with what the gate lets me see of it."""
    notifications = _group_of(request, event_type, person_id)
    group = selectors.decorate(request.user, selectors.group_rows(notifications)[:1], path=request.path)[0]
    page = Paginator(notifications.select_related("actor").order_by("read_at", "-created_at", "-pk"), 30).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    selectors.describe_notifications(request.user, page.object_list, path=request.path)
    return render(request, "notifications/group.html", {"group": group, "page": page})


@login_required
@require_POST
def notification_group_mark_read(request: HttpRequest, event_type: str, person_id: int) -> HttpResponse:
    notifications = _group_of(request, event_type, person_id)
    services.notifications_mark_group_read(actor=request.user, event_type=event_type, person_id=person_id or None)
    if request.htmx:
        group = selectors.decorate(request.user, selectors.group_rows(notifications)[:1], path=request.path)[0]
        return render(
            request,
            "notifications/snippets/group_item.html",
            {"g": group, "unread": unread_count(request.user), "oob": True},
        )
    messages.success(request, "Marqué comme lu.")
    return redirect("notifications:list")


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(_mine(request.user), pk=notification_id)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    target = notification.url or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_required
@require_POST
def notification_mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(_mine(request.user).select_related("actor"), pk=notification_id)
    services.notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        selectors.describe_notifications(request.user, [notification], path=request.path)
        return render(
            request,
            "notifications/snippets/notification_item.html",
            {
                "n": notification,
                "message": getattr(catalogue().get(notification.event_type), "message", ""),
                "unread": unread_count(request.user),
                "oob": True,
            },
        )
    return redirect("notifications:list")


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(
        request, "Aucune notification à marquer." if not count else f"{count} notification(s) marquée(s) comme lue(s)."
    )
    return redirect("notifications:list")


@login_required
def unread_badge(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/snippets/unread_badge.html", {"unread": unread_count(request.user)})


class PreferenceForm(Form):
    frequency = forms.ChoiceField(label="Fréquence", choices=Frequency.choices)
    in_app = forms.BooleanField(label="Dans le portail", required=False)
    email = forms.BooleanField(label="Par e-mail", required=False)
    sms = forms.BooleanField(label="Par SMS", required=False)


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    rows = []
    for kind, preference in preferences_for(request.user):
        initial = {
            "frequency": preference.frequency,
            "in_app": preference.in_app,
            "email": preference.email,
            "sms": preference.sms,
        }
        form = PreferenceForm(request.POST or None, prefix=kind.key.replace(".", "-"), initial=initial)
        if not kind.mutable:
            for field in form.fields.values():
                field.disabled = True
        rows.append((kind, form))
    if request.method == "POST":
        if all(form.is_valid() for kind, form in rows):
            with transaction.atomic():
                for kind, form in rows:
                    if not kind.mutable:
                        continue
                    services.preference_set(actor=request.user, event_type=kind.key, **form.cleaned_data)
            messages.success(request, "Vos préférences de notification sont enregistrées.")
            return redirect("notifications:preferences")
    grouped = [(label, [(k, f) for k, f in rows if k.block == block]) for block, label in blocks().items()]
    return render(
        request,
        "notifications/notification_preferences.html",
        {"blocks": grouped, "has_phone": bool(request.user.phone)},
        status=400 if request.method == "POST" else 200,
    )
