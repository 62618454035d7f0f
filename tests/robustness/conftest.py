"""A person with something in every block, for the tests that walk every URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from agenda import availability
from agenda import services as agenda_services
from agenda.booking import services as booking
from coordination import services as coordination_services
from coordination.models import CircleMember, CircleRole, Level
from documents import services as document_services
from documents.models import DocumentType
from liaison import services as liaison_services
from ppa import services as ppa_services
from reference.models import SerafinCode
from tests.factories import UserFactory
from tests.uploads_corpus import CLEAN_PDF

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class World:
    ids: dict[str, int]
    person_name: str

    def fill(self, route: str) -> str:
        """A concrete path for a URL pattern: each <converter:name> takes the id of the
        object its preceding path segment names (the person's when unknown)."""

        def value(match: re.Match) -> str:
            converter, name = match.group(1) or "str", match.group(2)
            before = route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            if converter == "int":
                return str(self.ids.get(before, self.ids.get(name, self.ids["personnes"])))
            if name == "section":
                return "resources"
            return str(self.ids.get(name, "x"))

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def url_routes(prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every URL pattern of the project (its route as text), under `prefix`."""

    def walk(patterns, base: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, base + str(pattern.pattern))
            else:
                yield base + str(pattern.pattern), pattern

    return [(route, pattern) for route, pattern in walk(get_resolver().url_patterns, "") if route.startswith(prefix)]


@pytest.fixture
def world(
    person, person_user, carer, referent, nurse, external_pro, structure, admin_user, serafin_codes, settings, tmp_path
):
    """The person with an event, a transmission with a file, a validated document with a DMP
    item, a plan draft with a need, an objective and an action, a delegation, a join
    request, a meeting, availability windows; `ids` maps URL segments to their ids."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.DMP_CLIENT = "documents.dmp.RecordingClient"
    from django.core.files.uploadedfile import SimpleUploadedFile

    start = (timezone.now() + timedelta(days=3)).astimezone(PARIS).replace(hour=10, minute=0, second=0, microsecond=0)
    event = agenda_services.event_create(
        actor=referent, person=person, title="Consultation mémoire", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    transmission = liaison_services.transmission_create(
        actor=nurse,
        person=person,
        category="autre",
        text="Bonne journée.",
        files=[SimpleUploadedFile("cr.pdf", CLEAN_PDF, content_type="application/pdf")],
    )
    document = document_services.document_create(
        actor=referent,
        person=person,
        doc_type=DocumentType.REPORT,
        title="Compte rendu",
        upload=SimpleUploadedFile("cr.pdf", CLEAN_PDF, content_type="application/pdf"),
        validate=True,
    )
    plan = ppa_services.plan_create(actor=referent, person=person)
    version = plan.versions.get()
    need = ppa_services.need_add(
        actor=referent,
        version=version,
        serafin=SerafinCode.objects.get(kind="need", code="1.1.1"),
        description="Mémoire",
    )
    objective = ppa_services.objective_add(
        actor=referent, version=version, title="Repères", needs=[need], indicator="Seule", target_on=date(2027, 6, 1)
    )
    action = ppa_services.action_add(
        actor=referent,
        version=version,
        title="Atelier",
        objectives=[objective],
        professional=nurse.professional,
        serafin=SerafinCode.objects.filter(kind="service", depth__gte=3).order_by("code").first(),
        weekdays="MO",
        starts_at_time=time(10, 0),
        duration_minutes=60,
        starts_on=date(2026, 1, 5),
    )
    assistant = UserFactory(email="assistante@exemple.fr", first_name="Anne", last_name="Assistante")
    from tests.factories import ProfessionalFactory, activate_totp

    assistant_pro = ProfessionalFactory(user=assistant, profession="secretaire")
    activate_totp(assistant)
    coordination_services.team_member_add(
        actor=admin_user, structure=structure, professional=assistant_pro, role="secretaire"
    )
    delegation = coordination_services.delegation_create(
        actor=nurse,
        person=person,
        delegate=assistant_pro,
        levels={"agenda": Level.READ},
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=10),
        reason="Congés",
    )
    window = availability.availability_window_create(
        actor=nurse, structure=structure, weekday=0, start_time=time(9, 0), end_time=time(12, 0)
    )
    exception = availability.availability_exception_create(
        actor=nurse, kind="absence", starts_at=start + timedelta(days=20), ends_at=start + timedelta(days=21)
    )
    meeting = booking.meeting_hold(
        actor=referent,
        invitees=[nurse.professional],
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=1),
        motive="Synthèse",
        person=person,
    )
    member = CircleMember.objects.get(person=person, user=external_pro)
    join_request = _join_request(person)
    ids = {
        "personnes": person.pk,
        "persons": person.pk,
        "person_id": person.pk,
        "events": event.pk,
        "evenements": event.pk,
        "event_id": event.pk,
        "transmissions": transmission.pk,
        "transmission_id": transmission.pk,
        "attachment_id": transmission.attachments.get().pk,
        "pieces-jointes": transmission.attachments.get().pk,
        "documents": document.pk,
        "document_id": document.pk,
        "dmp-shares": document.dmp_shares.get().pk,
        "share_id": document.dmp_shares.get().pk,
        "versions": version.pk,
        "version_id": version.pk,
        "plans": plan.pk,
        "needs": need.pk,
        "besoins": need.pk,
        "objectives": objective.pk,
        "objectifs": objective.pk,
        "objective_id": objective.pk,
        "actions": action.pk,
        "action_id": action.pk,
        "circle": member.pk,
        "member_id": member.pk,
        "membres": member.pk,
        "delegations": delegation.pk,
        "delegation_id": delegation.pk,
        "join-requests": join_request.pk,
        "demandes": join_request.pk,
        "request_id": join_request.pk,
        "windows": window.pk,
        "plages": window.pk,
        "window_id": window.pk,
        "exceptions": exception.pk,
        "exception_id": exception.pk,
        "professionals": nurse.professional.pk,
        "professional_id": nurse.professional.pk,
        "meetings": meeting.pk,
        "reunions": meeting.pk,
        "meeting_id": meeting.pk,
        "structures": structure.pk,
        "structure_id": structure.pk,
    }
    return World(ids=ids, person_name="Jeanne")


def _join_request(person):
    from tests.factories import ProfessionalFactory, activate_totp

    asker = ProfessionalFactory(user=UserFactory(email="demande@exemple.fr", first_name="Denis", last_name="Demande"))
    activate_totp(asker.user)
    return coordination_services.join_request_create(
        actor=asker.user, person=person, role=CircleRole.THERAPIST, message="Je suis son kiné."
    )
