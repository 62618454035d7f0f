from __future__ import annotations

import pytest
from django.urls import reverse

from coordination import matrix, services
from coordination.models import CircleMember, CircleRole, EndReason, GrantChange, MemberKind
from tests.conftest import login
from tests.factories import ProfessionalFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"
# session, user, professional profile, TOTP authenticator, the gate, its access-log row,
# the members with their account and structure, their grants.
CIRCLE_QUERIES = 8


def circle_url(person) -> str:
    return reverse("coordination_api:circle", args=[person.pk])


def grants_url(person, member) -> str:
    return reverse("coordination_api:circle_member_grants", args=[person.pk, member.pk])


def end_url(person, member) -> str:
    return reverse("coordination_api:circle_member_end", args=[person.pk, member.pk])


def membership(person, user) -> CircleMember:
    return CircleMember.objects.get(person=person, user=user, ended_at__isnull=True)


def test_it_lists_the_active_members_with_their_matrix(person, nurse, external_pro, structure):
    response = login(nurse).get(circle_url(person))
    assert response.status_code == 200
    members = {row["display_name"]: row for row in response.json()}
    assert set(members) == {"Jeanne Martin", "EHPAD Les Tilleuls", "Rémi Référent", "Inès Infirmière", "Karim Kiné"}
    assert members["Inès Infirmière"]["kind"] == MemberKind.PROFESSIONAL
    assert members["Inès Infirmière"]["role"] == CircleRole.NURSE
    assert members["Inès Infirmière"]["origin"] == "team"
    assert members["Inès Infirmière"]["structure"] == structure.pk
    assert members["Inès Infirmière"]["levels"] == {
        "record": "read",
        "agenda": "write",
        "liaison": "write",
        "ppa": "read",
        "documents": "read",
        "circle": "read",
        "evaluation": "write",
        "exchanges": "write",
    }
    assert members["Karim Kiné"]["levels"] == dict.fromkeys(members["Karim Kiné"]["levels"], "none")
    assert members["EHPAD Les Tilleuls"]["holds_rights"] is False
    assert members["Jeanne Martin"]["started_at"]
    assert all(row["ended_at"] is None for row in response.json())


def test_it_shows_ended_memberships_with_history(person, person_user, nurse, external_pro):
    services.circle_member_end(actor=person_user, member=membership(person, external_pro), reason=EndReason.OPPOSITION)
    client = login(nurse)
    assert "Karim Kiné" not in {row["display_name"] for row in client.get(circle_url(person)).json()}
    history = {row["display_name"]: row for row in client.get(circle_url(person), {"history": "1"}).json()}
    assert history["Karim Kiné"]["end_reason"] == EndReason.OPPOSITION
    assert history["Karim Kiné"]["ended_at"]


def test_it_reads_the_circle_in_a_bounded_number_of_queries(person, person_user, nurse, django_assert_max_num_queries):
    client = login(nurse)
    client.get(circle_url(person))  # the first request of a session also records its last-seen time
    with django_assert_max_num_queries(CIRCLE_QUERIES):
        assert len(client.get(circle_url(person)).json()) == 4
    for _ in range(10):
        services.circle_member_add(
            actor=person_user, person=person, role=CircleRole.THERAPIST, professional=ProfessionalFactory()
        )
    with django_assert_max_num_queries(CIRCLE_QUERIES):
        assert len(client.get(circle_url(person)).json()) == 14


def test_it_refuses_the_circle_to_the_stranger_and_to_a_member_without_the_right(
    person, stranger, other_pro, external_pro, carer
):
    for user in (stranger, other_pro):
        client = login(user)
        assert client.get(circle_url(person)).status_code == 404
        assert (
            client.post(circle_url(person), {"role": "autre", "other_name": "X"}, content_type=JSON).status_code == 404
        )
    for user in (external_pro, carer):
        response = login(user).get(circle_url(person))
        assert response.status_code == 403
        assert "le cercle et les droits" in response.json()["detail"]


def test_it_lets_the_person_add_a_professional_without_any_right(person, person_user, other_pro):
    response = login(person_user).post(
        circle_url(person), {"role": "infirmier", "professional": other_pro.professional.pk}, content_type=JSON
    )
    assert response.status_code == 201
    body = response.json()
    assert body["display_name"] == "Octave Ailleurs"
    assert body["origin"] == "added"
    assert set(body["levels"].values()) == {"none"}
    assert login(other_pro).get(reverse("coordination_api:person_detail", args=[person.pk])).status_code == 403


def test_it_lets_the_legal_representative_add_someone_without_an_account(person, legal_rep):
    response = login(legal_rep).post(
        circle_url(person),
        {"role": "voisin", "other_name": " Mme Voisine ", "other_contact": "06 00 00 00 00"},
        content_type=JSON,
    )
    assert response.status_code == 201
    assert response.json()["kind"] == MemberKind.OTHER
    assert response.json()["display_name"] == "Mme Voisine"
    structure = StructureFactory()
    response = login(legal_rep).post(
        circle_url(person), {"role": "structure", "structure": structure.pk}, content_type=JSON
    )
    assert response.status_code == 201
    assert response.json()["display_name"] == structure.name


