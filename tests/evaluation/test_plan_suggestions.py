"""Feeding the plan: an evaluation proposes SERAFIN-PH needs; they reach the person's
draft PPA only when a professional accepts them."""

from __future__ import annotations

import datetime

from django.urls import reverse

from evaluation.forms import field_name
from evaluation.models import Evaluation, SuggestionStatus
from ppa import services as ppa_services
from ppa.models import Need
from tests.conftest import login
from tests.evaluation.conftest import zarit_answers


def _heavy_zarit(client, person):
    answers = zarit_answers(50)
    data = {field_name(code): value for code, value in answers.items()}
    data["evaluated_on"] = datetime.date.today().isoformat()
    response = client.post(reverse("evaluation:new", args=[person.pk, "zarit-22"]), data)
    assert response.status_code == 302
    return Evaluation.objects.get(person=person)


def test_it_adds_a_proposed_need_to_the_draft_plan_only_when_accepted(zarit, person, referent):
    plan = ppa_services.plan_create(actor=referent, person=person)
    client = login(referent)
    evaluation = _heavy_zarit(client, person)
    suggestion = evaluation.suggestions.get()
    assert suggestion.serafin.code == "1.3.3.4" and suggestion.status == SuggestionStatus.PROPOSED
    assert not Need.objects.filter(version__plan=plan).exists()  # never written silently

    page = client.get(reverse("evaluation:detail", args=[evaluation.pk])).content.decode()
    assert "Ajouter au projet" in page and "1.3.3.4" in page

    response = client.post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "accept"})
    assert response.status_code == 302
    need = Need.objects.get(version__plan=plan)
    assert need.serafin.code == "1.3.3.4" and "Zarit" in need.description
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ACCEPTED and suggestion.need_key == need.key
    # Accepting twice adds nothing more.
    client.post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "accept"})
    assert Need.objects.filter(version__plan=plan).count() == 1


def test_it_leaves_the_plan_alone_when_the_need_is_discarded(zarit, person, referent):
    plan = ppa_services.plan_create(actor=referent, person=person)
    client = login(referent)
    suggestion = _heavy_zarit(client, person).suggestions.get()
    client.post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "discard"})
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISCARDED and suggestion.decided_by == referent
    assert not Need.objects.filter(version__plan=plan).exists()


def test_it_needs_the_plan_right_and_a_draft_to_accept(zarit, person, referent, nurse):
    client = login(nurse)
    suggestion = _heavy_zarit(client, person).suggestions.get()
    # No plan yet: refused with a French message, nothing changes.
    page = client.post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "accept"}, follow=True)
    assert "pas de version en brouillon" in page.content.decode()
    plan = ppa_services.plan_create(actor=referent, person=person)
    # The nurse reads the plan but does not write it (team defaults): refused too.
    page = client.post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "accept"}, follow=True)
    assert "projet personnalisé" in page.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PROPOSED
    assert not Need.objects.filter(version__plan=plan).exists()


def test_it_hides_the_decision_from_a_stranger(zarit, person, referent, stranger):
    suggestion = _heavy_zarit(login(referent), person).suggestions.get()
    assert (
        login(stranger).post(reverse("evaluation:decide", args=[suggestion.pk]), {"decision": "accept"}).status_code
        == 404
    )
