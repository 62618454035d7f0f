""" "Qui a vu mes données": the access log in plain words.

The gate writes a row per check, so one page view of a professional leaves two or three
rows of one category. The page shows visits instead: the rows of one viewer on one
category of the person that follow each other within VISIT_GAP make one line, grouped by
day, newest first. The person's own visits and her legal representatives' are hidden
unless asked for ("Tout le monde, vous compris"). A page holds whole days (at least
LOG_PAGE_SIZE visits, or the last days); the next page starts before the last day shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from common.forms import Form
from coordination import access, rules
from coordination.models import (
    ACCESS_LOG,
    AccessLog,
    AccessVia,
    BreakGlassAccess,
    Category,
    CircleMember,
    Person,
)
from portal.user_portal.menu import of_name
from portal.user_portal.spaces import open_access_log, page_context, portal_page

LOG_PAGE_SIZE = 30
VISIT_GAP = dt.timedelta(minutes=30)
EVERYONE = "tous"

_VERB = {"read": "a consulté", "write": "a modifié"}
# Reads made by an export of the whole record (the records app logs them under its pages).
EXPORT_PATHS = ("/dossier-complet/",)

# What was seen, said to the person ("votre agenda") and to someone acting for her
# ("l'agenda de Jeanne").
_WHAT = {
    Category.RECORD: ("votre dossier", "le dossier de {}"),
    Category.AGENDA: ("votre agenda", "l'agenda de {}"),
    Category.LIAISON: ("votre cahier de liaison", "le cahier de liaison de {}"),
    Category.PPA: ("votre projet personnalisé", "le projet personnalisé de {}"),
    Category.DOCUMENTS: ("vos documents", "les documents de {}"),
    Category.CIRCLE: ("votre cercle et vos droits", "le cercle et les droits de {}"),
    Category.EVALUATION: ("vos évaluations", "les évaluations de {}"),
    Category.EXCHANGES: ("vos échanges avec l'équipe", "les échanges de {} avec l'équipe"),
    ACCESS_LOG: ("l'historique des accès à vos données", "l'historique des accès aux données de {}"),
}
# The most telling way in wins when a visit mixes them.
_VIA_RANK = [AccessVia.BREAK_GLASS, AccessVia.DELEGATION, AccessVia.REPRESENTATIVE, AccessVia.SCOPED]


def what_was_seen(category: str, person: Person, *, is_self: bool) -> str:
    yours, theirs = _WHAT.get(category, ("vos données", "les données de {}"))
    return yours if is_self else of_name(theirs, person.first_name or str(person))


@dataclass
class Visit:
    user: object
    category: str
    last_at: dt.datetime
    first_at: dt.datetime
    actions: set[str] = field(default_factory=set)
    vias: set[str] = field(default_factory=set)
    exported: bool = False
    sentence: str = ""
    glass: BreakGlassAccess | None = None

    @property
    def is_glass(self) -> bool:
        return AccessVia.BREAK_GLASS in self.vias

    @property
    def via(self) -> str:
        return next((v for v in _VIA_RANK if v in self.vias), "")


@dataclass
class Day:
    date: dt.date
    label: str
    visits: list[Visit] = field(default_factory=list)


class AccessLogFilterForm(Form):
    qui = forms.ChoiceField(label="Qui", required=False)
    categorie = forms.ChoiceField(label="Quelles informations", required=False)
    avant = forms.DateField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, person: Person, is_self: bool, viewers, **kwargs):
        super().__init__(*args, **kwargs)
        if is_self:
            others, everyone = "Tout le monde, sauf vous et vos représentants légaux", "Tout le monde, vous compris"
        else:
            name = person.first_name or str(person)
            others = f"Tout le monde, sauf {name}, ses représentants légaux et vous"
            everyone = f"Tout le monde, {name} et vous compris"
        self.fields["qui"].choices = [
            ("", others),
            (EVERYONE, everyone),
            *[(str(u.pk), u.get_full_name() or u.email) for u in viewers],
        ]
        self.fields["categorie"].choices = [
            ("", "Toutes les informations"),
            *[
                (
                    c,
                    what_was_seen(c, person, is_self=is_self)[:1].upper()
                    + what_was_seen(c, person, is_self=is_self)[1:],
                )
                for c, _ in [*Category.choices, (ACCESS_LOG, "")]
            ],
        ]


def _roles(person: Person, user_ids: set[int]) -> dict[int, str]:
    roles: dict[int, str] = {}
    for member in (
        CircleMember.objects.filter(person=person, user_id__in=user_ids)
        .select_related("structure")
        .order_by("started_at")
    ):
        label = member.get_role_display().lower()
        roles[member.user_id] = f"{label} ({member.structure.name})" if member.structure_id else label
    return roles


def visit_sentence(visit: Visit, roles: dict[int, str], person: Person, viewer) -> str:
    """'Inès Infirmière, infirmier·ère (EHPAD Les Tilleuls), a consulté votre cahier de
    liaison, à 10:02.' — said to the person, or to whoever acts for her."""
    is_self = viewer.pk == person.user_id
    verb = _VERB["write"] if "write" in visit.actions else _VERB["read"]
    if visit.exported:
        verb = "a exporté"
    if visit.user.pk == viewer.pk:
        who, verb = "Vous", verb.replace("a ", "avez ", 1)
    else:
        name = visit.user.get_full_name() or visit.user.email
        role = roles.get(visit.user.pk)
        who = f"{name}, {role}," if role else name
    sentence = f"{who} {verb} {what_was_seen(visit.category, person, is_self=is_self)}"
    if visit.via == AccessVia.REPRESENTATIVE:
        sentence += " (en tant que représentant légal)"
    elif visit.via == AccessVia.DELEGATION:
        sentence += " (par une délégation)"
    elif visit.via == AccessVia.BREAK_GLASS:
        sentence += " en urgence (bris de glace)"
    elif visit.via == AccessVia.SCOPED:
        sentence += " (dossier d'une demande d'admission qui lui a été envoyée)"
    first, last = timezone.localtime(visit.first_at), timezone.localtime(visit.last_at)
    if f"{first:%H:%M}" == f"{last:%H:%M}":
        return f"{sentence}, à {last:%H:%M}."
    return f"{sentence}, de {first:%H:%M} à {last:%H:%M}."