def test_it_refuses_to_add_a_member_for_a_professional_of_the_circle(person, referent, other_pro):
    response = login(referent).post(
        circle_url(person), {"role": "infirmier", "professional": other_pro.professional.pk}, content_type=JSON
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Seule la personne ou son représentant légal peut prendre cette décision."


def test_it_explains_what_is_wrong_with_a_new_member(person, person_user, other_pro, nurse):
    client = login(person_user)
    both = client.post(
        circle_url(person),
        {"role": "autre", "professional": other_pro.professional.pk, "other_name": "X"},
        content_type=JSON,
    )
    assert both.status_code == 400
    assert "un seul membre" in both.json()["non_field_errors"][0]
    already = client.post(
        circle_url(person), {"role": "infirmier", "professional": nurse.professional.pk}, content_type=JSON
    )
    assert already.status_code == 400
    assert already.json() == {"professional": ["Ce professionnel fait déjà partie du cercle."]}
    assert client.post(circle_url(person), {"role": "pilote", "other_name": "X"}, content_type=JSON).status_code == 400


def test_it_lets_the_legal_representative_set_grants(person, legal_rep, external_pro):
    member = membership(person, external_pro)
    response = login(legal_rep).patch(
        grants_url(person, member), {"agenda": "write", "record": "read"}, content_type=JSON
    )
    assert response.status_code == 200
    assert response.json()["levels"]["agenda"] == "write"
    assert response.json()["levels"]["record"] == "read"
    assert response.json()["levels"]["liaison"] == "none"
    assert matrix.levels_of(person, external_pro.pk)["agenda"] == 2
    assert external_pro.has_perm("coordination.write_agenda", person)
    change = GrantChange.objects.get(person=person, user=external_pro, category="agenda")
    assert (change.old_level, change.new_level, change.changed_by) == (0, 2, legal_rep)
    assert login(external_pro).get(circle_url(person)).status_code == 403


def test_it_refuses_grants_to_a_professional_and_to_the_stranger(person, referent, stranger, external_pro):
    member = membership(person, external_pro)
    response = login(referent).patch(grants_url(person, member), {"record": "write"}, content_type=JSON)
    assert response.status_code == 403
    assert login(stranger).patch(grants_url(person, member), {"record": "write"}, content_type=JSON).status_code == 404
    assert (
        login(external_pro).patch(grants_url(person, member), {"record": "write"}, content_type=JSON).status_code == 403
    )
    assert matrix.levels_of(person, external_pro.pk)["record"] == 0
    assert not GrantChange.objects.filter(person=person, user=external_pro).exists()


def test_it_validates_the_grants(person, person_user, external_pro, admin_user):
    client = login(person_user)
    member = membership(person, external_pro)
    unknown = client.patch(grants_url(person, member), {"secret": "read"}, content_type=JSON)
    assert unknown.status_code == 400
    assert "Catégorie inconnue : secret." in unknown.json()["non_field_errors"]
    assert client.patch(grants_url(person, member), {"record": "admin"}, content_type=JSON).status_code == 400
    assert client.patch(grants_url(person, member), {}, content_type=JSON).status_code == 400
    own = client.patch(grants_url(person, membership(person, person_user)), {"circle": "read"}, content_type=JSON)
    assert own.status_code == 400
    assert "gardent la main" in own.json()["circle"][0]


def test_it_answers_404_for_a_member_of_another_person(person, person_user, structure, admin_user):
    other_user = UserFactory()
    other = services.person_create(
        actor=admin_user,
        structure=structure,
        user=other_user,
        birth_name="AUTRE",
        birth_first_names="Jean",
        birth_date="1950-01-01",
        sex="M",
    )
    foreign = membership(other, other_user)
    client = login(person_user)
    assert client.patch(grants_url(person, foreign), {"record": "read"}, content_type=JSON).status_code == 404
    assert client.post(end_url(person, foreign), {"reason": "end_of_care"}, content_type=JSON).status_code == 404


def test_it_lets_the_person_oppose_a_professional(person, person_user, external_pro):
    member = membership(person, external_pro)
    response = login(person_user).post(end_url(person, member), {"reason": "opposition"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["end_reason"] == "opposition"
    assert response.json()["ended_at"]
    assert login(external_pro).get(circle_url(person)).status_code == 404


def test_it_lets_a_professional_with_circle_write_end_a_care_but_not_oppose(person, referent, nurse, external_pro):
    member = membership(person, external_pro)
    refused = login(nurse).post(end_url(person, member), {"reason": "end_of_care"}, content_type=JSON)
    assert refused.status_code == 403
    opposition = login(referent).post(end_url(person, member), {"reason": "opposition"}, content_type=JSON)
    assert opposition.status_code == 403
    ended = login(referent).post(end_url(person, member), {"reason": "end_of_care"}, content_type=JSON)
    assert ended.status_code == 200
    again = login(referent).post(end_url(person, member), {"reason": "end_of_care"}, content_type=JSON)
    assert again.status_code == 400
    assert again.json() == {"member": ["Ce membre a déjà quitté le cercle."]}


def test_it_refuses_to_end_a_membership_for_the_stranger_and_checks_the_reason(
    person, stranger, person_user, external_pro
):
    member = membership(person, external_pro)
    assert (
        login(stranger).post(end_url(person, member), {"reason": "end_of_care"}, content_type=JSON).status_code == 404
    )
    assert (
        login(person_user).post(end_url(person, member), {"reason": "left_team"}, content_type=JSON).status_code == 400
    )
    assert membership(person, external_pro).pk == member.pk
