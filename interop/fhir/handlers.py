"""Reads and searches of the FHIR facade, one handler per resource type.

Every read of a person's data asks the one gate (`coordination.access.require`, which
writes the access-log row) and then reads through the block's own selectors (what the
pages show is what the API shows). A search page runs a fixed number of queries,
whatever the size of the data: keyset paging, and per page one query per related set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from agenda import availability
from agenda import selectors as agenda_selectors
from agenda.models import Event
from coordination import access
from coordination.models import (
    CarerLink,
    Category,
    CircleMember,
    Consent,
    Person,
    Profession,
    Professional,
    Structure,
    TeamMembership,
)
from documents import selectors as document_selectors
from documents.models import Document, DocumentStatus
from interop.auth import Caller
from interop.fhir import codes, resources
from interop.fhir.common import FhirError, Query, Source, date_q, invalid, not_found, page
from interop.models import ResourceKind, SourceIdentifier, Subscription
from liaison import selectors as liaison_selectors
from liaison.models import Attachment, Scope, Transmission, TransmissionStatus
from ppa import selectors as ppa_selectors
from ppa.models import Need, Objective, PlanVersion, SignOff, VersionStatus


@dataclass
class Context:
    caller: Caller
    path: str

    @property
    def user(self):
        return self.caller.user

    def gate(self, person: Person | int, category: str, action: str = "read") -> Person:
        """The one gate: 404 outside the caller's reach, 403 in the circle without the right."""
        try:
            return access.require(self.user, person, category, action, path=self.path).person
        except Http404:
            raise not_found() from None
        except access.AccessDenied as denied:
            raise FhirError(403, str(denied), code="forbidden") from None

    def may(self, person: Person | int, category: str) -> bool | None:
        """For searches over several categories: True (allowed, logged), False (in the
        circle without this right), None (outside the reach)."""
        try:
            self.gate(person, category)
        except FhirError as error:
            return None if error.status == 404 else False
        return True


@dataclass
class Result:
    resources: list[dict]
    next_cursor: str | None = None
    included: list[dict] = field(default_factory=list)


@dataclass
class Handler:
    name: str
    read: Callable[[Context, str], dict]
    search: Callable[[Context, Query], Result]
    params: dict[str, tuple[str, str]]  # name -> (FHIR type, documentation)
    profile: str | None = None
    documentation: str = ""
    writes: tuple[str, ...] = ()  # "update" (conditional), "create", "delete"
    includes: tuple[str, ...] = ()