def _day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "Aujourd’hui"
    if day == today - dt.timedelta(days=1):
        return "Hier"
    return ""


def group_visits(entries, *, today: dt.date, page_size: int = LOG_PAGE_SIZE) -> tuple[list[Day], bool]:
    """Whole days of visits, newest first, until `page_size` visits; and whether older
    rows remain. `entries` is read lazily, newest first."""
    days: list[Day] = []
    open_visits: dict[tuple[int, str], Visit] = {}
    count = 0
    for row in entries:
        on = timezone.localtime(row.at).date()
        if not days or days[-1].date != on:
            if count >= page_size:
                return days, True
            days.append(Day(date=on, label=_day_label(on, today)))
            open_visits = {}
        key = (row.user_id, row.category)
        visit = open_visits.get(key)
        if visit is None or visit.first_at - row.at > VISIT_GAP:
            visit = Visit(user=row.user, category=row.category, last_at=row.at, first_at=row.at)
            open_visits[key] = visit
            days[-1].visits.append(visit)
            count += 1
        visit.first_at = row.at
        visit.actions.add(row.action)
        visit.vias.add(row.via)
        visit.exported = visit.exported or row.path.startswith(EXPORT_PATHS) or row.path.endswith("$everything")
    return days, False


@portal_page
def access_log(request: HttpRequest) -> HttpResponse:
    """The access log in plain language, one line per visit; break-the-glass with its reason."""
    person = open_access_log(request).person
    is_self = person.user_id == request.user.pk
    entries = access.access_log_entries(person)
    viewers = (
        get_user_model()
        .objects.filter(pk__in=AccessLog.objects.filter(person=person).values("user_id"))
        .order_by("last_name", "first_name", "pk")
    )
    form = AccessLogFilterForm(request.GET or None, person=person, is_self=is_self, viewers=viewers)
    status = 200
    who, category, before = "", "", None
    if form.is_bound:
        if form.is_valid():
            who, category, before = form.cleaned_data["qui"], form.cleaned_data["categorie"], form.cleaned_data["avant"]
        else:
            status = 400
    if who == "":
        hidden = {person.user_id, *rules.legal_representative_links(person=person).values_list("user_id", flat=True)}
        entries = entries.exclude(user_id__in=[pk for pk in hidden if pk])
    elif who != EVERYONE:
        entries = entries.filter(user_id=int(who))
    if category:
        entries = entries.filter(category=category)
    if before:
        start = timezone.make_aware(dt.datetime.combine(before, dt.time.min))
        entries = entries.filter(at__lt=start)
    days, has_more = group_visits(entries.iterator(chunk_size=200), today=timezone.localdate())
    visits = [v for d in days for v in d.visits]
    roles = _roles(person, {v.user.pk for v in visits})
    glass_users = {v.user.pk for v in visits if v.is_glass}
    glass = (
        list(BreakGlassAccess.objects.filter(person=person, user_id__in=glass_users).select_related("structure"))
        if glass_users
        else []
    )
    for visit in visits:
        if visit.is_glass:
            visit.glass = next(
                (g for g in glass if g.user_id == visit.user.pk and g.started_at <= visit.last_at <= g.expires_at), None
            )
            if visit.user.pk not in roles and visit.glass:
                roles[visit.user.pk] = visit.glass.structure.name
    for visit in visits:
        visit.sentence = visit_sentence(visit, roles, person, request.user)
    next_query = ""
    if has_more:
        query = request.GET.copy()
        query["avant"] = days[-1].date.isoformat()
        next_query = query.urlencode()
    return render(
        request,
        "portal/user/access_log.html",
        page_context(request, person, form=form, days=days, next_query=next_query, is_filtered=bool(request.GET)),
        status=status,
    )
