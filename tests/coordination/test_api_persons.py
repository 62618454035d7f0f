from __future__ import annotations

import pytest
from django.urls import reverse

from coordination import services
from coordination.models import AccessLog, CircleMember, IdentityStatus, TeamRole
from tests.conftest import login
from tests.factories import PersonFactory, ProfessionalFactory, StructureFactory, valid_ins

pytestmark = pytest.mark.django_db

LIST_URL = reverse("coordination_api:person_list")
# session, user, professional profile (MFA rule), TOTP authenticator, whether the user
# holds an active delegation (access.persons_visible_to), COUNT, page, active
# accompaniments with their structure, one INSERT of the access-log rows.
LIST_QUERIES = 9


def detail_url(person) -> str:
    return reverse("coordination_api:person_detail", args=[person.pk])


def make_persons(count: int, *, actor, structure) -> None:
    for _ in range(count):
        traits = PersonFactory.build()
        services.person_create(
            actor=actor,
            structure=structure,
            birth_name=traits.birth_name,
            birth_first_names=traits.birth_first_names,
            birth_date=traits.birth_date,
            sex="F",
        )


def test_it_lists_the_persons_whose_record_i_may_read(person, nurse, structure):
    response = login(nurse).get(LIST_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == person.pk
    assert row["display_name"] == "Jeanne MARTIN"
    assert row["birth_date"] == "1938-04-12"
    assert row["identity_status"] == IdentityStatus.PROVISIONAL
    assert row["ins"] == ""
    assert row["structures"] == [
        {
            "id": structure.pk,
            "name": "EHPAD Les Tilleuls",
            "started_on": person.accompaniments.get().started_on.isoformat(),
        }
    ]


def test_it_lists_nobody_to_the_stranger_nor_to_a_member_without_the_right(person, stranger, external_pro):
    for user in (stranger, external_pro):
        response = login(user).get(LIST_URL)
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_it_refuses_anonymous_callers(client, person):
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(person)).status_code == 403


def test_it_refuses_a_professional_without_totp(person, structure, admin_user):
    professional = ProfessionalFactory()
    services.team_member_add(actor=admin_user, structure=structure, professional=professional, role=TeamRole.NURSE)
    response = login(professional.user).get(LIST_URL)
    assert response.status_code == 403
    assert "deux facteurs" in response.json()["detail"]


def test_it_shows_the_ins_only_when_the_identity_is_qualified(structure, nurse, admin_user):
    qualified = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DURAND",
        birth_first_names="Paul",
        birth_date="1940-01-02",
        sex="M",
        ins_matricule=valid_ins(1, sex="1"),
        identity_status=IdentityStatus.QUALIFIED,
    )
    provisional = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DUPONT",
        birth_first_names="Anne",
        birth_date="1941-03-04",
        sex="F",
        ins_matricule=valid_ins(2),
        identity_status=IdentityStatus.PROVISIONAL,
    )
    rows = {row["id"]: row for row in login(nurse).get(LIST_URL).json()["results"]}
    assert rows[qualified.pk]["ins"] == qualified.ins_matricule
    assert rows[provisional.pk]["ins"] == ""


def test_it_searches_by_name(person, nurse, structure, admin_user):
    services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="LEROY",
        used_name="BERNARD",
        birth_first_names="Lucie Anne",
        first_name="Lucie",
        birth_date="1950-05-06",
        sex="F",
    )
    client = login(nurse)

    def names(query: str) -> list[str]:
        return [row["display_name"] for row in client.get(LIST_URL, {"q": query}).json()["results"]]

    assert names("mart") == ["Jeanne MARTIN"]
    assert names("bernard") == ["Lucie BERNARD"]
    assert names("leroy") == ["Lucie BERNARD"]
    assert names("marie") == ["Jeanne MARTIN"]
    assert names("jeanne martin") == ["Jeanne MARTIN"]
    assert names("jeanne bernard") == []


