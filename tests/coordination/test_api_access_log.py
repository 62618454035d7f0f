from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from coordination import services
from coordination.models import AccessLog, TeamMembership
from tests.conftest import login

pytestmark = pytest.mark.django_db


def log_url(person) -> str:
    return reverse("coordination_api:person_access_log", args=[person.pk])


def detail_url(person) -> str:
    return reverse("coordination_api:person_detail", args=[person.pk])


def test_it_shows_the_person_the_reads_logged_by_earlier_requests(person, person_user, nurse):
    login(nurse).get(detail_url(person), REMOTE_ADDR="192.0.2.7")
    login(nurse).get(reverse("coordination_api:person_list"))
    response = login(person_user).get(log_url(person))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    latest, earlier = body["results"]
    assert latest["user_name"] == "Inès Infirmière"
    assert (latest["category"], latest["action"], latest["via"]) == ("record", "read", "normal")
    assert latest["category_label"] == "Synthèse du dossier"
    assert latest["action_label"] == "Lecture"
    assert latest["at"] >= earlier["at"]
    assert {row["ip"] for row in body["results"]} == {None}


def test_it_lets_the_legal_representative_read_the_log(person, legal_rep, nurse):
    login(nurse).get(detail_url(person))
    response = login(legal_rep).get(log_url(person))
    assert response.status_code == 200
    assert response.json()["results"][0]["user_name"] == "Inès Infirmière"


def test_it_shows_the_address_to_an_administrator_of_an_accompanying_structure(person, referent, nurse):
    login(nurse).get(detail_url(person), REMOTE_ADDR="192.0.2.7")
    response = login(referent).get(log_url(person))
    assert response.status_code == 200
    assert response.json()["results"][0]["ip"] == "192.0.2.7"


def test_it_refuses_the_log_to_an_administrator_whose_structure_stopped(person, referent, structure, admin_user):
    services.accompaniment_end(actor=admin_user, accompaniment=person.accompaniments.get(structure=structure))
    assert login(referent).get(log_url(person)).status_code == 404


def test_it_refuses_the_log_to_an_administrator_who_left_the_team(person, referent, structure, admin_user):
    membership = TeamMembership.objects.get(professional__user=referent, structure=structure)
    services.team_member_end(actor=admin_user, membership=membership)
    assert login(referent).get(log_url(person)).status_code == 404


def test_it_answers_403_to_members_and_404_to_everyone_else(person, nurse, carer, external_pro, stranger, other_pro):
    for user in (nurse, carer, external_pro):
        response = login(user).get(log_url(person))
        assert response.status_code == 403
        assert "historique des accès" in response.json()["detail"]
    for user in (stranger, other_pro):
        response = login(user).get(log_url(person))
        assert response.status_code == 404
        assert response.json() == {"detail": "Introuvable."}
    assert login(stranger).get(reverse("coordination_api:person_access_log", args=[999999])).status_code == 404


def test_it_paginates_the_log_newest_first(person, person_user, nurse):
    client = login(nurse)
    for _ in range(55):
        client.get(detail_url(person))
    first = login(person_user).get(log_url(person)).json()
    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert first["next"]
    # Her own reading of the log is logged too, but not listed in the page it produced.
    assert AccessLog.objects.filter(person=person, user=person_user, category="access_log").count() == 1
    newest = AccessLog.objects.filter(person=person, user=nurse).order_by("-at", "-pk").first()
    assert datetime.fromisoformat(first["results"][0]["at"]) == newest.at
    second = login(person_user).get(first["next"]).json()
    # The 5 oldest reads, and now her first reading of the log (an earlier request).
    assert second["count"] == 56 and len(second["results"]) == 6