def _int(value: str, resource_type: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise not_found(resource_type) from None
    if number <= 0 or number > 2**62:
        raise not_found(resource_type)
    return number


def _ids(tokens, prefix: str = "") -> list[int]:
    """The numeric ids among `_id` values `prefix<n>`."""
    found = []
    for token in tokens:
        tail = token.code[len(prefix) :] if token.code.startswith(prefix) else ""
        if tail.isdigit() and len(tail) < 18:
            found.append(int(tail))
    return found


def _prefixed(value: str, prefix: str, resource_type: str) -> int:
    if not value.startswith(prefix):
        raise not_found(resource_type)
    return _int(value[len(prefix) :], resource_type)


# --- Persons -------------------------------------------------------------------------------------


def _local_identifiers(ctx: Context, kind: str, object_ids) -> dict[int, list[SourceIdentifier]]:
    """The identifiers the caller's own software gave to these objects (one query)."""
    result: dict[int, list[SourceIdentifier]] = {}
    if ctx.caller.software is None:
        return result
    for identifier in SourceIdentifier.objects.filter(
        software=ctx.caller.software, kind=kind, object_id__in=list(object_ids)
    ):
        result.setdefault(identifier.object_id, []).append(identifier)
    return result


def _find_person_id(ctx: Context, system: str | None, value: str) -> int | None:
    """A person from an identifier: INS, the portal's own id, or the caller software's."""
    if system in codes.INS_SYSTEMS:
        return Person.objects.filter(ins_matricule=value.replace(" ", "").upper()).values_list("pk", flat=True).first()
    if system == codes.local_system("identifiant-personne"):
        return int(value) if value.isdigit() else None
    if ctx.caller.software is not None:
        match = SourceIdentifier.objects.filter(software=ctx.caller.software, kind=ResourceKind.PATIENT, value=value)
        if system:
            match = match.filter(system=system)
        return match.values_list("object_id", flat=True).first()
    return None


def patient_of(ctx: Context, query: Query, category: str, *, required: bool = True) -> Person | None:
    """The person a search is about (`patient`, `subject`, `patient.identifier`), through the gate."""
    person_id = None
    for name in ("patient", "subject"):
        if name in query.request.GET:
            raw = query.reference_id(name, "Patient")
            person_id = _int(raw, "Patient")
    tokens = query.tokens("patient.identifier") if "patient.identifier" in query.request.GET else None
    if tokens:
        person_id = _find_person_id(ctx, tokens[0].system, tokens[0].code)
        if person_id is None:
            raise not_found("Patient")
    if person_id is None:
        if required:
            raise invalid(query.resource_type, "le paramètre patient (ou patient.identifier) est obligatoire.")
        return None
    return ctx.gate(person_id, category)


def read_patient(ctx: Context, resource_id: str) -> dict:
    person = ctx.gate(_int(resource_id, "Patient"), Category.RECORD)
    return resources.patient(person, _local_identifiers(ctx, ResourceKind.PATIENT, [person.pk]).get(person.pk, []))


def search_patient(ctx: Context, query: Query) -> Result:
    persons = access.persons_visible_to(ctx.user, Category.RECORD)
    ids = query.tokens("_id")
    if ids:
        persons = persons.filter(pk__in=_ids(ids))
    tokens = query.tokens("identifier")
    if tokens:
        found = [_find_person_id(ctx, t.system, t.code) for t in tokens]
        persons = persons.filter(pk__in=[pk for pk in found if pk])
    for name, fields in (("family", ("birth_name", "used_name")), ("given", ("birth_first_names", "first_name"))):
        value = query.one(name)
        if value:
            q = Q()
            for f in fields:
                q |= Q(**{f"{f}__istartswith": value})
            persons = persons.filter(q)
    value = query.one("name")
    if value:
        persons = persons.filter(
            Q(birth_name__icontains=value) | Q(used_name__icontains=value) | Q(birth_first_names__icontains=value)
        )
    dates = query.dates("birthdate")
    if dates:
        if dates.start:
            persons = persons.filter(birth_date__gte=dates.start.date())
        if dates.end:
            persons = persons.filter(birth_date__lt=dates.end.date())
    items, cursor = page([Source(persons, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    found = [obj for _i, obj in items]
    access.log_many(ctx.user, found, Category.RECORD, path=ctx.path)
    identifiers = _local_identifiers(ctx, ResourceKind.PATIENT, [p.pk for p in found])
    return Result([resources.patient(p, identifiers.get(p.pk, [])) for p in found], cursor)


def read_related_person(ctx: Context, resource_id: str) -> dict:
    link = CarerLink.objects.select_related("user").filter(pk=_int(resource_id, "RelatedPerson")).first()
    if link is None:
        raise not_found("RelatedPerson")
    ctx.gate(link.person_id, Category.CIRCLE)
    return resources.related_person(link)


def search_related_person(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.CIRCLE)
    links = CarerLink.objects.filter(person=person).select_related("user")
    ids = query.tokens("_id")
    if ids:
        links = links.filter(pk__in=_ids(ids))
    items, cursor = page([Source(links, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result([resources.related_person(link) for _i, link in items], cursor)


# --- Structures and professionals ---------------------------------------------------------------


def read_organization(ctx: Context, resource_id: str) -> dict:
    structure = Structure.objects.filter(pk=_int(resource_id, "Organization")).first()
    if structure is None:
        raise not_found("Organization")
    return resources.organization(structure)


def search_organization(ctx: Context, query: Query) -> Result:
    structures = Structure.objects.all()
    ids = query.tokens("_id")
    if ids:
        structures = structures.filter(pk__in=_ids(ids))
    tokens = query.tokens("identifier")
    if tokens:
        q = Q()
        for token in tokens:
            value = token.code.upper()
            if token.system == codes.IDNAT_STRUCT_SYSTEM and value.startswith("1"):
                value = value[1:]
            elif token.system not in (None, codes.FINESS_SYSTEM, codes.IDNAT_STRUCT_SYSTEM):
                continue
            q |= Q(finess=value)
        structures = structures.filter(q) if q else structures.none()
    name = query.one("name")
    if name:
        structures = structures.filter(name__icontains=name)
    items, cursor = page([Source(structures, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result([resources.organization(s) for _i, s in items], cursor)


def _visible_professionals(ctx: Context):
    """Who the caller may see as a professional: themself and their colleagues (a shared
    circle or structure team, the rule of `agenda.availability`)."""
    own = getattr(ctx.user, "professional", None)
    if own is None:
        return Professional.objects.none()
    return (
        Professional.objects.filter(Q(pk__in=availability.colleagues(own).values("pk")) | Q(pk=own.pk))
        .exclude(profession=Profession.SOFTWARE)
        .select_related("user")
    )


def _professional(ctx: Context, professional_id: int, resource_type: str) -> Professional:
    professional = _visible_professionals(ctx).filter(pk=professional_id).first()
    if professional is None:
        raise not_found(resource_type)
    return professional


def read_practitioner(ctx: Context, resource_id: str) -> dict:
    return resources.practitioner(_professional(ctx, _int(resource_id, "Practitioner"), "Practitioner"))


def search_practitioner(ctx: Context, query: Query) -> Result:
    professionals = _visible_professionals(ctx)
    ids = query.tokens("_id")
    if ids:
        professionals = professionals.filter(pk__in=_ids(ids))
    tokens = query.tokens("identifier")
    if tokens:
        values = [t.code[1:] if t.code.startswith("8") and len(t.code) == 12 else t.code for t in tokens]
        professionals = professionals.filter(rpps__in=values)
    name = query.one("name") or query.one("family")
    if name:
        professionals = professionals.filter(Q(user__last_name__icontains=name) | Q(user__first_name__icontains=name))
    items, cursor = page([Source(professionals, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result([resources.practitioner(p) for _i, p in items], cursor)


def read_practitioner_role(ctx: Context, resource_id: str) -> dict:
    if resource_id.startswith("p"):
        return resources.practitioner_role_alone(
            _professional(ctx, _prefixed(resource_id, "p", "PractitionerRole"), "PractitionerRole")
        )
    membership = (
        TeamMembership.objects.select_related("professional__user", "structure")
        .filter(pk=_prefixed(resource_id, "t", "PractitionerRole"))
        .first()
    )
    if membership is None:
        raise not_found("PractitionerRole")
    _professional(ctx, membership.professional_id, "PractitionerRole")
    return resources.practitioner_role(membership)


def search_practitioner_role(ctx: Context, query: Query) -> Result:
    memberships = TeamMembership.objects.filter(
        professional__in=_visible_professionals(ctx).values("pk")
    ).select_related("professional__user", "structure")
    ids = query.tokens("_id")
    if ids:
        memberships = memberships.filter(pk__in=_ids(ids, "t"))
    practitioner = query.reference_id("practitioner", "Practitioner")
    if practitioner:
        memberships = memberships.filter(professional_id=_int(practitioner, "Practitioner"))
    organization = query.reference_id("organization", "Organization")
    if organization:
        memberships = memberships.filter(structure_id=_int(organization, "Organization"))
    items, cursor = page([Source(memberships, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result([resources.practitioner_role(m) for _i, m in items], cursor)


# --- The circle ----------------------------------------------------------------------------------


def care_team_of(person: Person) -> dict:
    """The person's CareTeam with every membership, past and present (the caller has
    passed the gate on `circle`)."""
    members = list(
        CircleMember.objects.filter(person=person)
        .exclude(professional__profession=Profession.SOFTWARE)
        .select_related("user", "professional__user", "structure", "carer_link")
        .order_by("started_at", "pk")
    )
    pairs = {(m.professional_id, m.structure_id) for m in members if m.professional_id and m.structure_id}
    teams: dict[tuple[int, int], int] = {}
    if pairs:
        for pk, professional_id, structure_id, ended_on in TeamMembership.objects.filter(
            professional_id__in={p for p, _s in pairs}, structure_id__in={s for _p, s in pairs}
        ).values_list("pk", "professional_id", "structure_id", "ended_on"):
            # The active team membership when there is one, else the latest.
            key = (professional_id, structure_id)
            if key in pairs and (key not in teams or ended_on is None):
                teams[key] = pk
    return resources.care_team(person, members, teams)


def read_care_team(ctx: Context, resource_id: str) -> dict:
    return care_team_of(ctx.gate(_int(resource_id, "CareTeam"), Category.CIRCLE))


def search_care_team(ctx: Context, query: Query) -> Result:
    ids = query.tokens("_id") or query.tokens("identifier")
    if ids and "patient" not in query.request.GET and "subject" not in query.request.GET:
        person = ctx.gate(_int(ids[0].code, "CareTeam"), Category.CIRCLE)
    else:
        person = patient_of(ctx, query, Category.CIRCLE)
    team = care_team_of(person)
    statuses = query.tokens("status")
    if statuses and team["status"] not in {t.code for t in statuses}:
        return Result([])
    if query.request.GET.get("_cursor"):
        return Result([])
    return Result([team])


# --- Agenda --------------------------------------------------------------------------------------

FHIR_TO_EVENT_STATUS = {v: k for k, v in resources.APPOINTMENT_STATUS.items()}


def _render_appointments(ctx: Context, events: list[Event]) -> list[dict]:
    identifiers = _local_identifiers(ctx, ResourceKind.APPOINTMENT, [e.pk for e in events])
    return [resources.appointment(e, identifiers.get(e.pk, [])) for e in events]


def read_appointment(ctx: Context, resource_id: str) -> dict:
    event = (
        agenda_selectors.with_details(Event.objects.filter(pk=_int(resource_id, "Appointment"), person__isnull=False))
        .filter(recurrence_of__isnull=True)
        .first()
    )
    if event is None:
        raise not_found("Appointment")
    ctx.gate(event.person_id, Category.AGENDA)
    if not agenda_selectors.can_see(ctx.user, event):
        raise not_found("Appointment")
    return _render_appointments(ctx, [event])[0]


def search_appointment(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.AGENDA)
    events = agenda_selectors.person_events(ctx.user, person).filter(recurrence_of__isnull=True)
    ids = query.tokens("_id")
    if ids:
        events = events.filter(pk__in=_ids(ids))
    events = events.filter(date_q("starts_at", query.dates("date")))
    statuses = query.tokens("status")
    if statuses:
        wanted = [FHIR_TO_EVENT_STATUS[t.code] for t in statuses if t.code in FHIR_TO_EVENT_STATUS]
        events = events.filter(status__in=wanted)
    actor = query.reference_id("actor", "Practitioner")
    if actor:
        events = events.filter(participants__professional_id=_int(actor, "Practitioner"))
    services = query.tokens("service-type")
    if services:
        events = events.filter(serafin_service__code__in=[t.code for t in services])
    tokens = query.tokens("identifier")
    if tokens:
        q = Q(pk__in=[])
        for token in tokens:
            if token.system in (None, codes.local_system("uid-rendez-vous")):
                q |= Q(uid=token.code)
            if ctx.caller.software is not None and token.system != codes.local_system("uid-rendez-vous"):
                matches = SourceIdentifier.objects.filter(
                    software=ctx.caller.software, kind=ResourceKind.APPOINTMENT, value=token.code
                )
                if token.system:
                    matches = matches.filter(system=token.system)
                q |= Q(pk__in=matches.values("object_id"))
        events = events.filter(q)
    events = agenda_selectors.with_details(events.distinct())
    items, cursor = page([Source(events, "starts_at", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result(_render_appointments(ctx, [e for _i, e in items]), cursor)


def _schedule_professional(ctx: Context, professional_id: int, resource_type: str) -> Professional:
    try:
        professional = availability.professional_for_viewer_or_404(ctx.user, professional_id)
    except Http404:
        raise not_found(resource_type) from None
    if professional.profession == Profession.SOFTWARE:
        raise not_found(resource_type)
    return professional


def read_schedule(ctx: Context, resource_id: str) -> dict:
    return resources.schedule(_schedule_professional(ctx, _int(resource_id, "Schedule"), "Schedule"))


def search_schedule(ctx: Context, query: Query) -> Result:
    professionals = _visible_professionals(ctx)
    actor = query.reference_id("actor", "Practitioner")
    if actor:
        professionals = professionals.filter(pk=_int(actor, "Practitioner"))
    ids = query.tokens("_id")
    if ids:
        professionals = professionals.filter(pk__in=_ids(ids))
    items, cursor = page([Source(professionals, "pk", descending=False)], query.request.GET.get("_cursor"), query.count)
    return Result([resources.schedule(p) for _i, p in items], cursor)


SLOT_MAX_DAYS = 93


def _slots(professional: Professional, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Free and busy spans from `agenda.availability.free_busy` (the slot-search code)."""
    spans = availability.free_busy(professional, start, end)
    rows = [(s, e, "free") for s, e in spans["free"]] + [(s, e, "busy") for s, e in spans["busy"]]
    return [resources.slot(professional.pk, s, e, status) for s, e, status in sorted(rows)]


def read_slot(ctx: Context, resource_id: str) -> dict:
    try:
        professional_id, start, end, status = resource_id.split("-")
        start_at = dt.datetime.fromtimestamp(int(start), dt.UTC)
        end_at = dt.datetime.fromtimestamp(int(end), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise not_found("Slot") from None
    professional = _schedule_professional(ctx, _int(professional_id, "Slot"), "Slot")
    if not start_at < end_at <= start_at + dt.timedelta(days=SLOT_MAX_DAYS):
        raise not_found("Slot")
    for slot in _slots(professional, start_at, end_at):
        if slot["id"] == resource_id:
            return slot
    raise not_found("Slot")


def search_slot(ctx: Context, query: Query) -> Result:
    schedule = query.reference_id("schedule", "Schedule") or query.reference_id("schedule.actor", "Practitioner")
    if schedule is None:
        raise invalid("Slot", "le paramètre schedule (ou schedule.actor) est obligatoire.")
    professional = _schedule_professional(ctx, _int(schedule, "Schedule"), "Schedule")
    dates = query.dates("start")
    now = timezone.now()
    start = dates.start if dates and dates.start else now
    end = dates.end if dates and dates.end else start + dt.timedelta(days=14)
    if end <= start:
        raise invalid("start", "la fin de la période doit suivre son début.")
    if end - start > dt.timedelta(days=SLOT_MAX_DAYS):
        raise invalid("start", f"une recherche de créneaux couvre au plus {SLOT_MAX_DAYS} jours.")
    slots = _slots(professional, start, end)
    statuses = query.tokens("status")
    if statuses:
        slots = [s for s in slots if s["status"] in {t.code for t in statuses}]
    offset = 0
    cursor = query.request.GET.get("_cursor")
    if cursor:
        if not cursor.isdigit():
            raise invalid("_cursor", "curseur de page invalide.")
        offset = int(cursor)
    chunk = slots[offset : offset + query.count]
    more = offset + query.count < len(slots)
    included = []
    if "Slot:schedule" in query.values("_include"):
        included = [resources.schedule(professional)]
    return Result(chunk, str(offset + query.count) if more else None, included)


# --- Liaison notebook and documents -------------------------------------------------------------


def _carer_links(person_id: int) -> dict[int, int]:
    return dict(CarerLink.objects.filter(person_id=person_id).order_by("started_on").values_list("user_id", "pk"))


def _notes(queryset):
    return queryset.select_related("author__professional", "author__person_profile").prefetch_related("attachments")


def read_document_reference(ctx: Context, resource_id: str) -> dict:
    if resource_id.startswith("cdl-"):
        transmission = _notes(
            Transmission.objects.filter(pk=_prefixed(resource_id, "cdl-", "DocumentReference"))
        ).first()
        if transmission is None:
            raise not_found("DocumentReference")
        ctx.gate(transmission.person_id, Category.LIAISON)
        if not liaison_selectors.can_see(ctx.user, transmission):
            raise not_found("DocumentReference")
        return resources.note(transmission, _carer_links(transmission.person_id))
    document = (
        Document.objects.select_related("author__professional", "author__person_profile")
        .filter(pk=_prefixed(resource_id, "doc-", "DocumentReference"))
        .first()
    )
    if document is None:
        raise not_found("DocumentReference")
    ctx.gate(document.person_id, Category.DOCUMENTS)
    if not document_selectors.can_see(ctx.user, document):
        raise not_found("DocumentReference")
    identifiers = _local_identifiers(ctx, ResourceKind.DOCUMENT, [document.pk]).get(document.pk, [])
    return resources.record_document(document, _carer_links(document.person_id), identifiers)


NOTE_STATUS = {"current": [TransmissionStatus.ACTIVE], "entered-in-error": [TransmissionStatus.WITHDRAWN]}
DOCUMENT_STATUS_Q = {
    "current": Q(
        superseded_at__isnull=True,
        status__in=[DocumentStatus.DRAFT, DocumentStatus.TO_REVIEW, DocumentStatus.VALIDATED],
    ),
    "superseded": Q(superseded_at__isnull=False),
    "entered-in-error": Q(status__in=[DocumentStatus.DECLINED, DocumentStatus.WITHDRAWN]),
}


def _allowed(ctx: Context, person_id: int, categories: list[str]) -> list[str]:
    """Which of these categories the caller may read for the person (each allowed one is
    logged); 404 outside the reach, 403 when in the circle without any of them."""
    answers = {category: ctx.may(person_id, category) for category in categories}
    if all(answer is None for answer in answers.values()):
        raise not_found("Patient")
    allowed = [category for category, answer in answers.items() if answer]
    if not allowed:
        ctx.gate(person_id, categories[0])  # raises the 403 with its message
    return allowed


def _document_sources(ctx: Context, query: Query) -> tuple[int, list[tuple[str, Source]]]:
    person_id = None
    for name in ("patient", "subject"):
        if name in query.request.GET:
            person_id = _int(query.reference_id(name, "Patient"), "Patient")
    tokens = query.tokens("patient.identifier") if "patient.identifier" in query.request.GET else None
    if tokens:
        person_id = _find_person_id(ctx, tokens[0].system, tokens[0].code)
        if person_id is None:
            raise not_found("Patient")
    if person_id is None:
        raise invalid("DocumentReference", "le paramètre patient (ou patient.identifier) est obligatoire.")
    wanted = {"notes", "documents"}
    categories = query.tokens("category")
    if categories:
        codes_ = {t.code for t in categories}
        wanted &= (
            {"notes"}
            if codes_ == {resources.NOTEBOOK_CATEGORY[0]}
            else ({"documents"} if codes_ == {resources.RECORD_CATEGORY[0]} else wanted)
        )
        if not codes_ & {resources.NOTEBOOK_CATEGORY[0], resources.RECORD_CATEGORY[0]}:
            wanted = set()
    types = query.tokens("type")
    if types:
        note_types = [t for t in types if t.system in (None, codes.NOTE_TYPE_SYSTEM)]
        doc_types = [t for t in types if t.system in (None, codes.local_system("type-document"))]
        if not note_types:
            wanted.discard("notes")
        if not doc_types:
            wanted.discard("documents")
    if query.tokens("security-label"):
        wanted.discard("documents")
    identifiers = query.tokens("identifier")
    if identifiers:
        wanted.discard("notes")
    categories_needed = [
        c for c, source in ((Category.LIAISON, "notes"), (Category.DOCUMENTS, "documents")) if source in wanted
    ]
    if not categories_needed:
        # Nothing can match, but the person is still checked (and the read logged).
        _allowed(ctx, person_id, [Category.LIAISON, Category.DOCUMENTS])
        return person_id, []
    allowed = _allowed(ctx, person_id, categories_needed)
    sources: list[tuple[str, Source]] = []
    statuses = query.tokens("status")
    dates = query.dates("date")
    ids = query.tokens("_id")
    if Category.LIAISON in allowed:
        notes = liaison_selectors.notebook(ctx.user, Person(pk=person_id))
        if statuses:
            notes = notes.filter(status__in=[s for t in statuses for s in NOTE_STATUS.get(t.code, [])])
        if types:
            notes = notes.filter(
                category__in=[
                    c
                    for t in types
                    if t.system in (None, codes.NOTE_TYPE_SYSTEM)
                    for c in resources.note_type_codes(t.code)
                ]
            )
        labels = query.tokens("security-label")
        if labels:
            if {t.code for t in labels} == {codes.INVISIBLE_PATIENT}:
                notes = notes.filter(scope=Scope.INTERNAL)
            else:
                notes = notes.none()
        if ids:
            notes = notes.filter(pk__in=_ids(ids, "cdl-"))
        sources.append(("notes", Source(_notes(notes.filter(date_q("observed_at", dates))), "observed_at")))
    if Category.DOCUMENTS in allowed:
        documents = document_selectors.documents_of(ctx.user, Person(pk=person_id))
        if statuses:
            q = Q(pk__in=[])
            for token in statuses:
                q |= DOCUMENT_STATUS_Q.get(token.code, Q(pk__in=[]))
            documents = documents.filter(q)
        if types:
            documents = documents.filter(
                doc_type__in=[t.code for t in types if t.system in (None, codes.local_system("type-document"))]
            )
        if identifiers and ctx.caller.software is not None:
            q = Q(pk__in=[])
            for token in identifiers:
                matches = SourceIdentifier.objects.filter(
                    software=ctx.caller.software, kind=ResourceKind.DOCUMENT, value=token.code
                )
                if token.system:
                    matches = matches.filter(system=token.system)
                q |= Q(pk__in=matches.values("object_id"))
            documents = documents.filter(q)
        elif identifiers:
            documents = documents.none()
        if ids:
            documents = documents.filter(pk__in=_ids(ids, "doc-"))
        documents = documents.filter(date_q("created_at", dates)).select_related(
            "author__professional", "author__person_profile"
        )
        sources.append(("documents", Source(documents, "created_at")))
    return person_id, sources


def search_document_reference(ctx: Context, query: Query) -> Result:
    person_id, sources = _document_sources(ctx, query)
    if not sources:
        return Result([])
    items, cursor = page([s for _name, s in sources], query.request.GET.get("_cursor"), query.count)
    kinds = [name for name, _s in sources]
    carers = _carer_links(person_id)
    document_ids = [obj.pk for index, obj in items if kinds[index] == "documents"]
    identifiers = _local_identifiers(ctx, ResourceKind.DOCUMENT, document_ids) if document_ids else {}
    rendered = [
        resources.note(obj, carers)
        if kinds[index] == "notes"
        else resources.record_document(obj, carers, identifiers.get(obj.pk, []))
        for index, obj in items
    ]
    included = []
    if "DocumentReference:subject" in query.values("_include") and ctx.may(person_id, Category.RECORD):
        included = [resources.patient(Person.objects.get(pk=person_id))]
    return Result(rendered, cursor, included)


def _current_documents(ctx: Context, person: Person) -> list[Document]:
    return list(
        document_selectors.documents_of(ctx.user, person)
        .filter(superseded_at__isnull=True)
        .exclude(status__in=[DocumentStatus.DECLINED, DocumentStatus.WITHDRAWN])
        .order_by("-created_at", "-pk")
    )


def read_list(ctx: Context, resource_id: str) -> dict:
    person = ctx.gate(_int(resource_id, "List"), Category.DOCUMENTS)
    return resources.document_list(person, _current_documents(ctx, person))


def search_list(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.DOCUMENTS)
    if query.request.GET.get("_cursor"):
        return Result([])
    return Result([resources.document_list(person, _current_documents(ctx, person))])


def read_binary(ctx: Context, resource_id: str):
    """The file of a document or of a notebook attachment, through the gate (the view
    turns the returned (stored file, type, name) into the response)."""
    if resource_id.startswith("cdl-"):
        attachment = (
            Attachment.objects.select_related("transmission")
            .filter(pk=_prefixed(resource_id, "cdl-", "Binary"))
            .first()
        )
        if attachment is None:
            raise not_found("Binary")
        ctx.gate(attachment.transmission.person_id, Category.LIAISON)
        if not liaison_selectors.can_see(ctx.user, attachment.transmission):
            raise not_found("Binary")
        return attachment.file, attachment.content_type, attachment.original_name
    document = Document.objects.filter(pk=_prefixed(resource_id, "doc-", "Binary")).first()
    if document is None:
        raise not_found("Binary")
    ctx.gate(document.person_id, Category.DOCUMENTS)
    if not document_selectors.can_see(ctx.user, document):
        raise not_found("Binary")
    return document.file, document.content_type, document.original_name


def search_binary(ctx: Context, query: Query) -> Result:
    raise FhirError(
        405,
        "Binary : un fichier se lit par l'adresse donnée dans DocumentReference.content.attachment.url.",
        code="not-supported",
    )


# --- Projet personnalisé -----------------------------------------------------------------------


def _versions(person_id: int):
    return ppa_selectors.with_sections(PlanVersion.objects.filter(plan__person_id=person_id))


def read_care_plan(ctx: Context, resource_id: str) -> dict:
    version = PlanVersion.objects.filter(pk=_int(resource_id, "CarePlan")).values("pk", "plan__person_id").first()
    if version is None:
        raise not_found("CarePlan")
    ctx.gate(version["plan__person_id"], Category.PPA)
    return resources.care_plan(_versions(version["plan__person_id"]).get(pk=version["pk"]))


FHIR_TO_VERSION_STATUS = {
    "draft": [VersionStatus.DRAFT, VersionStatus.SUBMITTED],
    "active": [VersionStatus.VALIDATED],
    "revoked": [VersionStatus.SUPERSEDED],
}


def search_care_plan(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.PPA)
    versions = _versions(person.pk)
    statuses = query.tokens("status")
    if statuses:
        versions = versions.filter(status__in=[s for t in statuses for s in FHIR_TO_VERSION_STATUS.get(t.code, [])])
    ids = query.tokens("_id")
    if ids:
        versions = versions.filter(pk__in=_ids(ids))
    tokens = query.tokens("identifier")
    if tokens:
        numbers = [t.code.rsplit("-PPER-", 1)[-1] for t in tokens if "-PPER-" in t.code]
        versions = versions.filter(number__in=[int(n) for n in numbers if n.isdigit()])
    items, cursor = page([Source(versions, "pk")], query.request.GET.get("_cursor"), query.count)
    return Result([resources.care_plan(v) for _i, v in items], cursor)


def _version_of(ctx: Context, version_id: int, resource_type: str) -> PlanVersion:
    version = PlanVersion.objects.select_related("plan__structure", "plan__person").filter(pk=version_id).first()
    if version is None:
        raise not_found(resource_type)
    ctx.gate(version.plan.person_id, Category.PPA)
    return version


def read_goal(ctx: Context, resource_id: str) -> dict:
    if resource_id.startswith("attentes-"):
        return resources.expectations_goal(_version_of(ctx, _prefixed(resource_id, "attentes-", "Goal"), "Goal"))
    objective = (
        Objective.objects.select_related("version__plan__structure")
        .prefetch_related("needs")
        .filter(pk=_prefixed(resource_id, "objectif-", "Goal"))
        .first()
    )
    if objective is None:
        raise not_found("Goal")
    ctx.gate(objective.version.plan.person_id, Category.PPA)
    return resources.objective_goal(objective, objective.version)


def search_goal(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.PPA)
    objectives = (
        Objective.objects.filter(version__plan__person=person)
        .select_related("version__plan__structure")
        .prefetch_related("needs")
    )
    versions = PlanVersion.objects.filter(plan__person=person).select_related("plan__structure")
    ids = query.tokens("_id")
    if ids:
        objectives = objectives.filter(pk__in=_ids(ids, "objectif-"))
        versions = versions.filter(pk__in=_ids(ids, "attentes-"))
    items, cursor = page(
        [Source(versions, "pk"), Source(objectives, "pk")], query.request.GET.get("_cursor"), query.count
    )
    return Result(
        [
            resources.expectations_goal(obj) if index == 0 else resources.objective_goal(obj, obj.version)
            for index, obj in items
        ],
        cursor,
    )


def read_service_request(ctx: Context, resource_id: str) -> dict:
    need = (
        Need.objects.select_related("version__plan__structure", "serafin")
        .filter(pk=_prefixed(resource_id, "besoin-", "ServiceRequest"))
        .first()
    )
    if need is None:
        raise not_found("ServiceRequest")
    ctx.gate(need.version.plan.person_id, Category.PPA)
    return resources.need_request(need, need.version)


def search_service_request(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.PPA)
    needs = Need.objects.filter(version__plan__person=person).select_related("version__plan__structure", "serafin")
    ids = query.tokens("_id")
    if ids:
        needs = needs.filter(pk__in=_ids(ids, "besoin-"))
    codes_ = query.tokens("code")
    if codes_:
        needs = needs.filter(serafin__code__in=[t.code for t in codes_])
    items, cursor = page([Source(needs, "pk")], query.request.GET.get("_cursor"), query.count)
    return Result([resources.need_request(n, n.version) for _i, n in items], cursor)


# --- Consents ---------------------------------------------------------------------------------------


def read_consent(ctx: Context, resource_id: str) -> dict:
    if resource_id.startswith("signature-"):
        sign_off = (
            SignOff.objects.select_related("version__plan__structure", "user")
            .filter(pk=_prefixed(resource_id, "signature-", "Consent"))
            .first()
        )
        if sign_off is None:
            raise not_found("Consent")
        ctx.gate(sign_off.version.plan.person_id, Category.PPA)
        return resources.sign_off_consent(sign_off, sign_off.version)
    record = Consent.objects.filter(pk=_prefixed(resource_id, "consentement-", "Consent")).first()
    if record is None:
        raise not_found("Consent")
    ctx.gate(record.person_id, Category.RECORD)
    return resources.consent(record)


def search_consent(ctx: Context, query: Query) -> Result:
    person_id = (
        _int(query.reference_id("patient", "Patient") or query.reference_id("subject", "Patient") or "0", "Patient")
        if ("patient" in query.request.GET or "subject" in query.request.GET)
        else None
    )
    if person_id is None:
        raise invalid("Consent", "le paramètre patient est obligatoire.")
    wanted = [Category.RECORD, Category.PPA]
    categories = query.tokens("category")
    if categories:
        codes_ = {t.code for t in categories}
        wanted = [
            c
            for c, code in ((Category.RECORD, None), (Category.PPA, "signature-projet"))
            if (code in codes_) or (code is None and codes_ - {"signature-projet"})
        ]
    allowed = _allowed(ctx, person_id, wanted) if wanted else []
    sources = []
    kinds = []
    ids = query.tokens("_id")
    if Category.RECORD in allowed:
        records = Consent.objects.filter(person_id=person_id)
        if categories:
            records = records.filter(kind__in=[t.code for t in categories])
        if ids:
            records = records.filter(pk__in=_ids(ids, "consentement-"))
        sources.append(Source(records, "recorded_at"))
        kinds.append("consent")
    if Category.PPA in allowed:
        sign_offs = SignOff.objects.filter(version__plan__person_id=person_id).select_related(
            "version__plan__structure", "user"
        )
        if ids:
            sign_offs = sign_offs.filter(pk__in=_ids(ids, "signature-"))
        sources.append(Source(sign_offs, "signed_at"))
        kinds.append("sign_off")
    if not sources:
        return Result([])
    items, cursor = page(sources, query.request.GET.get("_cursor"), query.count)
    return Result(
        [
            resources.consent(obj) if kinds[index] == "consent" else resources.sign_off_consent(obj, obj.version)
            for index, obj in items
        ],
        cursor,
    )


# --- Subscriptions (the connected software's own) ----------------------------------------------------


def _own_subscriptions(ctx: Context):
    if ctx.caller.software is None:
        return Subscription.objects.none()
    return Subscription.objects.filter(software=ctx.caller.software).select_related("person", "software__structure")


def read_subscription(ctx: Context, resource_id: str) -> dict:
    from interop.fhir.subscriptions import render

    subscription = _own_subscriptions(ctx).filter(pk=_int(resource_id, "Subscription")).first()
    if subscription is None:
        raise not_found("Subscription")
    return render(subscription)


def search_subscription(ctx: Context, query: Query) -> Result:
    from interop.fhir.subscriptions import STATUS_TO_FHIR, render

    subscriptions = _own_subscriptions(ctx)
    ids = query.tokens("_id")
    if ids:
        subscriptions = subscriptions.filter(pk__in=_ids(ids))
    statuses = query.tokens("status")
    if statuses:
        wanted = [ours for ours, fhir in STATUS_TO_FHIR.items() if fhir in {t.code for t in statuses}]
        subscriptions = subscriptions.filter(status__in=wanted)
    items, cursor = page([Source(subscriptions, "pk")], query.request.GET.get("_cursor"), query.count)
    return Result([render(s) for _i, s in items], cursor)


# --- The registry: what the CapabilityStatement lists --------------------------------------------

_PATIENT = ("reference", "La personne (Patient/id)")
_PATIENT_ID = ("token", "Identifiant de la personne : INS (identité qualifiée), identifiant du logiciel")
_ID = ("token", "Identifiant logique de la ressource")

HANDLERS: dict[str, Handler] = {
    h.name: h
    for h in (
        Handler(
            "Patient",
            read_patient,
            search_patient,
            {
                "_id": _ID,
                "identifier": ("token", "INS (système par OID), identifiant local du logiciel, identifiant du portail"),
                "family": ("string", "Nom de naissance ou utilisé (début)"),
                "given": ("string", "Prénom (début)"),
                "name": ("string", "Nom ou prénom (contient)"),
                "birthdate": ("date", "Date de naissance"),
            },
            codes.PROFILE_PATIENT,
            "Personnes accompagnées que l'appelant peut consulter (catégorie « dossier »). L'INS n'est donné "
            "que pour une identité qualifiée.",
            writes=("update",),
        ),
        Handler(
            "RelatedPerson",
            read_related_person,
            search_related_person,
            {"patient": _PATIENT, "patient.identifier": _PATIENT_ID, "_id": _ID},
            codes.PROFILE_RELATED_PERSON,
            "Aidants et représentants légaux (catégorie « cercle »).",
        ),
        Handler(
            "Organization",
            read_organization,
            search_organization,
            {"_id": _ID, "identifier": ("token", "FINESS ou idNatStruct"), "name": ("string", "Nom (contient)")},
            codes.PROFILE_ORGANIZATION,
            "Structures (identifiant FINESS).",
        ),
        Handler(
            "Practitioner",
            read_practitioner,
            search_practitioner,
            {"_id": _ID, "identifier": ("token", "RPPS ou idNatPS"), "name": ("string", "Nom ou prénom")},
            codes.PROFILE_PRACTITIONER,
            "Professionnels qui partagent un cercle ou une équipe avec l'appelant (identifiant RPPS).",
        ),
        Handler(
            "PractitionerRole",
            read_practitioner_role,
            search_practitioner_role,
            {
                "_id": _ID,
                "practitioner": ("reference", "Le professionnel"),
                "organization": ("reference", "La structure"),
            },
            codes.PROFILE_PRACTITIONER_ROLE,
            "Situations d'exercice : un professionnel dans l'équipe d'une structure (t…), ou hors équipe (p…).",
        ),
        Handler(
            "CareTeam",
            read_care_team,
            search_care_team,
            {
                "patient": _PATIENT,
                "subject": _PATIENT,
                "patient.identifier": _PATIENT_ID,
                "_id": _ID,
                "identifier": ("token", "Identifiant du cercle"),
                "status": ("token", "Statut du cercle"),
            },
            codes.PROFILE_CARE_TEAM,
            "Le cercle de santé et d'accompagnement (catégorie « cercle ») : un participant par adhésion.",
        ),
        Handler(
            "Appointment",
            read_appointment,
            search_appointment,
            {
                "patient": _PATIENT,
                "patient.identifier": _PATIENT_ID,
                "_id": _ID,
                "date": ("date", "Début du rendez-vous"),
                "status": ("token", "proposed | booked | cancelled | fulfilled"),
                "actor": ("reference", "Un professionnel participant (Practitioner/id)"),
                "identifier": ("token", "UID du rendez-vous ou identifiant du logiciel"),
                "service-type": ("token", "Prestation SERAFIN-PH"),
            },
            codes.PROFILE_APPOINTMENT,
            "L'agenda de la personne (catégorie « agenda ») ; le paramètre patient est obligatoire.",
            writes=("update",),
        ),
        Handler(
            "Schedule",
            read_schedule,
            search_schedule,
            {"_id": _ID, "actor": ("reference", "Le professionnel (Practitioner/id)")},
            codes.PROFILE_SCHEDULE,
            "Les disponibilités d'un professionnel (libre/occupé seulement), pour ses collègues.",
        ),
        Handler(
            "Slot",
            read_slot,
            search_slot,
            {
                "schedule": ("reference", "Le calendrier (Schedule/id)"),
                "schedule.actor": ("reference", "Le professionnel (Practitioner/id)"),
                "status": ("token", "free | busy"),
                "start": ("date", "Début du créneau (ge…, le… ; 93 jours au plus)"),
                "_include": ("special", "Slot:schedule"),
            },
            codes.PROFILE_SLOT,
            "Créneaux libres et occupés, calculés par la recherche de créneaux de l'agenda.",
            includes=("Slot:schedule",),
        ),
        Handler(
            "DocumentReference",
            read_document_reference,
            search_document_reference,
            {
                "patient": _PATIENT,
                "subject": _PATIENT,
                "patient.identifier": _PATIENT_ID,
                "_id": _ID,
                "status": ("token", "current | superseded | entered-in-error"),
                "type": ("token", "Type de note (JDV_J23) ou type de document"),
                "category": ("token", "cahier-de-liaison | dossier"),
                "date": ("date", "Date de la note (observation) ou du dépôt du document"),
                "security-label": ("token", "Visibilité (JDV_J110) : INVISIBLE_PATIENT pour une note interne"),
                "identifier": ("token", "Identifiant donné par le logiciel à un document"),
                "_include": ("special", "DocumentReference:subject"),
            },
            codes.PROFILE_CDL_NOTE,
            "Notes du cahier de liaison (cdl-…, profil CI-SIS) et documents du dossier (doc-…) ; le paramètre "
            "patient est obligatoire.",
            writes=("update",),
            includes=("DocumentReference:subject",),
        ),
        Handler(
            "List",
            read_list,
            search_list,
            {"patient": _PATIENT, "subject": _PATIENT, "patient.identifier": _PATIENT_ID},
            None,
            "Les documents en vigueur de la personne (un List par personne).",
        ),
        Handler(
            "Binary",
            read_binary,
            search_binary,
            {},
            None,
            "Le fichier d'un document ou d'une pièce jointe, servi à travers la porte d'accès.",
        ),
        Handler(
            "CarePlan",
            read_care_plan,
            search_care_plan,
            {
                "patient": _PATIENT,
                "subject": _PATIENT,
                "patient.identifier": _PATIENT_ID,
                "_id": _ID,
                "status": ("token", "draft | active | revoked"),
                "identifier": ("token", "Identifiant TDDUI du projet personnalisé"),
            },
            codes.PROFILE_CARE_PLAN,
            "Le projet personnalisé : un CarePlan par version (catégorie « projet »).",
        ),
        Handler(
            "Goal",
            read_goal,
            search_goal,
            {"patient": _PATIENT, "subject": _PATIENT, "patient.identifier": _PATIENT_ID, "_id": _ID},
            codes.PROFILE_GOAL_OBJECTIVE,
            "Objectifs du projet personnalisé (objectif-…) et attentes de la personne (attentes-…).",
        ),
        Handler(
            "ServiceRequest",
            read_service_request,
            search_service_request,
            {
                "patient": _PATIENT,
                "subject": _PATIENT,
                "patient.identifier": _PATIENT_ID,
                "_id": _ID,
                "code": ("token", "Besoin SERAFIN-PH"),
            },
            codes.PROFILE_NEED,
            "Besoins du projet personnalisé, codés SERAFIN-PH (JDV_J285).",
        ),
        Handler(
            "Consent",
            read_consent,
            search_consent,
            {
                "patient": _PATIENT,
                "subject": _PATIENT,
                "_id": _ID,
                "category": ("token", "dmp_feeding | dmp_consultation | partner_sharing | signature-projet"),
            },
            None,
            "Consentements (alimentation et consultation du DMP, partenaires) et signatures du projet personnalisé.",
        ),
        Handler(
            "Subscription",
            read_subscription,
            search_subscription,
            {"_id": _ID, "status": ("token", "requested | active | off | error")},
            codes.PROFILE_SUBSCRIPTION,
            "Abonnements du logiciel connecté aux types d'évènements du catalogue (rest-hook).",
            writes=("create", "update", "delete"),
        ),
    )
}
