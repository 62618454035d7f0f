"""Referral: the form filled by a professional outside the circle or by a person or carer
from the portal reaches a coordination structure's queue, with the person's consent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination import services as coordination_services
from coordination.models import TeamRole
from evaluation.forms import field_name
from evaluation.models import Referral, ReferralStatus
from notifications.models import Notification
from tests.conftest import _pro, login
from tests.factories import StructureFactory

ANSWERS = {
    "person_name": "Jeanne Martin",
    "address": "Paris 11e",
    "difficulties": ["isolation", "carer"],
    "situation": "Vit seule depuis le décès de son mari ; sa fille est épuisée.",
    "requester_role": "professional",
    "requester_organisation": "Pharmacie du Canal",
    "requester_phone": "0102030405",
    "urgency": "high",
    "consent": "oui",
    "consent_how": "oral",
}


@pytest.fixture
def dac(admin_user):
    structure = StructureFactory(name="DAC Paris Est", finess="750000099", kind="dac")
    coordinator = _pro("coordinatrice@dac.fr", "coordinateur", "Dora", "Coordinatrice")
    coordination_services.team_member_add(
        actor=admin_user, structure=structure, professional=coordinator, role=TeamRole.REFERENT
    )
    structure.coordinator = coordinator.user
    return structure


def _data(dac, answers, **extra):
    data = {"structure": dac.pk}
    for code, value in answers.items():
        data[field_name(code)] = value
    data.update(extra)
    return data


def test_it_sends_a_referral_from_a_professional_outside_the_circle_to_the_dac_queue(
    instruments, dac, other_pro, person
):
    response = login(other_pro).post(reverse("evaluation:referral_new"), _data(dac, ANSWERS))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.structure, referral.person, referral.urgency, referral.has_consent) == (dac, None, "high", True)
    assert referral.sent_as == "professional" and referral.consent_recorded_at
    assert Notification.objects.filter(recipient=dac.coordinator, event_type="evaluation.referral_received").exists()

    client = login(dac.coordinator)
    queue = client.get(reverse("evaluation:referral_queue", args=[dac.pk]))
    page = queue.content.decode()
    assert queue.status_code == 200 and "Urgent (sous 48 heures)" in page and "Pharmacie du Canal" in page
    client.post(reverse("evaluation:referral_queue", args=[dac.pk]), {"referral": referral.pk, "status": "taken"})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.TAKEN and referral.handled_by == dac.coordinator


def test_it_sends_nothing_without_the_persons_consent(instruments, dac, other_pro):
    response = login(other_pro).post(reverse("evaluation:referral_new"), _data(dac, ANSWERS | {"consent": "non"}))
    assert response.status_code == 400
    assert "sans son accord, l&#x27;orientation n&#x27;est pas envoyée" in response.content.decode()
    assert not Referral.objects.exists()


def test_it_lets_a_carer_refer_the_person_from_the_portal(instruments, dac, carer, person):
    answers = ANSWERS | {"requester_role": "carer", "consent_how": "self"}
    del answers["requester_organisation"]
    response = login(carer).post(reverse("evaluation:referral_new"), _data(dac, answers, person=person.pk))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.person, referral.sent_as) == (person, "carer")
    assert "requester_organisation" not in referral.answers


def test_it_keeps_the_queue_to_the_structures_team(instruments, dac, other_pro, nurse, stranger):
    login(other_pro).post(reverse("evaluation:referral_new"), _data(dac, ANSWERS))
    for user in (nurse, stranger, other_pro):
        assert login(user).get(reverse("evaluation:referral_queue", args=[dac.pk])).status_code == 404


def test_it_refuses_a_structure_that_is_not_a_coordination_service(instruments, dac, other_pro, structure):
    response = login(other_pro).post(reverse("evaluation:referral_new"), _data(dac, ANSWERS, structure=structure.pk))
    assert response.status_code == 400 and not Referral.objects.exists()


def test_it_opens_an_admission_request_of_the_dac_for_a_known_person(instruments, dac, carer, person, admin_user):
    from admission.models import AdmissionCopy
    from tests.admission.conftest import offer

    offer(dac, admin_user)
    answers = ANSWERS | {"requester_role": "carer", "consent_how": "self"}
    del answers["requester_organisation"]
    response = login(carer).post(reverse("evaluation:referral_new"), _data(dac, answers, person=person.pk))
    assert response.status_code == 302
    referral = Referral.objects.get()
    request = referral.admission_request
    assert request is not None and request.person == person and request.source == "evaluation"
    assert "sa fille est épuisée" in request.message and "Urgence : Urgent" in request.message
    assert AdmissionCopy.objects.get(request=request).structure == dac
    # A second referral while that request is open: the queue row alone carries it.
    login(carer).post(reverse("evaluation:referral_new"), _data(dac, answers, person=person.pk))
    assert Referral.objects.count() == 2 and Referral.objects.filter(admission_request__isnull=True).count() == 1
