"""Admission requests: sent from the portal or by a professional, each structure's copy
answered, the file open to the structure only while its request is open, each read
logged, the requester told once per change, the admission making the circle."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from admission import services
from admission.models import AdmissionAttachment, AdmissionCopy, AdmissionEvent, AdmissionRequest, AdmissionStatus
from coordination import matrix
from coordination import services as coordination
from coordination.models import AccessLog, AccessVia, Accompaniment, CircleMember, MemberOrigin, TeamRole
from notifications.models import Notification
from reference.models import SerafinCode
from tests.conftest import login
from tests.coordination.documents_helpers import fake_pdf, pdf_file
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _post_request(client, person, structures, **extra):
    need = SerafinCode.objects.filter(kind="need", depth=2).order_by("code").first()
    data = {
        "person": person.pk,
        "structures": [s.pk for s in structures],
        "needs": [need.pk],
        "mdph_reference": "MDPH75-2026-001",
        "mdph_decided_on": "2026-01-15",
        "mdph_valid_until": "2031-01-14",
        "message": "Ma mère ne peut plus rester seule à domicile ; nous cherchons un accompagnement.",
        "document_title": "Notification MDPH",
        "document": pdf_file("notification.pdf"),
        **extra,
    }
    return client.post(reverse("admission:request_new"), data)


@pytest.fixture
def sent(person, carer, offers, other_admin, third_structure):
    """The carer's request to the SSIAD and the EHPAD Les Roses, through the page."""
    response = _post_request(login(carer), person, [offers[1], third_structure])
    assert response.status_code == 302, _text(response)
    return AdmissionRequest.objects.get()


def _copy(sent, structure) -> AdmissionCopy:
    return AdmissionCopy.objects.get(request=sent, structure=structure)


def test_it_sends_one_request_to_several_structures_each_with_its_copy(
    sent, person, carer, other_structure, third_structure, other_admin
):
    assert sent.person == person and sent.created_by == carer and sent.requester_kind == "carer"
    assert sent.mdph_reference == "MDPH75-2026-001" and sent.needs.count() == 1
    assert {c.structure for c in sent.copies.all()} == {other_structure, third_structure}
    assert set(sent.copies.values_list("status", flat=True)) == {AdmissionStatus.SENT}
    attachment = AdmissionAttachment.objects.get(request=sent)
    assert attachment.title == "Notification MDPH" and attachment.content_type == "application/pdf"
    # The SSIAD's staff are told, without the person's name.
    told = Notification.objects.get(recipient=other_admin, event_type="admission.request_received")
    assert told.person is None
    page = login(carer).get(reverse("admission:my_requests"))
    assert "SSIAD du Canal : Envoyée. La structure ne l'a pas encore ouverte." in _text(page)


def test_it_refuses_a_file_that_is_not_what_it_claims_and_stores_nothing(person, carer, offers):
    response = _post_request(login(carer), person, [offers[1]], document=fake_pdf())
    assert response.status_code == 400
    assert "Document (PDF ou image) :" in _text(response)
    assert not AdmissionRequest.objects.exists() and not AdmissionAttachment.objects.exists()


def test_it_refuses_a_structure_that_takes_no_request_or_already_has_one(sent, person, carer, offers, admin_user):
    services.offer_save(actor=admin_user, structure=offers[0], accepts_requests=False)
    response = _post_request(login(carer), person, [offers[0]])
    assert response.status_code == 400 and "ne reçoit pas de demande sur le portail" in _text(response)
    response = _post_request(login(carer), person, [offers[1]])
    assert response.status_code == 400 and "une demande est déjà en cours auprès de SSIAD du Canal" in _text(response)
    assert AdmissionRequest.objects.count() == 1


def test_it_asks_a_professional_for_the_persons_agreement(person, referent, offers):
    client = login(referent)
    response = _post_request(client, person, [offers[1]])
    assert response.status_code == 400
    assert "Accord de la personne : indiquez comment elle a donné son accord." in _text(response)
    assert not AdmissionRequest.objects.exists()
    response = _post_request(client, person, [offers[1]], agreement_via="oral", agreement_note="Entretien du 3/12")
    assert response.status_code == 302
    request = AdmissionRequest.objects.get()
    assert request.requester_kind == "professional" and request.agreement_via == "oral"


