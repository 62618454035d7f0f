"""#16 item 3: "Qui a vu mes données" — one line per visit, grouped by day, filters,
the person's own visits and her representatives' hidden by default."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
from django.urls import reverse
from django.utils import timezone

from coordination import access
from coordination.models import AccessLog, Category
from tests.conftest import login

URL = reverse("portal_access_log")


def _lines(page) -> list[str]:
    tree = lxml.html.fromstring(page.content.decode())
    return [" ".join(li.text_content().split()) for li in tree.xpath("//ol[@class='access-log']/li")]


def _days(page) -> list[str]:
    tree = lxml.html.fromstring(page.content.decode())
    return [" ".join(h.text_content().split()) for h in tree.xpath("//section[@class='access-day']/h2")]


def _age(user, *, days: int = 0, minutes: int = 0) -> None:
    """Move the user's rows of the last minute back in time (the gate stamps them now)."""
    now = timezone.now()
    fresh = AccessLog.objects.filter(user=user, at__gt=now - timedelta(minutes=1))
    fresh.update(at=now - timedelta(days=days, minutes=minutes))


def test_it_shows_one_line_per_visit(person, person_user, nurse):
    # One page view of the nurse reads the notebook three times (list, counter, receipts).
    for _ in range(3):
        access.require(nurse, person, Category.LIAISON, "read")
    access.require(nurse, person, Category.AGENDA, "read")
    lines = _lines(login(person_user).get(URL))
    assert len(lines) == 2
    assert sum("Inès Infirmière" in line and "votre cahier de liaison" in line for line in lines) == 1
    assert sum("votre agenda" in line for line in lines) == 1


def test_it_starts_a_new_line_after_a_pause(person, person_user, nurse):
    access.require(nurse, person, Category.LIAISON, "read")
    _age(nurse, minutes=90)
    access.require(nurse, person, Category.LIAISON, "read")
    assert len(_lines(login(person_user).get(URL))) == 2


def test_it_hides_her_own_visits_and_her_representatives_by_default(person, person_user, legal_rep, nurse):
    access.require(person_user, person, Category.RECORD, "read")
    access.require(legal_rep, person, Category.DOCUMENTS, "read")
    access.require(nurse, person, Category.LIAISON, "read")
    client = login(person_user)
    lines = _lines(client.get(URL))
    assert len(lines) == 1 and "Inès Infirmière" in lines[0]
    everyone = " ".join(_lines(client.get(URL, {"qui": "tous"})))
    assert "Vous avez consulté votre dossier" in everyone
    assert "Louis Tuteur" in everyone and "représentant légal" in everyone
    # Her daughter (the guardian) reads the same log about her mother, in her words.
    rep_lines = _lines(login(legal_rep).get(URL, {"qui": "tous"}))
    assert any(line.startswith("Vous avez consulté les documents de Jeanne") for line in rep_lines)


def test_it_filters_by_who_and_by_category(person, person_user, nurse, referent):
    access.require(nurse, person, Category.LIAISON, "read")
    access.require(referent, person, Category.PPA, "write")
    access.require(referent, person, Category.AGENDA, "read")
    client = login(person_user)
    page = client.get(URL)
    tree = lxml.html.fromstring(page.content.decode())
    assert tree.xpath("//label[@for='id_qui']") and tree.xpath("//label[@for='id_categorie']")
    by_referent = _lines(client.get(URL, {"qui": referent.pk}))
    assert len(by_referent) == 2 and all("Rémi Référent" in line for line in by_referent)
    assert any("a modifié votre projet personnalisé" in line for line in by_referent)
    agenda = _lines(client.get(URL, {"categorie": Category.AGENDA}))
    assert len(agenda) == 1 and "votre agenda" in agenda[0]


def test_it_names_the_field_of_a_wrong_filter(person, person_user, nurse):
    access.require(nurse, person, Category.LIAISON, "read")
    page = login(person_user).get(URL, {"qui": "n'importe", "categorie": "nope"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "Qui" in body and "Sélectionnez un choix valide" in body
    assert len(_lines(page)) == 1


def test_it_groups_the_visits_by_day(person, person_user, nurse, referent):
    access.require(nurse, person, Category.LIAISON, "read")
    _age(nurse, days=3)
    access.require(referent, person, Category.RECORD, "read")
    page = login(person_user).get(URL)
    days = _days(page)
    assert len(days) == 2 and days[0].startswith("Aujourd’hui")
    assert len(_lines(page)) == 2


def test_it_pages_by_whole_days_in_a_bounded_number_of_queries(
    person, person_user, nurse, referent, django_assert_max_num_queries
):
    client = login(person_user)
    access.require(nurse, person, Category.LIAISON, "read")
    client.get(URL)
    with django_assert_max_num_queries(25) as small:
        client.get(URL)
    for day in range(1, 40):
        access.require(nurse, person, Category.LIAISON, "read")
        access.require(referent, person, Category.RECORD, "read")
        _age(nurse, days=day)
        _age(referent, days=day)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(URL)
    body = page.content.decode()
    assert "Jours précédents" in body
    older = client.get(URL + lxml.html.fromstring(body).xpath("//a[@rel='next']/@href")[0])
    shown, more = set(_days(page)), set(_days(older))
    assert shown and more and not shown & more


def test_it_refuses_a_carer_and_a_stranger(person, carer, stranger):
    assert login(carer).get(URL).status_code == 403
    assert login(stranger).get(URL).status_code == 404
