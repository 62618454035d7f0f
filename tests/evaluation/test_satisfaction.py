"""Satisfaction questionnaires: sent by a structure to the persons it accompanies and
their carers, answered in the portal, shown aggregated from five answers, never naming
anyone."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from coordination import services as coordination_services
from evaluation.forms import field_name
from evaluation.models import SatisfactionInvitation, SatisfactionResponse
from notifications.models import Notification
from tests.conftest import login
from tests.factories import UserFactory


@pytest.fixture
def carers(person, admin_user):
    users = []
    for n in range(5):
        user = UserFactory(email=f"proche{n}@exemple.fr", first_name=f"Prénom{n}", last_name=f"Nomproche{n}")
        coordination_services.carer_link_create(actor=admin_user, person=person, user=user, relationship="aidant")
        users.append(user)
    return users


def _send(referent, structure, instruments, *, anonymous=True):
    questionnaire = instruments["satisfaction-accompagnement"]
    return login(referent).post(
        reverse("evaluation:structure_satisfaction", args=[structure.pk]),
        {
            "questionnaire": questionnaire.pk,
            "title": "Votre avis — hiver",
            "closes_on": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
            "is_anonymous": "on" if anonymous else "",
        },
    )


def _answer(user, note: int, comment: str = ""):
    invitation = SatisfactionInvitation.objects.get(user=user)
    data = {
        field_name("listened"): "4",
        field_name("informed"): "3",
        field_name("respected"): "4",
        field_name("overall"): str(note),
        field_name("comment"): comment,
    }
    return login(user).post(reverse("evaluation:satisfaction_answer", args=[invitation.token]), data)


def test_it_sends_the_questionnaire_to_the_persons_and_carers_with_a_link_naming_no_health_detail(
    instruments, structure, referent, person, person_user, carers
):
    response = _send(referent, structure, instruments)
    assert response.status_code == 302
    invited = set(SatisfactionInvitation.objects.values_list("user_id", flat=True))
    assert invited == {person_user.pk, *(u.pk for u in carers)}
    notification = Notification.objects.get(recipient=person_user, event_type="evaluation.satisfaction_invitation")
    assert notification.url.startswith("/evaluation/satisfaction/")
    assert "Martin" not in notification.url
    page = login(person_user).get(reverse("evaluation:my_questionnaires")).content.decode()
    assert "Votre avis — hiver" in page


def test_it_hides_the_results_below_five_answers_and_never_names_anyone(
    instruments, structure, referent, person, person_user, carers
):
    _send(referent, structure, instruments)
    for n, user in enumerate(carers[:4]):
        assert _answer(user, 6 + n, comment=f"Merci à l'équipe {n}").status_code == 302
    from evaluation.models import SatisfactionCampaign

    campaign = SatisfactionCampaign.objects.get()
    campaign_url = reverse("evaluation:campaign_results", args=[structure.pk, campaign.pk])
    page = login(referent).get(campaign_url).content.decode()
    assert "4 réponses sur 6" in page and "à partir de 5 réponses" in page
    assert "Merci à l&#x27;équipe" not in page and "Moyenne" not in page

    assert _answer(carers[4], 10, comment="Très bien").status_code == 302
    page = login(referent).get(campaign_url).content.decode()
    assert "5 réponses sur 6" in page
    assert "Moyenne : <strong>8,0</strong>" in page  # (6 + 7 + 8 + 9 + 10) / 5
    assert "Merci à l&#x27;équipe 0" in page and "Très bien" in page
    for user in carers:
        assert user.last_name not in page and user.email not in page
    # Anonymous: the answers keep no account.
    assert not SatisfactionResponse.objects.filter(respondent__isnull=False).exists()


def test_it_takes_one_answer_per_invitation_and_checks_it(instruments, structure, referent, carers):
    _send(referent, structure, instruments)
    bad = login(carers[0]).post(
        reverse("evaluation:satisfaction_answer", args=[SatisfactionInvitation.objects.get(user=carers[0]).token]),
        {field_name("overall"): "12"},
    )
    assert bad.status_code == 400
    assert "de 0 à 10 ? » : cette réponse n&#x27;est pas proposée." in bad.content.decode()
    assert not SatisfactionResponse.objects.exists()
    assert _answer(carers[0], 7).status_code == 302
    again = _answer(carers[0], 2)
    assert again.status_code == 200 and "déjà répondu" in again.content.decode()
    assert SatisfactionResponse.objects.count() == 1


def test_it_keeps_the_link_and_the_results_to_their_own_people(
    instruments, structure, referent, nurse, carers, stranger
):
    _send(referent, structure, instruments)
    token = SatisfactionInvitation.objects.get(user=carers[0]).token
    assert login(carers[1]).get(reverse("evaluation:satisfaction_answer", args=[token])).status_code == 404
    assert login(stranger).get(reverse("evaluation:satisfaction_answer", args=[token])).status_code == 404
    from evaluation.models import SatisfactionCampaign

    campaign = SatisfactionCampaign.objects.get()
    # A team member who is not an administrator of the structure sees neither page.
    assert login(nurse).get(reverse("evaluation:structure_satisfaction", args=[structure.pk])).status_code == 404
    assert login(nurse).get(reverse("evaluation:campaign_results", args=[structure.pk, campaign.pk])).status_code == 404
