"""The directory of professionals, to add one to a person's circle."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from coordination import matrix
from coordination.models import CircleMember, JoinRequest, MemberOrigin
from tests.conftest import _pro, login

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


@pytest.fixture
def ortho(db):
    pro = _pro("ortho@exemple.fr", "orthophoniste", "Odile", "Lefèvre")
    pro.rpps = "10000000042"
    pro.save()
    return pro


def test_it_finds_professionals_by_name_rpps_profession_and_structure(person, person_user, ortho, other_pro, nurse):
    client = login(person_user)
    url = reverse("admission:directory", args=[person.pk])

    def names(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {p.user.last_name for p in response.context["page"].object_list}

    assert names(q="lefèvre") == {"Lefèvre"}
    assert names(q="10000000042") == {"Lefèvre"}
    assert names(q="orthophoniste") == {"Lefèvre"}
    assert names(structure="canal") == {"Ailleurs"}
    assert names(profession="infirmier") == {"Infirmière"}
    response = client.get(url, {"q": "ortho"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode() and "RPPS 10000000042" in _text(response)


def test_it_lets_the_person_add_a_professional_with_no_right(person, person_user, ortho):
    client = login(person_user)
    page = client.get(reverse("portal_circle"))
    assert reverse("admission:directory", args=[person.pk]) in page.content.decode()
    response = client.post(reverse("admission:directory_add", args=[person.pk, ortho.pk]), {"role": "reeducation"})
    assert response.status_code == 302 and response["Location"] == reverse("portal_circle")
    member = CircleMember.objects.active().get(person=person, professional=ortho)
    assert member.origin == MemberOrigin.ADDED and member.role == "reeducation"
    assert set(matrix.levels_of(person, ortho.user_id).values()) == {0}
    # Twice is refused with a plain message.
    response = client.post(
        reverse("admission:directory_add", args=[person.pk, ortho.pk]), {"role": "reeducation"}, follow=True
    )
    assert "Ce professionnel fait déjà partie du cercle." in _text(response)


def test_it_lets_a_referent_propose_a_professional_for_the_person_to_decide(person, referent, ortho):
    response = login(referent).post(
        reverse("admission:directory_add", args=[person.pk, ortho.pk]), {"role": "reeducation", "message": "Bilan"}
    )
    assert response.status_code == 302
    assert not CircleMember.objects.filter(person=person, professional=ortho).exists()
    join_request = JoinRequest.objects.get(person=person, professional=ortho)
    assert join_request.invited_by == referent and join_request.status == "pending"


def test_it_keeps_the_directory_to_those_who_may_change_the_circle(person, carer, other_pro, stranger, ortho):
    url = reverse("admission:directory", args=[person.pk])
    for user in (other_pro, stranger):
        assert login(user).get(url).status_code == 404
        response = login(user).post(reverse("admission:directory_add", args=[person.pk, ortho.pk]), {"role": "autre"})
        assert response.status_code == 404
    assert login(carer).get(url).status_code == 403
    assert not CircleMember.objects.filter(professional=ortho).exists()


def test_it_pages_the_directory_in_a_bounded_number_of_queries(person, person_user, django_assert_max_num_queries):
    for n in range(30):
        _pro(f"pro{n}@exemple.fr", "infirmier", f"Prénom{n}", f"Nom{n:02d}")
    client = login(person_user)
    url = reverse("admission:directory", args=[person.pk])
    client.get(url)
    with django_assert_max_num_queries(14):
        response = client.get(url, {"profession": "infirmier", "page": 2})
    assert len(response.context["page"].object_list) == 11
