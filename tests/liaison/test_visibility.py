"""Who sees which transmissions, with the personas."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from coordination import services as circle
from coordination.models import CircleMember, EndReason, Level, TeamRole
from liaison import services
from liaison.models import Transmission
from tests.conftest import _pro, login

pytestmark = pytest.mark.django_db


def _post(actor, person, text, **extra):
    return services.transmission_create(actor=actor, person=person, category="observations", text=text, **extra)


@pytest.fixture
def ssiad_nurse(person, other_structure, admin_user):
    """A nurse of a second structure accompanying the person."""
    pro = _pro("ssiad@exemple.fr", "infirmier", "Sacha", "Ssiad")
    circle.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.NURSE)
    circle.accompaniment_start(actor=admin_user, person=person, structure=other_structure)
    return pro.user


def _visible_texts(user, person) -> str:
    return html.unescape(login(user).get(reverse("liaison:notebook", args=[person.pk])).content.decode())


def test_it_shows_shared_transmissions_to_every_reader_and_internal_ones_to_the_authors_team_only(
    person, nurse, referent, ssiad_nurse
):
    _post(nurse, person, "Repas pris en entier.", scope="shared")
    _post(nurse, person, "Point d'équipe : surveiller l'hydratation.", scope="internal")
    assert "Point d'équipe" in _visible_texts(referent, person)  # same structure
    ssiad = _visible_texts(ssiad_nurse, person)
    assert "Repas pris en entier." in ssiad and "Point d" not in ssiad


def test_it_shows_shared_transmissions_to_a_carer_only_when_granted(person, person_user, nurse, carer):
    _post(nurse, person, "Bonne journée, promenade au parc.")
    assert login(carer).get(reverse("liaison:notebook", args=[person.pk])).status_code == 403
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.READ}
    )
    text = _visible_texts(carer, person)
    assert "promenade au parc" in text and "Nouvelle transmission" not in text  # read only: no form


def test_it_never_shows_internal_transmissions_to_carers_or_the_person(person, person_user, nurse, carer):
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.WRITE}
    )
    _post(nurse, person, "Réunion interne sur le projet.", scope="internal")
    assert "Réunion interne" not in _visible_texts(carer, person)
    assert "Réunion interne" not in _visible_texts(person_user, person)


def test_it_lets_a_carer_with_write_post_an_observation_in_the_shared_notebook(person, person_user, carer, nurse):
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.WRITE}
    )
    response = login(carer).post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "vie_sociale", "kind": "general", "text": "Visite de sa sœur."},
    )
    assert response.status_code == 302
    transmission = Transmission.objects.get(author=carer)
    assert transmission.scope == "shared" and transmission.author_structure is None
    assert "Visite de sa sœur." in _visible_texts(nurse, person)


def test_it_answers_404_to_a_stranger_and_refuses_an_ended_member(person, nurse, referent, stranger, other_pro):
    transmission = _post(nurse, person, "Observation.")
    for outsider in (stranger, other_pro):
        client = login(outsider)
        assert client.get(reverse("liaison:notebook", args=[person.pk])).status_code == 404
        assert client.get(reverse("liaison:transmission", args=[transmission.pk])).status_code == 404
    circle.circle_member_end(
        actor=referent, member=CircleMember.objects.active().get(user=nurse), reason=EndReason.END_OF_CARE
    )
    assert login(nurse).get(reverse("liaison:notebook", args=[person.pk])).status_code == 404


def test_it_refuses_posting_without_liaison_write(person, person_user, carer):
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.READ}
    )
    response = login(carer).post(
        reverse("liaison:notebook", args=[person.pk]), {"category": "autre", "kind": "general", "text": "Essai"}
    )
    assert response.status_code == 403
    assert not Transmission.objects.exists()


def test_it_names_the_field_when_a_targeted_transmission_has_no_target(person, nurse):
    response = login(nurse).post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "symptomes", "kind": "targeted", "data": "Grimace au lever.", "scope": "shared"},
    )
    assert response.status_code == 400
    assert "Indiquez la cible de la transmission ciblée" in response.content.decode()
    assert not Transmission.objects.exists()


def test_it_searches_the_notebook_in_full_text(person, nurse):
    _post(nurse, person, "Chute dans la salle de bain, pas de blessure.")
    _post(nurse, person, "Appétit correct au déjeuner.")
    client = login(nurse)
    response = client.get(reverse("liaison:notebook", args=[person.pk]), {"q": "chute"})
    text = response.content.decode()
    assert "salle de bain" in text and "Appétit" not in text


def test_it_serves_the_composer_on_demand_to_writers_only(person, person_user, nurse, carer):
    url = reverse("liaison:notebook", args=[person.pk])
    client = login(nurse)
    page = client.get(url).content.decode()
    # Folded by default: fetched when opened (HTMX), or with ?nouvelle=1 without JavaScript.
    assert "Nouvelle transmission" in page and "Enregistrer la transmission" not in page
    assert f'hx-get="{url}?formulaire=1"' in page and f'href="{url}?nouvelle=1#nouvelle"' in page
    composer = client.get(url, {"formulaire": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert "Enregistrer la transmission" in composer and "Rémi Référent" in composer and "<html" not in composer
    assert "Enregistrer la transmission" in client.get(url, {"nouvelle": "1"}).content.decode()
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.READ}
    )
    reader = login(carer)
    assert reader.get(url, {"formulaire": "1"}).status_code == 403
    assert "Enregistrer la transmission" not in reader.get(url, {"nouvelle": "1"}).content.decode()
