"""The person's evaluations through the pages and the API: the gate, bad answers,
history with its chart, two dates side by side."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from coordination.models import AccessLog, Category, Level
from coordination.services import grants_set
from evaluation import services
from evaluation.forms import field_name
from evaluation.models import Evaluation
from tests.conftest import login
from tests.evaluation.conftest import zarit_answers


def _post_data(answers: dict, **extra) -> dict:
    data = {field_name(code): value for code, value in answers.items()}
    data.setdefault("evaluated_on", datetime.date.today().isoformat())
    data.update(extra)
    return data


def _fill_url(person):
    return reverse("evaluation:new", args=[person.pk, "zarit-22"])


def _read_only(person, user, person_user):
    grants_set(
        actor=person_user,
        member=person.circle.get(user=user, ended_at__isnull=True),
        levels={Category.EVALUATION: Level.READ},
    )


def test_it_lets_a_nurse_fill_the_zarit_scale_for_a_carer(zarit, person, nurse, carer):
    link = person.carer_links.get(user=carer)
    client = login(nurse)
    page = client.get(_fill_url(person))
    assert page.status_code == 200
    assert "Sentez-vous que votre proche vous demande plus d" in page.content.decode()
    response = client.post(_fill_url(person), _post_data(zarit_answers(45), respondent_carer=link.pk))
    evaluation = Evaluation.objects.get(person=person)
    assert response.status_code == 302 and response.url == reverse("evaluation:detail", args=[evaluation.pk])
    assert (evaluation.score, evaluation.band_label, evaluation.respondent_carer) == (
        45,
        "Fardeau modéré à sévère",
        link,
    )
    detail = client.get(response.url).content.decode()
    assert "45" in detail and "Fardeau modéré à sévère" in detail and "Claire Martin" in detail
    assert AccessLog.objects.filter(user=nurse, person=person, category="evaluation", action="write").exists()
    assert AccessLog.objects.filter(user=nurse, person=person, category="evaluation", action="read").exists()


def test_it_refuses_out_of_range_and_missing_answers_naming_the_question_and_saves_nothing(zarit, person, nurse):
    answers = zarit_answers(30)
    del answers["z07"]
    answers["z03"] = "9"
    response = login(nurse).post(_fill_url(person), _post_data(answers))
    assert response.status_code == 400
    page = response.content.decode()
    assert "« Avez-vous peur de ce que l&#x27;avenir réserve à votre proche ? » : une réponse est obligatoire." in page
    assert "(familiales ou de travail) ? » : cette réponse n&#x27;est pas proposée." in page
    assert not Evaluation.objects.exists()


def test_it_hides_the_pages_from_a_stranger(zarit, person, stranger, nurse):
    evaluation = services.evaluation_create(actor=nurse, person=person, version=zarit, answers=zarit_answers(10))
    client = login(stranger)
    for url in (
        reverse("evaluation:person", args=[person.pk]),
        _fill_url(person),
        reverse("evaluation:history", args=[person.pk, "zarit-22"]),
        reverse("evaluation:detail", args=[evaluation.pk]),
        reverse("evaluation_api:person_evaluations", args=[person.pk]),
        reverse("evaluation_api:evaluation", args=[evaluation.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_fill_url(person), _post_data(zarit_answers(10))).status_code == 404
    assert Evaluation.objects.count() == 1


def test_it_refuses_a_member_without_the_right(zarit, person, external_pro):
    client = login(external_pro)
    assert client.get(reverse("evaluation:person", args=[person.pk])).status_code == 403
    assert client.post(_fill_url(person), _post_data(zarit_answers(10))).status_code == 403
    assert client.get(reverse("evaluation_api:person_evaluations", args=[person.pk])).status_code == 403
    assert not Evaluation.objects.exists()


def test_it_lets_a_reader_read_but_not_write(zarit, person, nurse, person_user):
    _read_only(person, nurse, person_user)
    client = login(nurse)
    page = client.get(reverse("evaluation:person", args=[person.pk]))
    assert page.status_code == 200 and "Remplir une évaluation" not in page.content.decode()
    assert client.get(_fill_url(person)).status_code == 403
    assert client.post(_fill_url(person), _post_data(zarit_answers(10))).status_code == 403
    api = client.post(
        reverse("evaluation_api:person_evaluations", args=[person.pk]),
        {"questionnaire": "zarit-22", "answers": zarit_answers(10)},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert not Evaluation.objects.exists()


def test_it_does_not_let_the_person_fill_a_professional_evaluation(zarit, person, person_user):
    assert login(person_user).post(_fill_url(person), _post_data(zarit_answers(10))).status_code == 403
    assert not Evaluation.objects.exists()


def test_it_records_an_evaluation_through_the_api_with_the_same_checks(zarit, person, nurse):
    client = login(nurse)
    url = reverse("evaluation_api:person_evaluations", args=[person.pk])
    bad = client.post(
        url, {"questionnaire": "zarit-22", "answers": zarit_answers(10) | {"z22": 7}}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert "un fardeau" in bad.json()["z22"][0] and "n'est pas proposée" in bad.json()["z22"][0]
    assert not Evaluation.objects.exists()
    created = client.post(
        url, {"questionnaire": "zarit-22", "answers": zarit_answers(61)}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["score"] == "61.00" and created.json()["band_label"] == "Fardeau sévère"
    listed = client.get(url).json()
    assert [e["id"] for e in listed] == [created.json()["id"]]


def test_it_shows_the_scores_over_time_and_two_dates_side_by_side(zarit, person, nurse, django_assert_max_num_queries):
    today = datetime.date.today()
    first = services.evaluation_create(
        actor=nurse,
        person=person,
        version=zarit,
        answers=zarit_answers(18),
        evaluated_on=today - datetime.timedelta(days=200),
    )
    for days, total in ((100, 35), (50, 52)):
        services.evaluation_create(
            actor=nurse,
            person=person,
            version=zarit,
            answers=zarit_answers(total),
            evaluated_on=today - datetime.timedelta(days=days),
        )
    last = services.evaluation_create(actor=nurse, person=person, version=zarit, answers=zarit_answers(66))
    client = login(nurse)
    url = reverse("evaluation:history", args=[person.pk, "zarit-22"])
    with django_assert_max_num_queries(12):
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and html.count("<circle") == 4
    assert "18 ; " in html and "66</desc>" in html
    compared = client.get(url, {"left": first.pk, "right": last.pk}).content.decode()
    assert f"Réponses du {first.evaluated_on:%d/%m/%Y} et du {last.evaluated_on:%d/%m/%Y}" in compared
    assert "18 — Fardeau absent ou léger" in compared and "66 — Fardeau sévère" in compared
    assert "Presque toujours" in compared and "Jamais" in compared
    assert client.get(url, {"left": "x", "right": "1"}).status_code == 400


@pytest.mark.parametrize("count", [1, 6])
def test_it_lists_the_evaluations_in_bounded_queries(zarit, person, nurse, count, django_assert_max_num_queries):
    for _ in range(count):
        services.evaluation_create(actor=nurse, person=person, version=zarit, answers=zarit_answers(12))
    client = login(nurse)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("evaluation:person", args=[person.pk]))
    assert page.status_code == 200 and "Échelle de Zarit" in page.content.decode()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("evaluation_api:person_evaluations", args=[person.pk])).status_code == 200
