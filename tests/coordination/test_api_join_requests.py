from __future__ import annotations

import pytest
from django.urls import reverse

from coordination import services
from coordination.models import CircleMember, EndReason, IdentityStatus, JoinRequest, JoinRequestStatus
from tests.conftest import login
from tests.factories import valid_ins

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = reverse("coordination_api:join_requests")
MINE_URL = reverse("coordination_api:my_join_requests")
TRANSMITTED = {"detail": "Votre demande a été transmise si la personne est connue."}
BY_TRAITS = {
    "birth_name": "martin",
    "first_name": "Jeanne",
    "birth_date": "1938-04-12",
    "role": "infirmier",
    "message": "Je fais les soins à domicile le soir.",
}


def answer_url(join_request) -> str:
    return reverse("coordination_api:join_request_answer", args=[join_request.pk])


def test_it_transmits_a_request_by_identity_traits(person, other_pro, other_structure):
    response = login(other_pro).post(URL, {**BY_TRAITS, "structure": other_structure.pk}, content_type=JSON)
    assert response.status_code == 202
    assert response.json() == TRANSMITTED
    join_request = JoinRequest.objects.get()
    assert (join_request.person, join_request.professional.user, join_request.structure) == (
        person,
        other_pro,
        other_structure,
    )
    assert join_request.status == JoinRequestStatus.PENDING


def test_it_transmits_a_request_by_ins(structure, admin_user, other_pro):
    ins = valid_ins(7)
    person = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="ROUX",
        birth_first_names="Emma",
        birth_date="1960-02-03",
        sex="F",
        ins_matricule=ins,
        identity_status=IdentityStatus.QUALIFIED,
    )
    response = login(other_pro).post(
        URL, {"ins_matricule": f"{ins[:5]} {ins[5:]}", "role": "infirmier", "message": "Soins."}, content_type=JSON
    )
    assert response.status_code == 202
    assert JoinRequest.objects.get().person == person


def test_it_answers_the_same_when_the_person_is_unknown(person, other_pro):
    response = login(other_pro).post(URL, {**BY_TRAITS, "birth_date": "1938-04-13"}, content_type=JSON)
    assert response.status_code == 202
    assert response.json() == TRANSMITTED
    assert not JoinRequest.objects.exists()
    response = login(other_pro).post(
        URL, {**BY_TRAITS, "birth_name": "", "ins_matricule": valid_ins(3)}, content_type=JSON
    )
    assert response.status_code == 202
    assert not JoinRequest.objects.exists()


def test_it_answers_the_same_to_a_second_request_while_one_is_pending(person, other_pro):
    client = login(other_pro)
    assert client.post(URL, BY_TRAITS, content_type=JSON).status_code == 202
    second = client.post(URL, BY_TRAITS, content_type=JSON)
    assert second.status_code == 202
    assert second.json() == TRANSMITTED
    assert JoinRequest.objects.count() == 1


def test_it_refuses_a_new_request_after_an_opposition(person, person_user, external_pro):
    member = CircleMember.objects.get(person=person, user=external_pro, ended_at__isnull=True)
    end_url = reverse("coordination_api:circle_member_end", args=[person.pk, member.pk])
    assert login(person_user).post(end_url, {"reason": "opposition"}, content_type=JSON).status_code == 200
    response = login(external_pro).post(URL, BY_TRAITS, content_type=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "person": [
            "La personne s'est opposée à votre présence dans son cercle : vous ne pouvez pas renouveler la demande."
        ]
    }
    assert not JoinRequest.objects.exists()


def test_it_tells_a_member_they_are_already_in_the_circle(person, nurse):
    response = login(nurse).post(URL, BY_TRAITS, content_type=JSON)
    assert response.status_code == 400
    assert response.json() == {"person": ["Vous faites déjà partie du cercle de cette personne."]}


def test_it_checks_the_input_whether_or_not_the_person_exists(person, other_pro, structure):
    client = login(other_pro)
    for traits in (BY_TRAITS, {**BY_TRAITS, "birth_name": "INCONNU"}):
        # A structure whose team the professional is not in: refused either way.
        response = client.post(URL, {**traits, "structure": structure.pk}, content_type=JSON)
        assert response.status_code == 400
        assert response.json() == {"structure": ["Vous ne faites pas partie de l'équipe de cette structure."]}
        assert client.post(URL, {**traits, "message": "  "}, content_type=JSON).status_code == 400
    missing = client.post(URL, {"birth_name": "MARTIN", "role": "infirmier", "message": "Soins."}, content_type=JSON)
    assert missing.status_code == 400
    assert "matricule INS" in missing.json()["non_field_errors"][0]
    bad_ins = client.post(URL, {"ins_matricule": "123", "role": "infirmier", "message": "Soins."}, content_type=JSON)
    assert bad_ins.status_code == 400
    assert "ins_matricule" in bad_ins.json()
    assert not JoinRequest.objects.exists()


