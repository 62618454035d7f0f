"""The professional's day at /pro/: its sections and counts, the gate, the query count,
and the structure's figures with their CSV exports (structure administrators only)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from admission import services as admission_services
from agenda.models import Event, EventSource, EventStatus, Participant, ParticipantKind, Response
from agenda.services import event_insert
from common.dashboard import COUNT_CAP
from coordination import services as coordination_services
from coordination.models import (
    AccessLog,
    AccessVia,
    CircleMember,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    JoinRequest,
    Level,
)
from documents.models import Document, DocumentSource, DocumentStatus
from liaison.models import Addressee, Transmission
from ppa.models import Plan, PlanVersion, VersionStatus
from tests.conftest import login
from tests.factories import PersonFactory, ProfessionalFactory, UserFactory

URL = "/pro/"


def _transmission(person, author, **fields) -> Transmission:
    now = timezone.now()
    return Transmission.objects.create(
        person=person, author=author, observed_at=now, created_at=now, category="observations", **fields
    )


def _meeting(organiser, invitee, hours: int, title: str = "Synthèse") -> Event:
    start = timezone.now() + timedelta(days=3)
    return event_insert(
        created_by=organiser,
        participants=[
            Participant(
                kind=ParticipantKind.PROFESSIONAL,
                professional=organiser.professional,
                is_organiser=True,
                response=Response.ACCEPTED,
            ),
            Participant(kind=ParticipantKind.PROFESSIONAL, professional=invitee.professional),
        ],
        source=EventSource.BOOKING,
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        status=EventStatus.PROPOSED,
        hold_expires_at=timezone.now() + timedelta(hours=hours),
    )


def seed_day(person, referent, nurse, other_pro, index: int = 0) -> None:
    """One item in every section of the referent's day, about `person`."""
    now = timezone.now()
    alert = _transmission(person, nurse, text=f"Douleur au genou droit {index}", requests_receipt=True)
    Addressee.objects.create(transmission=alert, user=referent)
    _transmission(person, nurse, text=f"Chute dans la salle de bains {index}", remarkable_event="chute")
    _meeting(nurse, referent, hours=48, title=f"Synthèse {index}")  # waits for my answer
    _meeting(referent, nurse, hours=3, title=f"Point équipe {index}")  # my hold expires soon
    event_insert(
        created_by=referent,
        participants=[
            Participant(
                kind=ParticipantKind.PROFESSIONAL,
                professional=referent.professional,
                is_organiser=True,
                response=Response.ACCEPTED,
            ),
            Participant(kind=ParticipantKind.PERSON, user_id=person.user_id),
        ],
        source=EventSource.BOOKING,
        person=person,
        title=f"Consultation {index}",
        starts_at=now + timedelta(days=5),
        ends_at=now + timedelta(days=5, hours=1),
        status=EventStatus.PROPOSED,
        hold_expires_at=now + timedelta(days=2),
        answer_deadline=now + timedelta(days=2),
    )
    Document.objects.create(
        person=person,
        doc_type="autre",
        title=f"Ordonnance {index}",
        author=person.user or referent,
        source=DocumentSource.PORTAL,
        file="documents/x.pdf",
        original_name="x.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        status=DocumentStatus.TO_REVIEW,
    )
    plan = Plan.objects.create(person=person, structure=person.accompaniments.get().structure, created_by=referent)
    today = timezone.localdate()
    PlanVersion.objects.create(
        plan=plan,
        number=1,
        status=VersionStatus.VALIDATED,
        created_by=referent,
        validated_at=now - timedelta(days=300),
        review_due_on=today - timedelta(days=3) if index % 2 else today + timedelta(days=20),
    )
    PlanVersion.objects.create(
        plan=plan, number=2, status=VersionStatus.SUBMITTED, created_by=referent, submitted_at=now
    )
    JoinRequest.objects.create(
        person=person, professional=other_pro.professional, role="medecin_traitant", message="Je le suis."
    )
    Delegation.objects.create(
        person=person,
        delegator=CircleMember.objects.get(person=person, user=referent, ended_at__isnull=True),
        delegate=nurse.professional,
        starts_at=now,
        ends_at=now + timedelta(days=7),
        created_by=referent,
        status=DelegationStatus.PENDING,
    )
    start = timezone.localtime().replace(hour=23, minute=0, second=0, microsecond=0)
    event_insert(
        created_by=referent,
        participants=[Participant(kind=ParticipantKind.PROFESSIONAL, professional=referent.professional)],
        person=person,
        title=f"Visite à domicile {index}",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
    )