def test_it_filters_by_accompanying_structure(person, structure, admin_user, referent):
    elsewhere = StructureFactory()
    other = services.person_create(
        actor=admin_user,
        structure=elsewhere,
        birth_name="PETIT",
        birth_first_names="Marc",
        birth_date="1945-07-08",
        sex="M",
    )
    services.accompaniment_start(actor=admin_user, person=other, structure=structure)
    client = login(referent)
    assert client.get(LIST_URL).json()["count"] == 2
    filtered = client.get(LIST_URL, {"structure": elsewhere.pk}).json()
    assert [row["id"] for row in filtered["results"]] == [other.pk]
    assert {s["name"] for s in filtered["results"][0]["structures"]} == {elsewhere.name, structure.name}
    services.accompaniment_end(actor=admin_user, accompaniment=other.accompaniments.get(structure=elsewhere))
    assert client.get(LIST_URL, {"structure": elsewhere.pk}).json()["count"] == 0
    assert client.get(LIST_URL, {"structure": "abc"}).status_code == 400


def test_it_logs_the_read_of_the_listed_page_only(person, nurse, structure, admin_user):
    make_persons(54, actor=admin_user, structure=structure)
    response = login(nurse).get(LIST_URL)
    assert response.json()["count"] == 55
    listed = [row["id"] for row in response.json()["results"]]
    assert len(listed) == 50
    logs = AccessLog.objects.filter(user=nurse)
    assert sorted(logs.values_list("person_id", flat=True)) == sorted(listed)
    assert set(logs.values_list("category", "action", "path")) == {("record", "read", LIST_URL)}


def test_it_runs_the_same_number_of_queries_for_1_and_200_persons(
    person, nurse, structure, admin_user, django_assert_max_num_queries
):
    client = login(nurse)
    client.get(LIST_URL)  # the first request of a session also records its last-seen time
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get(LIST_URL).json()["count"] == 1
    make_persons(199, actor=admin_user, structure=structure)
    client.get(LIST_URL)  # refreshes the last-seen time if making the persons took over a minute
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(LIST_URL)
    assert response.json()["count"] == 200
    assert len(response.json()["results"]) == 50
    assert all(row["structures"] for row in response.json()["results"])


def test_it_shows_one_person_with_my_levels(person, nurse):
    response = login(nurse).get(detail_url(person))
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Jeanne MARTIN"
    assert body["birth_place_insee"] == "75056"
    assert body["my_levels"] == {
        "record": "read",
        "agenda": "write",
        "liaison": "write",
        "ppa": "read",
        "documents": "read",
        "circle": "read",
        "evaluation": "write",
        "exchanges": "write",
    }
    assert AccessLog.objects.filter(user=nurse, person=person, category="record", action="read").count() == 1


def test_it_answers_404_to_the_stranger_and_to_another_structure(person, stranger, other_pro):
    for user in (stranger, other_pro):
        response = login(user).get(detail_url(person))
        assert response.status_code == 404
        assert response.json() == {"detail": "Introuvable."}


def test_it_answers_403_with_the_gate_message_to_a_member_without_the_right(person, external_pro, carer):
    for user in (external_pro, carer):
        response = login(user).get(detail_url(person))
        assert response.status_code == 403
        assert response.json()["detail"].startswith("Vous n'avez pas le droit de consulter le dossier")


def test_it_applies_a_grant_and_an_ended_membership_at_the_next_request(person, person_user, external_pro):
    member = CircleMember.objects.get(person=person, user=external_pro, ended_at__isnull=True)
    pro_client, person_client = login(external_pro), login(person_user)
    assert pro_client.get(detail_url(person)).status_code == 403

    grants_url = reverse("coordination_api:circle_member_grants", args=[person.pk, member.pk])
    assert person_client.patch(grants_url, {"record": "read"}, content_type="application/json").status_code == 200
    assert pro_client.get(detail_url(person)).status_code == 200
    assert pro_client.get(LIST_URL).json()["count"] == 1

    end_url = reverse("coordination_api:circle_member_end", args=[person.pk, member.pk])
    assert person_client.post(end_url, {"reason": "end_of_care"}, content_type="application/json").status_code == 200
    assert pro_client.get(detail_url(person)).status_code == 404
    assert pro_client.get(LIST_URL).json()["count"] == 0


def test_it_lets_the_person_read_their_own_record(person, person_user):
    response = login(person_user).get(detail_url(person))
    assert response.status_code == 200
    assert response.json()["my_levels"]["circle"] == "write"