def test_it_lets_no_one_ask_for_a_person_outside_their_reach(person, stranger, other_pro, offers):
    assert login(stranger).get(reverse("admission:request_new")).status_code == 404
    response = _post_request(login(other_pro), person, [offers[1]], agreement_via="oral")
    assert response.status_code == 404
    assert not AdmissionRequest.objects.exists()


def test_it_opens_the_file_to_the_target_structure_only_while_open_and_logs_each_read(
    sent, person, other_structure, other_admin, third_admin, referent, nurse, stranger
):
    copy = _copy(sent, other_structure)
    url = reverse("admission:copy", args=[copy.pk])
    client = login(other_admin)
    response = client.get(url)
    assert response.status_code == 200
    assert "MARTIN Jeanne Marie" in _text(response) and "MDPH75-2026-001" in _text(response)
    copy.refresh_from_db()
    assert copy.status == AdmissionStatus.RECEIVED
    attachment = sent.attachments.get()
    document = client.get(reverse("admission:copy_document", args=[copy.pk, attachment.pk]))
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    logs = AccessLog.objects.filter(user=other_admin, person=person)
    assert list(logs.order_by("at", "pk").values_list("category", "via")) == [
        ("record", AccessVia.SCOPED),
        ("documents", AccessVia.SCOPED),
    ]
    # The scope opens this file only, not the person's record elsewhere.
    assert client.get(reverse("coordination:person", args=[person.pk])).status_code == 404
    # Not to another structure's staff, nor to the person's own team, nor a stranger.
    for user in (third_admin, referent, nurse, stranger):
        assert login(user).get(url).status_code == 404
    # Time-bounded: past its access period the file is closed.
    AdmissionCopy.objects.filter(pk=copy.pk).update(access_until=timezone.now() - timedelta(minutes=1))
    assert client.get(url).status_code == 404
    AdmissionCopy.objects.filter(pk=copy.pk).update(access_until=timezone.now() + timedelta(days=1))
    response = client.post(
        reverse("admission:copy_answer", args=[copy.pk]), {"status": "refused", "refusal_reason": "Pas de place."}
    )
    assert response.status_code == 302
    assert client.get(url).status_code == 404
    assert client.get(reverse("admission:copy_document", args=[copy.pk, attachment.pk])).status_code == 404
    incoming = client.get(reverse("admission:incoming"), {"status": ""})
    assert "Demande close (dossier plus accessible)" in _text(incoming) and "Jeanne" not in _text(incoming)


