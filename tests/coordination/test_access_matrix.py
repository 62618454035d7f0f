"""The access matrix, category × level × kind of member, on pages and the API."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coordination import services
from coordination.models import LEVEL_BY_NAME, AccessLog, Category, CircleMember
from tests.conftest import login

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.coordination.probe_urls")]

MEMBER_KINDS = {
    "team_professional": "nurse",
    "external_professional": "external_pro",
    "carer": "carer",
    "legal_representative": "legal_rep",
}
LEVELS = ["none", "read", "write"]


def _statuses(client, category: str, person_id: int) -> dict[str, int]:
    return {
        "page_read": client.get(f"/probe/{category}/{person_id}/").status_code,
        "page_write": client.post(f"/probe/{category}/{person_id}/").status_code,
        "api_read": client.get(f"/api/probe/{category}/{person_id}/").status_code,
        "api_write": client.post(f"/api/probe/{category}/{person_id}/").status_code,
    }


@pytest.mark.parametrize("category", Category.values)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", MEMBER_KINDS)
def test_it_allows_or_refuses_as_the_matrix_says(request, kind, level, category, person, person_user):
    user = request.getfixturevalue(MEMBER_KINDS[kind])
    member = CircleMember.objects.active().get(person=person, user=user)
    if kind == "legal_representative" and category == Category.CIRCLE and level != "write":
        with pytest.raises(ValidationError):
            services.grants_set(actor=person_user, member=member, levels={category: LEVEL_BY_NAME[level]})
        return
    services.grants_set(actor=person_user, member=member, levels={category: LEVEL_BY_NAME[level]})

    statuses = _statuses(login(user), category, person.pk)

    can_read = 200 if level in ("read", "write") else 403
    can_write = 200 if level == "write" else 403
    assert statuses == {"page_read": can_read, "page_write": can_write, "api_read": can_read, "api_write": can_write}


@pytest.mark.parametrize("category", Category.values)
@pytest.mark.parametrize("outsider", ["stranger", "other_pro"])
def test_it_answers_404_to_someone_outside_the_circle(request, category, outsider, person, carer, legal_rep):
    user = request.getfixturevalue(outsider)
    statuses = _statuses(login(user), category, person.pk)
    assert set(statuses.values()) == {404}
    assert not AccessLog.objects.filter(user=user).exists()


def test_it_gives_a_plain_french_reason_to_a_member_without_the_right(person, external_pro):
    response = login(external_pro).get(f"/probe/liaison/{person.pk}/")
    assert response.status_code == 403
    assert "Vous n'avez pas le droit de consulter le cahier de liaison de cette personne." in html.unescape(
        response.content.decode()
    )
    api = login(external_pro).get(f"/api/probe/agenda/{person.pk}/")
    assert api.status_code == 403
    assert "modifier" not in api.json()["detail"] and "l'agenda" in api.json()["detail"]


def test_it_uses_the_matrix_on_the_real_record_and_circle_pages(person, person_user, external_pro):
    client = login(external_pro)
    record_url = reverse("coordination:person", args=[person.pk])
    circle_url = reverse("coordination:circle", args=[person.pk])
    assert client.get(record_url).status_code == 403
    assert client.get(circle_url).status_code == 403
    member = CircleMember.objects.active().get(person=person, user=external_pro)
    services.grants_set(actor=person_user, member=member, levels={"record": 1, "circle": 1})
    assert client.get(record_url).status_code == 200
    assert client.get(circle_url).status_code == 200


def test_it_gives_an_accompanying_teams_defaults_by_role(person, referent, nurse):
    from coordination.access import effective_levels

    assert set(effective_levels(referent, person).values()) == {2}
    nurse_levels = effective_levels(nurse, person)
    assert nurse_levels["liaison"] == 2 and nurse_levels["record"] == 1 and nurse_levels["circle"] == 1
