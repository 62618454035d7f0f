from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination import services
from coordination.models import CircleMember, Delegation, DelegationStatus, EndReason, Level
from tests.conftest import login

pytestmark = pytest.mark.django_db

JSON = "application/json"


def list_url(person) -> str:
    return reverse("coordination_api:person_delegations", args=[person.pk])


def answer_url(delegation) -> str:
    return reverse("coordination_api:delegation_answer", args=[delegation.pk])


def revoke_url(delegation) -> str:
    return reverse("coordination_api:delegation_revoke", args=[delegation.pk])


def detail_url(person) -> str:
    return reverse("coordination_api:person_detail", args=[person.pk])


def proposal(delegate, **levels) -> dict:
    return {
        "delegate": delegate.professional.pk,
        "levels": levels or {"record": "read"},
        "ends_at": (timezone.now() + timedelta(days=7)).isoformat(),
        "reason": "Congés",
    }


@pytest.fixture
def delegation(person, nurse, other_pro):
    # Two grants, so that their ids differ from the person's on every database.
    return services.delegation_create(
        actor=nurse,
        person=person,
        delegate=other_pro.professional,
        levels={"agenda": Level.READ, "record": Level.READ},
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=7),
    )


def test_it_lets_a_professional_of_the_circle_propose_a_delegation(person, nurse, other_pro):
    response = login(nurse).post(
        list_url(person), proposal(other_pro, record="read", agenda="write"), content_type=JSON
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == DelegationStatus.PENDING
    assert body["delegator_name"] == "Inès Infirmière"
    assert body["delegate_name"] == "Octave Ailleurs"
    assert body["levels"] == {
        "record": "read",
        "agenda": "write",
        "liaison": "none",
        "ppa": "none",
        "documents": "none",
        "circle": "none",
        "evaluation": "none",
        "exchanges": "none",
    }
    assert body["reason"] == "Congés"
    # Pending: the delegate sees nothing yet.
    assert login(other_pro).get(detail_url(person)).status_code == 404


def test_it_refuses_a_delegation_above_the_delegators_rights(person, nurse, other_pro):
    response = login(nurse).post(list_url(person), proposal(other_pro, record="write"), content_type=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "record": ["Vous ne pouvez pas déléguer plus que vos propres droits (Synthèse du dossier : lecture)."]
    }
    assert not Delegation.objects.exists()


def test_it_lets_a_member_without_circle_read_ask_the_service(person, external_pro, other_pro):
    response = login(external_pro).post(list_url(person), proposal(other_pro), content_type=JSON)
    assert response.status_code == 400
    assert "déléguer plus que vos propres droits" in response.json()["record"][0]


def test_it_validates_the_proposal(person, nurse, other_pro):
    client = login(nurse)
    assert client.post(list_url(person), proposal(other_pro, ppa="admin"), content_type=JSON).status_code == 400
    unknown = client.post(list_url(person), proposal(other_pro, secret="read"), content_type=JSON)
    assert unknown.status_code == 400
    assert unknown.json() == {"levels": {"non_field_errors": ["Catégorie inconnue : secret."]}}
    past = {**proposal(other_pro), "ends_at": (timezone.now() - timedelta(days=1)).isoformat()}
    assert client.post(list_url(person), past, content_type=JSON).status_code == 400
    to_self = client.post(list_url(person), proposal(nurse), content_type=JSON)
    assert to_self.json() == {"delegate": ["Vous ne pouvez pas vous déléguer des droits."]}


def test_it_refuses_a_delegation_by_someone_outside_the_circle_or_not_a_professional(
    person, stranger, other_pro, carer, nurse
):
    assert login(stranger).post(list_url(person), proposal(nurse), content_type=JSON).status_code == 404
    assert login(other_pro).post(list_url(person), proposal(nurse), content_type=JSON).status_code == 404
    refused = login(carer).post(list_url(person), proposal(nurse), content_type=JSON)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Seul un professionnel membre du cercle peut déléguer ses droits."}


def test_it_lists_the_delegations_of_a_person(person, person_user, delegation, stranger, external_pro):
    response = login(person_user).get(list_url(person))
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == delegation.pk
    assert row["levels"]["record"] == "read"
    assert login(stranger).get(list_url(person)).status_code == 404
    assert login(external_pro).get(list_url(person)).status_code == 403


def test_it_applies_a_delegation_once_the_person_consents(person, person_user, delegation, other_pro):
    client = login(other_pro)
    assert client.get(detail_url(person)).status_code == 404
    response = login(person_user).post(answer_url(delegation), {"accept": True}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["status"] == DelegationStatus.ACTIVE
    assert client.get(detail_url(person)).status_code == 200
    assert client.get(reverse("coordination_api:person_list")).json()["count"] == 1


def test_it_lets_the_legal_representative_decline_a_delegation_once(person, legal_rep, delegation):
    client = login(legal_rep)
    assert client.post(answer_url(delegation), {"accept": False}, content_type=JSON).json()["status"] == "declined"
    again = client.post(answer_url(delegation), {"accept": True}, content_type=JSON)
    assert again.status_code == 400
    assert again.json() == {"status": ["Cette délégation a déjà reçu une réponse."]}


def test_it_refuses_the_consent_to_anyone_else(person, delegation, stranger, nurse, other_pro):
    assert login(stranger).post(answer_url(delegation), {"accept": True}, content_type=JSON).status_code == 404
    assert login(other_pro).post(answer_url(delegation), {"accept": True}, content_type=JSON).status_code == 404
    refused = login(nurse).post(answer_url(delegation), {"accept": True}, content_type=JSON)
    assert refused.status_code == 403
    delegation.refresh_from_db()
    assert delegation.status == DelegationStatus.PENDING


def test_it_lets_the_delegator_revoke_and_the_delegate_loses_access(person, person_user, nurse, delegation, other_pro):
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    assert login(other_pro).get(detail_url(person)).status_code == 200
    assert login(other_pro).post(revoke_url(delegation), content_type=JSON).status_code == 403
    response = login(nurse).post(revoke_url(delegation), content_type=JSON)
    assert response.status_code == 200
    assert response.json()["status"] == DelegationStatus.REVOKED
    assert login(other_pro).get(detail_url(person)).status_code == 404
    again = login(person_user).post(revoke_url(delegation), content_type=JSON)
    assert again.status_code == 400


def test_it_refuses_the_revocation_to_the_stranger_and_to_other_members(person, delegation, stranger, referent):
    assert login(stranger).post(revoke_url(delegation), content_type=JSON).status_code == 404
    assert login(referent).post(revoke_url(delegation), content_type=JSON).status_code == 403


def test_it_ends_a_delegation_with_the_delegators_membership(person, person_user, nurse, delegation, other_pro):
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    member = CircleMember.objects.get(person=person, user=nurse, ended_at__isnull=True)
    end_url = reverse("coordination_api:circle_member_end", args=[person.pk, member.pk])
    assert login(person_user).post(end_url, {"reason": EndReason.END_OF_CARE}, content_type=JSON).status_code == 200
    assert login(other_pro).get(detail_url(person)).status_code == 404
    assert login(other_pro).get(reverse("coordination_api:person_list")).json()["count"] == 0
