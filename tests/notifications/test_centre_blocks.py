"""The notification centre says what happened for every block, not only the liaison
notebook: the person, who, the kind, the first words, the date — read through the gate
when shown — grouped by kind × person; the e-mails and SMS still say nothing of it."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from admission import services as admission_services
from agenda.booking import services as booking_services
from coordination import services as coordination_services
from coordination.models import AccessLog, CircleMember, Level
from documents import services as document_services
from notifications.channels import LocmemSMSBackend
from notifications.models import Notification, NotificationPreference
from tests.conftest import _pro, login
from tests.coordination.documents_helpers import PDF_BYTES
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


@pytest.fixture(autouse=True)
def _deliveries_inline(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture(autouse=True)
def _no_earlier_notifications(person, nurse, referent):
    Notification.objects.all().delete()


def _text(response) -> str:
    assert response.status_code == 200
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _night_nurse(structure, admin_user, person_user):
    """A nurse of the structure whose record right the person took away: she may only
    break the glass."""
    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    coordination_services.team_member_add(actor=admin_user, structure=structure, professional=night, role="infirmier")
    coordination_services.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=night.user), levels={"record": Level.NONE}
    )
    return night.user


def _deposit(person_user, person, title: str):
    return document_services.document_create(
        actor=person_user, person=person, doc_type="compte_rendu", title=title, content=PDF_BYTES, filename="o.pdf"
    )


def test_it_names_the_person_who_deposited_and_the_document_title(person, person_user, referent):
    _deposit(person_user, person, "Ordonnance du cardiologue")
    text = _text(login(referent).get(URL))
    assert "Document déposé à examiner pour Jeanne MARTIN" in text
    assert "Jeanne Martin : « Ordonnance du cardiologue (Compte rendu) »" in text
    notification = Notification.objects.get(recipient=referent, event_type="documents.to_review")
    assert timezone.localtime(notification.created_at).strftime("%d/%m/%Y %H:%M") in text
    # The read of what is shown is logged.
    assert AccessLog.objects.filter(user=referent, person=person, category="documents", path=URL).exists()


def test_it_groups_two_deposits_about_one_person(person, person_user, referent):
    _deposit(person_user, person, "Ordonnance 1")
    _deposit(person_user, person, "Compte rendu de sortie")
    text = _text(login(referent).get(URL))
    assert "2 documents déposés à examiner pour Jeanne MARTIN" in text
    assert "Dernière : Jeanne Martin : « Compte rendu de sortie (Compte rendu) »" in text
    # The badge counts the group once.
    assert 'class="badge badge--warning">1<' in login(referent).get(reverse("notifications:badge")).content.decode()


def test_it_says_what_appointment_is_proposed_and_when(person, person_user, referent):
    start = timezone.localtime() + timedelta(days=4)
    start = start.replace(hour=10, minute=30, second=0, microsecond=0)
    booking_services.appointment_propose(
        actor=referent,
        person=person,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        title="Visite du kinésithérapeute",
        answer_deadline=timezone.now() + timedelta(days=2),
    )
    text = _text(login(person_user).get(URL))
    assert "Rendez-vous proposé pour Jeanne MARTIN" in text
    assert f"Rémi Référent : « Visite du kinésithérapeute, le {start:%d/%m/%Y} à 10:30 »" in text


def test_it_says_who_asks_to_join_the_circle_and_their_message(person, person_user, other_pro):
    coordination_services.join_request_create(
        actor=other_pro, person=person, role="medecin_traitant", message="Je suis son nouveau médecin traitant."
    )
    text = _text(login(person_user).get(URL))
    assert "Demande d'entrée à laquelle répondre pour Jeanne MARTIN" in text
    assert "Octave Ailleurs" in text and "Je suis son nouveau médecin traitant." in text


def test_it_says_who_broke_the_glass_and_why(person, person_user, structure, admin_user):
    night = _night_nurse(structure, admin_user, person_user)
    Notification.objects.all().delete()
    coordination_services.break_glass_open(
        actor=night, person=person, reason="Appel du SAMU, la personne est inconsciente à domicile."
    )
    text = _text(login(person_user).get(URL))
    assert "Accès en urgence à un dossier pour Jeanne MARTIN" in text
    assert "Noé Nuit (EHPAD Les Tilleuls)" in text
    assert "Appel du SAMU, la personne est inconsciente à domicile." in text
    assert "Bris de glace jusqu'au" in text


def test_it_names_the_person_of_an_admission_request_to_the_receiving_staff(carer, admin_user, other_structure):
    staff = _pro("ssiad.admission@exemple.fr", "coordinateur", "Solène", "Ssiad")
    coordination_services.team_member_add(
        actor=admin_user, structure=other_structure, professional=staff, role="referent", is_structure_admin=True
    )
    admission_services.offer_save(
        actor=admin_user,
        structure=other_structure,
        services=[],
        department="75",
        postcode="75010",
        city="Paris",
        serves_older=True,
    )
    newcomer = PersonFactory(birth_name="LEGRAND", first_name="Odette")
    coordination_services.carer_link_create(actor=admin_user, person=newcomer, user=carer, relationship="famille")
    Notification.objects.all().delete()
    admission_services.create_request(
        actor=carer, person=newcomer, structures=[other_structure], message="Elle vit seule et chute souvent."
    )
    text = _text(login(staff.user).get(URL))
    assert "Demande d'admission reçue par votre structure" in text
    assert "Claire Martin : « Odette LEGRAND — Elle vit seule et chute souvent. »" in text
    assert "Envoyée" in text
    # Read through the admission scope, and logged so.
    assert AccessLog.objects.get(user=staff.user, person=newcomer, path=URL).via == "scoped"


def test_it_falls_back_to_the_generic_sentence_once_access_is_gone(person, person_user, referent):
    _deposit(person_user, person, "Ordonnance du cardiologue")
    member = CircleMember.objects.get(person=person, user=referent, ended_at__isnull=True)
    coordination_services.grants_set(actor=person_user, member=member, levels={"documents": 0})
    text = _text(login(referent).get(URL))
    assert "cardiologue" not in text and "Jeanne MARTIN" not in text
    assert "Un document a été déposé sur le portail : il attend votre examen." in text


def test_it_keeps_emails_and_sms_free_of_what_the_centre_shows(
    person, person_user, referent, other_pro, structure, admin_user, settings
):
    night = _night_nurse(structure, admin_user, person_user)
    settings.SMS_BACKEND = "notifications.channels.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    for user in (referent, person_user):
        user.phone = "+33612345678"
        user.save(update_fields=["phone"])
    for user, event_type in (
        (referent, "documents.to_review"),
        (person_user, "security.break_glass"),
        (person_user, "circle.join_request"),
    ):
        NotificationPreference.objects.update_or_create(
            user=user,
            event_type=event_type,
            defaults={"frequency": "immediate", "in_app": True, "email": True, "sms": True},
        )
    mail.outbox.clear()
    _deposit(person_user, person, "Ordonnance du cardiologue")
    coordination_services.break_glass_open(actor=night, person=person, reason="Malaise cardiaque au domicile.")
    coordination_services.join_request_create(
        actor=other_pro, person=person, role="medecin_traitant", message="Suivi de son diabète."
    )
    sent = [m for m in mail.outbox if {referent.email, person_user.email} & set(m.to)]
    assert len(sent) >= 3 and len(LocmemSMSBackend.outbox) >= 3
    bodies = [m.subject + m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", [])) for m in sent]
    bodies += [text for _to, text in LocmemSMSBackend.outbox]
    for body in bodies:
        for detail in (
            "cardiologue",
            "Malaise",
            "cardiaque",
            "diabète",
            "Compte rendu",
            "Jeanne",
            "MARTIN",
            "Octave",
            "Noé",
        ):
            assert detail not in body, (detail, body)
