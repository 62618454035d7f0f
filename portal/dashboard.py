"""The professional's day (`/pro/`): the blocks' selectors, assembled.

Each block exposes the querysets of what waits for the user (built on the gate's
querysets, so a section lists only what the user may see); here they become sections
of a count and the first items (`common.dashboard.sections`: at most `COUNT_CAP` rows
of the few fields shown, the eleven statements sent in one round trip, written by
`portal.dashboard_items`), in a fixed number of queries whatever the caseload. A structure administrator also gets the
figures of one structure they administer, each list exportable as CSV (`exports`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from admission import selectors as admission_selectors
from admission.models import RequesterKind
from agenda import selectors as agenda_selectors
from common.dashboard import Section, counts, sections
from coordination import access, rules
from coordination import selectors as coordination_selectors
from coordination.models import AccessVia, Category, Person, Structure
from documents import selectors as document_selectors
from liaison import selectors as liaison_selectors
from portal.dashboard_items import FIELDS, PERSON, ItemRenderer
from ppa import selectors as ppa_selectors


@dataclass
class DaySection:
    key: str  # the snippet `portal/dashboard/<key>.html` lists its items
    title: str
    empty: str  # one line when there is nothing
    section: Section
    link: str = ""  # the page where the whole list is worked on
    link_label: str = ""
    items_html: SafeString | None = None  # the first items, `<li>` each


@dataclass
class Day:
    sections: list[DaySection]
    agenda: dict[str, list] = field(default_factory=dict)  # "today" / "tomorrow": occurrences
    agenda_html: dict[str, SafeString] = field(default_factory=dict)  # the same, written


def _day(key: str, title: str, empty: str, queryset: QuerySet, link: str = "", link_label: str = ""):
    return key, title, empty, queryset, link, link_label


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


# The (category, action) pairs the sections and the figures filter on.
REACH = (
    (Category.LIAISON, "read"),
    (Category.AGENDA, "read"),
    (Category.DOCUMENTS, "read"),
    (Category.DOCUMENTS, "write"),
    (Category.PPA, "read"),
    (Category.PPA, "write"),
    (Category.CIRCLE, "read"),
    (Category.RECORD, "read"),
)


def reach_for(user) -> access.Reach:
    """The persons the page may show, read once for the whole page (two queries: the
    delegation probe, then the matrix's rows), passed to every section and figure: each
    list filters on these ids instead of building the gate's subquery again."""
    return access.reach_of(user, REACH)


def professional_day(user, *, path: str = "", reach: access.Reach | None = None) -> Day:
    """Every section of the professional's day, and the log rows of what it shows."""
    reach = reach or reach_for(user)
    delegate = reach.delegate
    lists = [
        _day(
            "receipts",
            "Transmissions qui attendent mon accusé de réception",
            "Aucune transmission n'attend votre accusé de réception.",
            liaison_selectors.awaiting_my_receipt(user, delegate=delegate, reach=reach),
            reverse("liaison:feed"),
            "Mon fil",
        ),
        _day(
            "alerts",
            f"Alertes et évènements remarquables des {liaison_selectors.RECENT_ALERT_DAYS} derniers jours",
            "Aucune alerte ni évènement remarquable ces derniers jours.",
            liaison_selectors.recent_alerts(user, delegate=delegate, reach=reach),
            reverse("liaison:feed"),
            "Mon fil",
        ),
        _day(
            "meetings",
            "Réunions qui attendent ma réponse",
            "Aucune réunion n'attend votre réponse.",
            agenda_selectors.meetings_awaiting_my_answer(user),
            reverse("agenda:booking_requests"),
            "Mes réunions",
        ),
        _day(
            "holds",
            f"Créneaux réservés qui expirent dans les {agenda_selectors.HOLD_EXPIRY_WARNING_HOURS} heures",
            "Aucun créneau réservé n'expire bientôt.",
            agenda_selectors.holds_expiring(user),
            reverse("agenda:booking_requests"),
            "Mes réunions",
        ),
        _day(
            "proposals",
            "Rendez-vous proposés aux personnes, sans réponse",
            "Aucun rendez-vous proposé n'attend de réponse.",
            agenda_selectors.proposals_unanswered(user, delegate=delegate, reach=reach),
            reverse("agenda:booking_requests"),
            "Mes réunions",
        ),
        _day(
            "documents",
            "Documents à examiner",
            "Aucun document à examiner.",
            document_selectors.to_review(user, delegate=delegate, reach=reach),
            reverse("documents:inbox"),
            "Documents à examiner",
        ),
        _day(
            "sign",
            "Projets personnalisés à signer",
            "Aucun projet personnalisé n'attend votre signature.",
            ppa_selectors.to_sign(user, delegate=delegate, reach=reach),
        ),
        _day(
            "reviews_soon",
            f"Projets personnalisés à réviser dans les {ppa_selectors.review_soon_days()} jours",
            "Aucune révision de projet personnalisé à prévoir.",
            ppa_selectors.reviews_soon(user, delegate=delegate, reach=reach),
        ),
        _day(
            "reviews_overdue",
            "Projets personnalisés en retard de révision",
            "Aucun projet personnalisé en retard de révision.",
            ppa_selectors.reviews_overdue(user, delegate=delegate, reach=reach),
            reverse("ppa:overdue"),
            "Révisions de PPA",
        ),
        _day(
            "join_requests",
            "Demandes d'entrée dans un cercle en attente",
            "Aucune demande d'entrée en attente.",
            coordination_selectors.join_requests_waiting(user, delegate=delegate, reach=reach),
        ),
        _day(
            "delegations",
            "Délégations en attente du consentement de la personne",
            "Aucune délégation en attente.",
            coordination_selectors.delegations_waiting(user, delegate=delegate, reach=reach),
        ),
    ]
    # The eleven lists in one round trip (`common.dashboard.sections`).
    found = sections([(queryset, FIELDS[key]) for key, _title, _empty, queryset, _link, _label in lists])
    day_sections = [
        DaySection(key, title, empty, section, link, label)
        for (key, title, empty, _queryset, link, label), section in zip(lists, found, strict=True)
    ]
    today = timezone.localdate()
    start = _local_midnight(today)
    items = agenda_selectors.my_days(user, start, _local_midnight(today + timedelta(days=2)))
    agenda = {
        "today": [o for o in items if o.starts_at < _local_midnight(today + timedelta(days=1))],
        "tomorrow": [o for o in items if o.starts_at >= _local_midnight(today + timedelta(days=1))],
    }
    renderer = ItemRenderer()
    for day_section in day_sections:
        day_section.items_html = renderer.many(day_section.key, day_section.section.items)
    agenda_html = {
        "today": renderer.agenda(agenda["today"], "Rien de prévu aujourd'hui."),
        "tomorrow": renderer.agenda(agenda["tomorrow"], "Rien de prévu demain."),
    }
    _log(user, day_sections, path, reach)
    return Day(day_sections, agenda, agenda_html)


# The category each section reads (the sections about a person, `dashboard_items.PERSON`).
_LOGGED: dict[str, str] = {
    "receipts": Category.LIAISON,
    "alerts": Category.LIAISON,
    "proposals": Category.AGENDA,
    "documents": Category.DOCUMENTS,
    "sign": Category.PPA,
    "reviews_soon": Category.PPA,
    "reviews_overdue": Category.PPA,
    "join_requests": Category.CIRCLE,
    "delegations": Category.RECORD,
}


def _log(user, sections: list[DaySection], path: str, reach: access.Reach) -> None:
    """One access-log row per person and category shown, all in one INSERT (the person
    read as its id and account, what the log row and `access._listed_via` need, and
    whether the reach came through a delegation: the row then says so)."""
    reads: dict[tuple[int, str], int | None] = {}
    for day_section in sections:
        if day_section.key not in _LOGGED:
            continue
        category, prefix = _LOGGED[day_section.key], PERSON[day_section.key]
        for item in day_section.section.items:
            reads[(item[prefix], category)] = item[prefix + "__user"]
    persons = []
    for (pk, category), user_id in reads.items():
        person = Person(pk=pk, user_id=user_id)
        person.via_matrix = reach.via(pk, category) != AccessVia.DELEGATION  # type: ignore[attr-defined]
        persons.append((person, category))
    access.log_listed(user, persons, path=path)


# --- The structure's figures (structure administrators) -----------------------------------------


@dataclass
class Figure:
    slug: str  # the export's name
    label: str
    count: int


def administered(user) -> list[Structure]:
    return list(rules.administered_structures(user).order_by("name"))


def structure_figures(user, structure: Structure, *, reach: access.Reach | None = None) -> list[Figure]:
    """Persons accompanied, PPAs up to date / due / overdue, receipts overdue, documents
    waiting, admission requests in progress: one query for all (`common.dashboard.counts`)."""
    reach = reach or reach_for(user)
    lists = {
        "personnes": coordination_selectors.accompanied_persons(user, structure, reach=reach),
        **{
            slug: ppa_selectors.structure_plans(user, structure, slug, reach=reach)
            for slug in ppa_selectors.PLAN_STATES
        },
        "accuses-en-retard": liaison_selectors.structure_receipts_overdue(user, structure, reach=reach),
        "documents-en-attente": document_selectors.structure_waiting(user, structure, reach=reach),
        "demandes-admission": admission_selectors.structure_open_copies(structure),
    }
    found = counts(lists)
    return [Figure(slug, FIGURE_LABELS[slug], found[slug]) for slug in lists]


FIGURE_LABELS = {
    "personnes": "Personnes accompagnées",
    **ppa_selectors.PLAN_STATES,
    "accuses-en-retard": "Accusés de réception en retard",
    "documents-en-attente": "Documents en attente",
    "demandes-admission": "Demandes d'admission en cours",
}


EXPORT_SLUGS = (
    "personnes",
    *ppa_selectors.PLAN_STATES,
    "accuses-en-retard",
    "documents-en-attente",
    "demandes-admission",
)


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def export_rows(user, structure: Structure, slug: str) -> tuple[str, list[list[str]], Iterable[Person]]:
    """(file title, rows with their header, the persons shown) of one figure's list.
    Administrative columns only: names, dates, statuses — no health text."""
    if slug == "personnes":
        persons = list(coordination_selectors.accompanied_persons(user, structure))
        since = coordination_selectors.accompaniment_starts(structure, persons)
        rows = [["Nom", "Prénom", "Date de naissance", "Accompagnée depuis le"]]
        rows += [
            [
                p.used_name or p.birth_name,
                p.first_name or p.birth_first_names,
                _date(p.birth_date),
                _date(since.get(p.pk)),
            ]
            for p in persons
        ]
        return "personnes-accompagnees", rows, persons
    if slug in ppa_selectors.PLAN_STATES:
        versions = list(ppa_selectors.structure_plans(user, structure, slug))
        rows = [["Personne", "Version", "Validée le", "Révision prévue le"]]
        rows += [
            [v.plan.person.display_name, str(v.number), _date(v.validated_at), _date(v.review_due_on)] for v in versions
        ]
        return f"ppa-{slug}", rows, [v.plan.person for v in versions]
    if slug == "accuses-en-retard":
        addressees = list(liaison_selectors.structure_receipts_overdue(user, structure))
        rows = [["Personne", "Transmission du", "Auteur", "Destinataire"]]
        rows += [
            [
                a.transmission.person.display_name,
                _date(a.transmission.created_at),
                a.transmission.author.get_full_name() or a.transmission.author.email,
                a.user.get_full_name() or a.user.email,
            ]
            for a in addressees
        ]
        return slug, rows, [a.transmission.person for a in addressees]
    if slug == "documents-en-attente":
        documents = list(document_selectors.structure_waiting(user, structure))
        rows = [["Personne", "Titre", "Type", "Déposé par", "Déposé le", "Statut"]]
        rows += [
            [
                d.person.display_name,
                d.title,
                d.get_doc_type_display(),
                d.author.get_full_name() or d.author.email,
                _date(d.created_at),
                d.get_status_display(),
            ]
            for d in documents
        ]
        return slug, rows, [d.person for d in documents]
    if slug == "demandes-admission":
        # Received by the structure, whose file it reads through the admission scope while
        # the request is open: no text of the request (its needs and message stay in the file).
        copies = list(admission_selectors.structure_open_copies(structure))
        rows = [["Personne", "Date de naissance", "Demandée par", "Reçue le", "Statut", "Mise à jour le"]]
        rows += [
            [
                c.request.person.display_name,
                _date(c.request.person.birth_date),
                RequesterKind(c.request.requester_kind).label
                if c.request.requester_kind in RequesterKind.values
                else "",
                _date(c.created_at),
                c.get_status_display(),
                _date(c.updated_at),
            ]
            for c in copies
        ]
        return slug, rows, [c.request.person for c in copies]
    raise KeyError(slug)


EXPORT_CATEGORY = {
    "personnes": Category.RECORD,
    "accuses-en-retard": Category.LIAISON,
    "documents-en-attente": Category.DOCUMENTS,
    "demandes-admission": Category.RECORD,
    **dict.fromkeys(ppa_selectors.PLAN_STATES, Category.PPA),
}


# How the persons of an export were reached, when not through the gate's lists.
EXPORT_VIA = {"demandes-admission": AccessVia.SCOPED}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    # A cell a spreadsheet would read as a formula is written as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(rows: list[list[str]]) -> Iterator[str]:
    """Semicolon-separated lines with a BOM, as a spreadsheet in French expects them."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])