def more_persons(structure, admin_user, count: int) -> list:
    return [
        coordination_services.person_create(
            actor=admin_user,
            structure=structure,
            user=UserFactory(),
            birth_name=f"DUPONT{i}",
            birth_first_names="Marie",
            first_name="Marie",
            birth_date=f"19{40 + i}-01-01",
            sex="F",
            birth_place_insee="75056",
        )
        for i in range(count)
    ]


SECTION_COUNT = re.compile(
    r'id="(\w+)" aria-labelledby="section-\w+">\s*<h2[^>]*>[^<]*<span class="badge[^"]*" data-count="(\d+)"'
)


def counts(html: str) -> dict[str, int]:
    """Each section's count, as the page shows it."""
    return {key: int(value) for key, value in SECTION_COUNT.findall(html)}


@pytest.fixture
def day(person, referent, nurse, other_pro):
    seed_day(person, referent, nurse, other_pro)
    return person


def test_it_shows_each_section_with_its_count_and_first_items(day, referent):
    response = login(referent).get(URL)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert counts(html) == {
        "receipts": 1,
        "alerts": 2,
        "meetings": 1,
        "holds": 1,
        "proposals": 1,
        "documents": 1,
        "sign": 1,
        "reviews_soon": 1,
        "reviews_overdue": 0,
        "join_requests": 1,
        "delegations": 1,
    }
    assert "Douleur au genou droit 0" in html
    assert "Chute" in html and "Chute dans la salle de bains 0" in html
    assert "Ordonnance 0" in html and "Consultation 0" in html and "Synthèse 0" in html
    assert "Point équipe 0" in html and "Visite à domicile 0" in html
    alert = Transmission.objects.get(requests_receipt=True)
    assert f'href="/liaison/transmissions/{alert.pk}/"' in html
    version = PlanVersion.objects.get(status=VersionStatus.SUBMITTED)
    assert f'href="/ppa/versions/{version.pk}/"' in html
    # An empty section says so in one line.
    assert "Aucun projet personnalisé en retard de révision." in html


def test_it_logs_what_it_shows(day, referent):
    login(referent).get(URL)
    categories = set(AccessLog.objects.filter(user=referent, person=day, path=URL).values_list("category", flat=True))
    assert {"liaison", "agenda", "documents", "ppa", "circle", "record"} <= categories


def test_it_says_so_when_the_day_is_empty(referent):
    html = unescape(login(referent).get(URL).content.decode())
    assert "Aucune transmission n'attend votre accusé de réception." in html
    assert "Rien de prévu aujourd'hui." in html
    assert set(counts(html).values()) == {0}


def test_it_runs_the_same_number_of_queries_whatever_the_caseload(
    person, referent, nurse, other_pro, structure, admin_user
):
    seed_day(person, referent, nurse, other_pro)
    client = login(referent)
    client.get(URL)  # warm-up: session, content types
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for index, other in enumerate(more_persons(structure, admin_user, 6), start=1):
        seed_day(other, referent, nurse, other_pro, index)
    with CaptureQueriesContext(connection) as large:
        html = unescape(client.get(URL).content.decode())
    assert counts(html)["receipts"] == 7 and counts(html)["reviews_overdue"] == 3
    assert "Et 2 autres" in html
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_it_shows_nothing_of_persons_outside_the_gate(day, other_pro, stranger, nurse, referent):
    html = unescape(login(other_pro).get(URL).content.decode())
    assert "Jeanne" not in html and "Douleur" not in html and "Ordonnance" not in html
    assert set(counts(html).values()) == {0}
    # A lowered right removes the items at the next request.
    member = CircleMember.objects.get(person=day, user=referent, ended_at__isnull=True)
    coordination_services.grants_set(actor=day.user, member=member, levels={"liaison": 0})
    html = unescape(login(referent).get(URL).content.decode())
    assert "Douleur au genou droit" not in html
    assert counts(html)["receipts"] == 0 and counts(html)["alerts"] == 0
    # Not a professional: sent home.
    assert login(stranger).get(URL).status_code == 302