def test_it_refuses_a_request_from_someone_who_is_not_a_professional(person, stranger, carer):
    for user in (stranger, carer):
        response = login(user).post(URL, BY_TRAITS, content_type=JSON)
        assert response.status_code == 403
        assert response.json() == {"detail": "Seul un professionnel peut demander à entrer dans un cercle."}
    assert not JoinRequest.objects.exists()


def test_it_lists_the_pending_requests_of_a_person(person, person_user, other_pro, other_structure):
    login(other_pro).post(URL, {**BY_TRAITS, "structure": other_structure.pk}, content_type=JSON)
    response = login(person_user).get(URL, {"person": person.pk})
    assert response.status_code == 200
    [row] = response.json()
    assert row["professional_name"] == "Octave Ailleurs"
    assert row["profession"] == "Aide-soignant·e"
    assert row["structure_name"] == "SSIAD du Canal"
    assert row["message"] == BY_TRAITS["message"]
    assert row["status"] == "pending"


def test_it_refuses_the_pending_requests_to_the_stranger_and_to_a_member_without_the_right(
    person, stranger, other_pro, external_pro
):
    login(other_pro).post(URL, BY_TRAITS, content_type=JSON)
    assert login(stranger).get(URL, {"person": person.pk}).status_code == 404
    assert login(other_pro).get(URL, {"person": person.pk}).status_code == 404
    assert login(external_pro).get(URL, {"person": person.pk}).status_code == 403
    assert login(external_pro).get(URL).status_code == 400


def test_it_lists_my_own_requests_once_answered_never_while_pending(person, person_user, other_pro, nurse):
    login(other_pro).post(URL, BY_TRAITS, content_type=JSON)
    assert login(other_pro).get(MINE_URL).json()["count"] == 0  # pending: would disclose the person
    login(person_user).post(
        answer_url(JoinRequest.objects.get()), {"accept": False, "note": "Non merci"}, content_type=JSON
    )
    response = login(other_pro).get(MINE_URL)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["person_name"] == "Jeanne MARTIN"
    assert row["status"] == "declined" and row["decision_note"] == "Non merci"
    assert login(nurse).get(MINE_URL).json()["count"] == 0


def test_it_lets_the_person_accept_a_request(person, person_user, other_pro):
    login(other_pro).post(URL, BY_TRAITS, content_type=JSON)
    join_request = JoinRequest.objects.get()
    response = login(person_user).post(
        answer_url(join_request), {"accept": True, "note": "Bienvenue"}, content_type=JSON
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert CircleMember.objects.filter(person=person, user=other_pro, ended_at__isnull=True).exists()
    # In the circle, with no right yet: 403, no longer 404.
    detail = reverse("coordination_api:person_detail", args=[person.pk])
    assert login(other_pro).get(detail).status_code == 403
    mine = login(other_pro).get(MINE_URL).json()["results"][0]
    assert (mine["status"], mine["decision_note"]) == ("accepted", "Bienvenue")


def test_it_lets_the_legal_representative_decline_a_request_once(person, legal_rep, other_pro):
    login(other_pro).post(URL, BY_TRAITS, content_type=JSON)
    join_request = JoinRequest.objects.get()
    client = login(legal_rep)
    assert client.post(answer_url(join_request), {"accept": False}, content_type=JSON).json()["status"] == "declined"
    again = client.post(answer_url(join_request), {"accept": True}, content_type=JSON)
    assert again.status_code == 400
    assert again.json() == {"status": ["Cette demande a déjà reçu une réponse."]}
    assert not CircleMember.objects.filter(person=person, user=other_pro).exists()


def test_it_refuses_the_answer_to_the_stranger_and_to_the_professionals(person, stranger, other_pro, referent):
    login(other_pro).post(URL, BY_TRAITS, content_type=JSON)
    join_request = JoinRequest.objects.get()
    assert login(stranger).post(answer_url(join_request), {"accept": True}, content_type=JSON).status_code == 404
    assert login(other_pro).post(answer_url(join_request), {"accept": True}, content_type=JSON).status_code == 404
    refused = login(referent).post(answer_url(join_request), {"accept": True}, content_type=JSON)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Seule la personne ou son représentant légal peut prendre cette décision."}
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.PENDING


def test_it_forgets_an_opposition_only_for_the_professional_concerned(person, person_user, external_pro, other_pro):
    services.circle_member_end(
        actor=person_user,
        reason=EndReason.OPPOSITION,
        member=CircleMember.objects.get(person=person, user=external_pro, ended_at__isnull=True),
    )
    assert login(other_pro).post(URL, BY_TRAITS, content_type=JSON).status_code == 202