def test_it_tells_the_requester_once_per_change_and_admits_into_the_circle(
    sent, person, carer, other_structure, third_structure, other_admin, other_pro, django_capture_on_commit_callbacks
):
    copy = _copy(sent, other_structure)
    staff = login(other_admin)
    answer = reverse("admission:copy_answer", args=[copy.pk])

    def told() -> int:
        return Notification.objects.filter(recipient=carer, event_type="admission.status_changed").count()

    staff.get(reverse("admission:copy", args=[copy.pk]))  # received
    assert told() == 1
    response = staff.post(answer, {"status": "info_requested"})
    assert response.status_code == 400 and "Message : dites quelles informations" in _text(response)
    assert told() == 1
    response = staff.post(answer, {"status": "info_requested", "message": "Merci d'ajouter le certificat médical."})
    assert response.status_code == 302
    assert told() == 2
    # The carer answers with a document: the copy goes back under review, the staff are told.
    requester = login(carer)
    page = requester.get(reverse("admission:my_request", args=[sent.pk]))
    assert "La structure vous demande des informations." in _text(page)
    assert "Merci d'ajouter le certificat médical." in _text(page)
    response = requester.post(
        reverse("admission:my_request_answer", args=[sent.pk, copy.pk]),
        {f"c{copy.pk}-message": "Voici le certificat.", f"c{copy.pk}-document": pdf_file("certificat.pdf")},
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == AdmissionStatus.UNDER_REVIEW and sent.attachments.count() == 2
    assert told() == 2
    assert Notification.objects.filter(recipient=other_admin, event_type="admission.request_received").count() == 2
    assert staff.post(answer, {"status": "waiting_list", "waiting_rank": "3"}).status_code == 302
    entry = timezone.localdate() + timedelta(days=7)
    response = staff.post(answer, {"status": "accepted"})
    assert response.status_code == 400 and "Date d'entrée proposée : indiquez-la." in _text(response)
    assert staff.post(answer, {"status": "accepted", "proposed_entry_on": entry.isoformat()}).status_code == 302
    assert told() == 4
    response = staff.post(reverse("admission:copy_admit", args=[copy.pk]), {"entered_on": entry.isoformat()})
    assert response.status_code == 302
    assert told() == 5
    copy.refresh_from_db()
    assert copy.status == AdmissionStatus.ADMITTED
    accompaniment = Accompaniment.objects.get(person=person, structure=other_structure)
    assert copy.accompaniment == accompaniment and accompaniment.started_on == entry
    team = CircleMember.objects.active().filter(person=person, structure=other_structure, origin=MemberOrigin.TEAM)
    assert {m.user for m in team} == {other_admin, other_pro}
    assert matrix.levels_of(person, other_pro.pk) == matrix.levels_dict(matrix.TEAM_DEFAULTS[TeamRole.CARE])
    statuses = list(AdmissionEvent.objects.filter(copy=copy).values_list("status", flat=True))
    assert statuses == ["sent", "received", "info_requested", "under_review", "waiting_list", "accepted", "admitted"]
    assert all(e.by_id for e in AdmissionEvent.objects.filter(copy=copy))
    # After the admission the structure reads the file through the matrix (its team's defaults).
    assert staff.get(reverse("admission:copy", args=[copy.pk])).status_code == 200
    # The requester sees the other request still open and withdraws it.
    page = requester.get(reverse("admission:my_request", args=[sent.pk]))
    assert "vos autres demandes sont encore en cours" in _text(page) and "EHPAD Les Roses" in _text(page)
    other = _copy(sent, third_structure)
    response = requester.post(reverse("admission:my_request_withdraw", args=[sent.pk, other.pk]))
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == AdmissionStatus.WITHDRAWN
    page = requester.get(reverse("admission:my_requests"))
    assert "EHPAD Les Roses : Vous avez retiré cette demande." in _text(page)
    assert "SSIAD du Canal : Admission faite" in _text(page)


def test_it_refuses_an_answer_out_of_turn(sent, other_structure, other_admin, carer):
    copy = _copy(sent, other_structure)
    staff = login(other_admin)
    response = staff.post(reverse("admission:copy_admit", args=[copy.pk]), {"entered_on": "2026-12-31"})
    assert response.status_code == 400 and "seule une demande acceptée" in _text(response)
    response = login(carer).post(
        reverse("admission:my_request_answer", args=[sent.pk, copy.pk]), {f"c{copy.pk}-message": "Bonjour"}
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == AdmissionStatus.SENT


def test_it_keeps_a_request_to_its_requester_and_the_persons_deciders(sent, person_user, legal_rep, stranger, nurse):
    url = reverse("admission:my_request", args=[sent.pk])
    assert login(person_user).get(url).status_code == 200
    assert login(legal_rep).get(url).status_code == 200
    for user in (stranger, nurse):
        assert login(user).get(url).status_code == 404


def test_it_lists_incoming_requests_with_filters_in_bounded_queries(
    person, carer, offers, other_admin, other_structure, django_assert_max_num_queries, admin_user
):
    # Requests by the carer of 12 persons (through the service, as the page does).
    for n in range(12):
        someone = PersonFactory(birth_date="1940-01-01" if n % 2 else "2015-06-01")
        coordination.carer_link_create(actor=admin_user, person=someone, user=carer, relationship="famille")
        services.create_request(actor=carer, person=someone, structures=[other_structure], message=f"Demande {n}")
    client = login(other_admin)
    url = reverse("admission:incoming")
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.context["page"].paginator.count == 12
    assert len(response.context["page"].object_list) == 12
    assert login(other_admin).get(url, {"public": "minor"}).context["page"].paginator.count == 6
    assert login(other_admin).get(url, {"status": "refused"}).context["page"].paginator.count == 0
    htmx = client.get(url, {"public": "older"}, headers={"HX-Request": "true"})
    assert "<html" not in htmx.content.decode() and "6 demandes" in _text(htmx)
