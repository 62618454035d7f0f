"""`Patient/$everything`: every resource about one person that the caller may read, as
one FHIR R4 Bundle of type `collection`, written as a stream.

The record export of `records` and the FHIR operation share it, so that the ZIP a
person downloads and what a connected software reads are the same Bundle. Each
category goes through the one gate (`coordination.access.require`, which logs the
read); within a category the blocks' own selectors decide what the caller sees (the
internal transmissions of another structure, a draft document for the person side).
Memory stays bounded whatever the history: each part is read with `.iterator()` in
chunks and each resource is serialised as soon as it is built.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from agenda import selectors as agenda_selectors
from coordination import access
from coordination.models import Accompaniment, CarerLink, Category, Consent, Person
from documents import selectors as document_selectors
from interop.fhir import resources
from interop.fhir.codes import base_url
from interop.fhir.common import instant
from interop.fhir.handlers import _carer_links, _notes, care_team_of
from liaison import selectors as liaison_selectors
from ppa import selectors as ppa_selectors
from ppa.models import Need, Objective, PlanVersion, SignOff

CHUNK = 1000

# The categories of the matrix an export reads, in the order the Bundle holds them.
CATEGORIES = (
    Category.RECORD,
    Category.CIRCLE,
    Category.AGENDA,
    Category.LIAISON,
    Category.DOCUMENTS,
    Category.PPA,
)


@dataclass
class Part:
    """One kind of content: how many items (for the progress) and how to render them."""

    name: str
    resource_types: tuple[str, ...]
    count: Callable[[], int]
    render: Callable[[], Iterator[dict]]


@dataclass
class Everything:
    person: Person
    user: object  # who reads (the selectors decide within a category)
    categories: frozenset[str]  # the categories the gate allowed (and logged)
    access_log: bool  # whether the access log is included
    show_ip: bool
    parts: list[Part] = field(default_factory=list)

    def resources(self, on_item: Callable[[], None] | None = None) -> Iterator[dict]:
        for part in self.parts:
            for resource in part.render():
                yield resource
                if on_item is not None:
                    on_item()


def _may(user, person_id: int, category: str, path: str) -> bool | None:
    """True (allowed and logged), False (in the circle without the right), None (unknown)."""
    try:
        access.require(user, person_id, category, "read", path=path)
    except Http404:
        return None
    except access.AccessDenied:
        return False
    return True


def _chunked(queryset: QuerySet, render: Callable) -> Iterator[dict]:
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield render(obj)


def notebook_queryset(user, person: Person) -> QuerySet:
    """The transmissions the export holds (corrections and withdrawn ones included)."""
    return liaison_selectors.notebook(user, person).order_by("observed_at", "pk")


def documents_queryset(user, person: Person) -> QuerySet:
    """The documents the export holds, every version."""
    return document_selectors.documents_of(user, person).order_by("created_at", "pk")


def gather(user, person_id: int, *, path: str, types: Iterable[str] | None = None) -> Everything:
    """Decide, through the gate, what the caller may read of the person (every allowed
    category is logged) and prepare the parts. Http404 when the person is outside the
    caller's reach; `AccessDenied` when in the circle without any right. `types`
    restricts the resource types (a connected software's scopes)."""
    wanted = set(types) if types is not None else None
    answers = {category: _may(user, person_id, category, path) for category in CATEGORIES}
    if all(answer is None for answer in answers.values()):
        raise Http404
    allowed = frozenset(c for c, answer in answers.items() if answer)
    show_ip = False
    with_log = wanted is None or "AuditEvent" in wanted
    if with_log:
        try:
            show_ip = access.require_access_log(user, person_id, path=path).show_ip
        except (Http404, access.AccessDenied):
            with_log = False
    if not allowed and not with_log:
        raise access.AccessDenied("Vous n'avez le droit de consulter aucune partie du dossier de cette personne.")
    person = Person.objects.get(pk=person_id)
    everything = Everything(person=person, user=user, categories=allowed, access_log=with_log, show_ip=show_ip)
    carers = _carer_links(person.pk)

    def add(name, resource_types, count, render):
        if wanted is None or set(resource_types) & wanted:
            everything.parts.append(Part(name, resource_types, count, render))

    if Category.RECORD in allowed:
        add("patient", ("Patient",), lambda: 1, lambda: iter([resources.patient(person)]))
        structures = Accompaniment.objects.filter(person=person).select_related("structure").order_by("started_on")

        def organizations():
            seen = set()
            for accompaniment in structures.iterator(chunk_size=CHUNK):
                if accompaniment.structure_id not in seen:
                    seen.add(accompaniment.structure_id)
                    yield resources.organization(accompaniment.structure)

        add("structures", ("Organization",), structures.count, organizations)
        consents = Consent.objects.filter(person=person).order_by("recorded_at", "pk")
        add("consents", ("Consent",), consents.count, lambda: _chunked(consents, resources.consent))
    if Category.CIRCLE in allowed:
        links = CarerLink.objects.filter(person=person).select_related("user").order_by("started_on", "pk")
        add("proches", ("RelatedPerson",), links.count, lambda: _chunked(links, resources.related_person))
        add("cercle", ("CareTeam",), lambda: 1, lambda: iter([care_team_of(person)]))
    if Category.AGENDA in allowed:
        events = agenda_selectors.with_details(
            agenda_selectors.person_events(user, person).filter(recurrence_of__isnull=True)
        ).order_by("starts_at", "pk")
        add("agenda", ("Appointment",), events.count, lambda: _chunked(events, resources.appointment))
    if Category.LIAISON in allowed:
        notes = _notes(notebook_queryset(user, person))
        add(
            "cahier de liaison",
            ("DocumentReference",),
            notes.count,
            lambda: _chunked(notes, lambda t: resources.note(t, carers)),
        )
    if Category.DOCUMENTS in allowed:
        documents = documents_queryset(user, person).select_related("author__professional", "author__person_profile")
        add(
            "documents",
            ("DocumentReference",),
            documents.count,
            lambda: _chunked(documents, lambda d: resources.record_document(d, carers)),
        )
    if Category.PPA in allowed:
        versions = ppa_selectors.with_sections(PlanVersion.objects.filter(plan__person=person)).order_by("pk")

        def plan_resources():
            for version in versions.iterator(chunk_size=50):
                yield resources.care_plan(version)
                yield resources.expectations_goal(version)
                for objective in version.objectives.all():
                    yield resources.objective_goal(objective, version)
                for need in version.needs.all():
                    yield resources.need_request(need, version)
                for sign_off in version.sign_offs.all():
                    yield resources.sign_off_consent(sign_off, version)

        def plan_count() -> int:
            version_count = versions.count()
            return (
                2 * version_count
                + Objective.objects.filter(version__plan__person=person).count()
                + Need.objects.filter(version__plan__person=person).count()
                + SignOff.objects.filter(version__plan__person=person).count()
            )

        add("projet personnalisé", ("CarePlan", "Goal", "ServiceRequest", "Consent"), plan_count, plan_resources)
    if with_log:
        # The rows written up to now, this export's own gate rows included.
        log = access.access_log_entries(person).order_by("at", "pk")
        add(
            "historique des accès",
            ("AuditEvent",),
            log.count,
            lambda: _chunked(log, lambda row: resources.access_audit_event(row, show_ip=show_ip)),
        )
    return everything


def bundle_chunks(everything: Everything, on_item: Callable[[], None] | None = None) -> Iterator[str]:
    """The Bundle as JSON text, piece by piece (one entry at a time)."""
    now = timezone.now()
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(now)},
        "type": "collection",
        "timestamp": instant(now),
    }
    opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    first = True
    for resource in everything.resources(on_item):
        entry = {"fullUrl": f"{base_url()}/{resource['resourceType']}/{resource['id']}", "resource": resource}
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        # FHIR allows no empty array: `entry` opens with the first resource.
        yield (opening[:-1] + ',"entry":[' if first else ",") + text
        first = False
    yield opening if first else "]}"
