""" "Qui a vu mes données": the access log in plain words."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coordination import access
from coordination.models import (
    ACCESS_LOG,
    AccessLog,
    AccessVia,
    BreakGlassAccess,
    Category,
    CircleMember,
    Person,
)
from portal.user_portal.spaces import open_access_log, page_context, portal_page

LOG_PAGE_SIZE = 30


_VERB = {"read": "a consulté", "write": "a modifié"}
# Reads made by an export of the whole record (the records app logs them under its pages).
EXPORT_PATHS = ("/dossier-complet/",)


_WHAT = {
    Category.RECORD: "votre dossier",
    Category.AGENDA: "votre agenda",
    Category.LIAISON: "votre cahier de liaison",
    Category.PPA: "votre projet personnalisé",
    Category.DOCUMENTS: "vos documents",
    Category.CIRCLE: "votre cercle et vos droits",
    Category.EVALUATION: "vos évaluations",
    Category.EXCHANGES: "vos échanges avec l'équipe",
    ACCESS_LOG: "l'historique des accès à vos données",
}


def _who(log: AccessLog, roles: dict[int, str], person: Person) -> str:
    name = log.user.get_full_name() or log.user.email
    role = roles.get(log.user_id)
    return f"{name}, {role}" if role else name


def access_sentence(log: AccessLog, roles: dict[int, str], person: Person) -> str:
    """'Marie Dupont, infirmière du SSIAD, a consulté votre cahier de liaison le 12/11 à 10:02'."""
    at = timezone.localtime(log.at)
    verb = _VERB.get(log.action, "a consulté")
    if log.path.startswith(EXPORT_PATHS) or log.path.endswith("$everything"):
        verb = "a exporté"
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
    person = open_access_log(request).person
    logs = access.access_log_entries(person)
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
    return render(request, "portal/user/access_log.html", page_context(request, person, page=page, rows=rows))