def test_it_shows_the_structure_figures_to_its_administrator(day, referent, structure):
    html = unescape(login(referent).get(URL).content.decode())
    assert f"Chiffres de {structure.name}" in html
    figures = dict(re.findall(r'data-figure="([\w-]+)">(\d+)<', html))
    assert figures == {
        "personnes": "1",
        "a-jour": "0",
        "a-reviser": "1",
        "en-retard": "0",
        "accuses-en-retard": "0",
        "documents-en-attente": "1",
        "demandes-admission": "0",
    }


def test_it_exports_each_list_as_csv_for_the_administrator_only(day, referent, nurse, other_pro, structure):
    Transmission.objects.filter(requests_receipt=True).update(created_at=timezone.now() - timedelta(days=3))
    client = login(referent)
    for slug, expected in (
        ("personnes", "MARTIN"),
        ("a-reviser", "Jeanne MARTIN"),
        ("accuses-en-retard", "Jeanne MARTIN"),
        ("documents-en-attente", "Ordonnance 0"),
    ):
        response = client.get(f"/pro/structures/{structure.pk}/{slug}.csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body), delimiter=";"))
        assert len(rows) == 2, rows
        assert expected in ";".join(rows[1])
    # Health text never goes into the export.
    body = b"".join(client.get(f"/pro/structures/{structure.pk}/accuses-en-retard.csv").streaming_content)
    assert b"Douleur" not in body
    assert client.get(f"/pro/structures/{structure.pk}/inconnu.csv").status_code == 404
    # Not an administrator of the structure: 404, and no figures on the page.
    for user in (nurse, other_pro):
        assert login(user).get(f"/pro/structures/{structure.pk}/personnes.csv").status_code == 404
        assert "Chiffres de" not in login(user).get(URL).content.decode()


def test_it_neutralises_spreadsheet_formulas_in_exports(day, referent, structure):
    Document.objects.update(title='=HYPERLINK("http://x")')
    body = b"".join(login(referent).get(f"/pro/structures/{structure.pk}/documents-en-attente.csv").streaming_content)
    assert "'=HYPERLINK" in body.decode("utf-8-sig")


def test_it_lists_the_drafts_of_connected_software_to_review(day, referent, structure, admin_user):
    software = ProfessionalFactory(user=UserFactory(email="dui@exemple.fr"), profession="autre")
    coordination_services.team_member_add(actor=admin_user, structure=structure, professional=software, role="logiciel")
    Document.objects.create(
        person=day,
        doc_type="compte_rendu",
        title="Compte rendu du DUI",
        author=software.user,
        source=DocumentSource.PROFESSIONAL,
        file="documents/y.pdf",
        original_name="y.pdf",
        content_type="application/pdf",
        size=10,
        sha256="1" * 64,
    )
    html = unescape(login(referent).get(URL).content.decode())
    assert counts(html)["documents"] == 2
    assert "Compte rendu du DUI" in html and "envoyé par le logiciel de la structure" in html


def test_it_counts_and_exports_the_admission_requests_the_structure_received(
    day, referent, nurse, other_pro, structure, admin_user, carer
):
    """Requests sent to the structure, open, whose file it reads through the admission
    scope: counted on the page, exported without their text, logged as scoped."""
    admission_services.offer_save(
        actor=admin_user,
        structure=structure,
        services=[],
        department="75",
        postcode="75011",
        city="Paris",
        serves_older=True,
    )
    newcomer = PersonFactory(birth_name="LEGRAND", first_name="Odette", birth_date="1938-04-02")
    coordination_services.carer_link_create(actor=admin_user, person=newcomer, user=carer, relationship="famille")
    admission_services.create_request(
        actor=carer, person=newcomer, structures=[structure], message="Chutes à répétition, vit seule."
    )
    withdrawn = PersonFactory(birth_name="RETIRE", first_name="Paul")
    coordination_services.carer_link_create(actor=admin_user, person=withdrawn, user=carer, relationship="famille")
    gone = admission_services.create_request(actor=carer, person=withdrawn, structures=[structure], message="x")
    admission_services.copy_withdraw(actor=carer, copy=gone.copies.get())

    client = login(referent)
    html = unescape(client.get(URL).content.decode())
    figures = dict(re.findall(r'data-figure="([\w-]+)">(\d+)<', html))
    assert figures["demandes-admission"] == "1"
    assert "Demandes d'admission en cours" in html
    assert f'href="/pro/structures/{structure.pk}/demandes-admission.csv"' in html

    response = client.get(f"/pro/structures/{structure.pk}/demandes-admission.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0][:3] == ["Personne", "Date de naissance", "Demandée par"]
    assert len(rows) == 2 and "LEGRAND" in rows[1][0] and rows[1][2] == "Un proche aidant"
    assert rows[1][4] == "Envoyée"
    assert "Chutes" not in body and "RETIRE" not in body
    log = AccessLog.objects.get(user=referent, person=newcomer, path__endswith="demandes-admission.csv")
    assert log.via == "scoped"
    # Neither a colleague who does not administer it nor another structure's professional.
    for user in (nurse, other_pro):
        assert login(user).get(f"/pro/structures/{structure.pk}/demandes-admission.csv").status_code == 404
        assert "Demandes d'admission en cours" not in login(user).get(URL).content.decode()


def test_it_shows_a_capped_count_past_the_cap_in_the_same_queries(day, referent, nurse):
    """From COUNT_CAP items on, the page says "99+" and reads no more rows nor queries."""
    client = login(referent)
    client.get(URL)  # warm-up: session, content types
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    now = timezone.now()
    alerts = Transmission.objects.bulk_create(
        Transmission(
            person=day,
            author=nurse,
            observed_at=now,
            created_at=now - timedelta(minutes=index),
            category="observations",
            text=f"Suivi {index}",
            requests_receipt=True,
        )
        for index in range(COUNT_CAP + 20)
    )
    Addressee.objects.bulk_create(Addressee(transmission=t, user=referent) for t in alerts)
    with CaptureQueriesContext(connection) as large:
        html = unescape(client.get(URL).content.decode())
    section = re.search(r'id="receipts".*?</section>', html, re.S).group(0)
    assert f">{COUNT_CAP - 1}+</span>" in section
    assert f"Et plus de {COUNT_CAP - 5} autres" in section
    assert section.count("<li>") == 5
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_it_escapes_what_the_items_show(day, referent, nurse, other_pro):
    """The items are written in Python (portal.dashboard_items): what a person, an author
    or a title holds is escaped."""
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    day.first_name, day.birth_name = "Jeanne<b>", f"Martin{hostile}"
    day.save()
    for user in (nurse, other_pro):
        user.first_name, user.last_name = "<i>Inès</i>", "Doe & <u>fils</u>"
        user.save()
    Transmission.objects.update(text=f"Texte {hostile}")
    Document.objects.update(title=f"Ordonnance {hostile}")
    Event.objects.update(title=f"Réunion {hostile}")
    html = login(referent).get(URL).content.decode()
    tree = lxml.html.fromstring(html)
    items = tree.xpath("//ul[@class='dashboard__items']")
    assert items
    for element in items:
        assert not element.xpath(".//script | .//img | .//b | .//i | .//u")
    text = " ".join(element.text_content() for element in items)
    assert f"Jeanne<b> Martin{hostile}" in text
    assert "<i>Inès</i> Doe & <u>fils</u>" in text  # the author of a transmission, the one who asks to join
    assert f"Ordonnance {hostile}" in text and f"Réunion {hostile}" in text
    assert "Texte <script>" in text


def test_a_delegates_log_rows_say_the_delegation(person, referent, nurse, other_pro):
    """A professional outside the circle who holds a delegation in force sees the
    delegated person's remarkable event on their day; the access log says it was read
    through the delegation, as the person's "Qui a vu mes données" must show it."""
    now = timezone.now()
    _transmission(person, nurse, text="Chute dans le couloir", remarkable_event="chute")
    delegation = Delegation.objects.create(
        person=person,
        delegator=CircleMember.objects.get(person=person, user=referent, ended_at__isnull=True),
        delegate=other_pro.professional,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=3),
        created_by=referent,
        status=DelegationStatus.ACTIVE,
    )
    DelegationGrant.objects.create(delegation=delegation, category="liaison", level=Level.READ)
    html = unescape(login(other_pro).get(URL).content.decode())
    assert "Chute dans le couloir" in html
    vias = set(AccessLog.objects.filter(user=other_pro, person=person, path=URL).values_list("via", flat=True))
    assert vias == {AccessVia.DELEGATION}
    # A circle member's rows still say the matrix.
    login(referent).get(URL)
    assert set(AccessLog.objects.filter(user=referent, path=URL).values_list("via", flat=True)) == {AccessVia.NORMAL}
