"""Taking a person in through the page: identity checks, team defaults, duplicates, end."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from admission.models import IdentityReview
from coordination import matrix, services
from coordination.identifiers import ins_key
from coordination.models import Accompaniment, CircleMember, MemberOrigin, Person, TeamRole
from portal.models import PortalInvitation
from tests.conftest import _pro, login

pytestmark = pytest.mark.django_db

FIRST13 = "1450375056123"
INS = f"{FIRST13}{ins_key(FIRST13):02d}"
BAD_INS = f"{FIRST13}{(ins_key(FIRST13) + 1) % 97:02d}"


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _data(structure, **overrides) -> dict:
    data = {
        "structure": structure.pk,
        "birth_name": "Lefèvre",
        "birth_first_names": "Paul André",
        "first_name": "Paul",
        "birth_date": "1945-03-02",
        "sex": "M",
        "birth_place_insee": "75056",
        "ins_matricule": INS,
        "ins_oid": "1.2.250.1.213.1.4.8",
        "identity_status": "PROV",
        "phone": "0601020304",
        "email": "paul.lefevre@exemple.fr",
        "address": "3 rue des Lilas, 75011 Paris",
        "started_on": timezone.localdate().isoformat(),
        "proches-TOTAL_FORMS": "2",
        "proches-INITIAL_FORMS": "0",
        "proches-MIN_NUM_FORMS": "0",
        "proches-MAX_NUM_FORMS": "5",
        "proches-0-email": "fils.lefevre@exemple.fr",
        "proches-0-relationship": "tuteur",
        "proches-1-email": "",
        "proches-1-relationship": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def secretary(structure, admin_user):
    pro = _pro("secretariat@exemple.fr", "secretaire", "Sarah", "Secrétaire")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role=TeamRole.SECRETARY)
    return pro.user


def test_it_admits_a_person_with_the_accompaniment_and_the_team_defaults(
    structure, referent, nurse, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(referent).post(reverse("admission:admit"), _data(structure))
    person = Person.objects.get(birth_name="LEFÈVRE")
    assert response.status_code == 302 and response["Location"] == reverse("coordination:person", args=[person.pk])
    assert person.ins_matricule == INS and person.birth_first_names == "Paul André"
    accompaniment = Accompaniment.objects.get(person=person)
    assert accompaniment.structure == structure and accompaniment.ended_on is None
    team = CircleMember.objects.active().filter(person=person, origin=MemberOrigin.TEAM)
    assert {m.user for m in team} == {referent, nurse}
    assert matrix.levels_of(person, nurse.pk) == matrix.levels_dict(matrix.TEAM_DEFAULTS[TeamRole.NURSE])
    assert matrix.levels_of(person, referent.pk) == matrix.levels_dict(matrix.TEAM_DEFAULTS[TeamRole.REFERENT])
    # The guardian is invited to the portal (the link is e-mailed, it makes a legal-representative link on use).
    invitation = PortalInvitation.objects.get(person=person)
    assert invitation.email == "fils.lefevre@exemple.fr" and invitation.relationship == "tuteur"
    assert mail.outbox[-1].to == ["fils.lefevre@exemple.fr"]


def test_it_lets_a_secretary_admit_and_says_which_invitation_a_referent_must_send(structure, secretary, nurse):
    response = login(secretary).post(reverse("admission:admit"), _data(structure), follow=True)
    assert response.status_code == 200
    person = Person.objects.get(birth_name="LEFÈVRE")
    assert CircleMember.objects.active().filter(person=person, user=nurse).exists()
    assert "Invitation non envoyée à : fils.lefevre@exemple.fr" in _text(response)
    assert not PortalInvitation.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ins_matricule": BAD_INS}, "Matricule INS : la clé de contrôle ne correspond pas."),
        ({"ins_matricule": "1234"}, "Matricule INS : 15 caractères attendus"),
        ({"birth_date": "1945-02-31"}, "Date de naissance : Saisissez une date valide."),
        ({"birth_date": "2999-01-01"}, "Date de naissance : "),
        ({"birth_name": ""}, "Nom de naissance : Ce champ est obligatoire."),
        ({"sex": ""}, "Sexe : Ce champ est obligatoire."),
        ({"ins_matricule": "", "identity_status": "QUAL"}, "Matricule INS : il est nécessaire"),
    ],
)
def test_it_refuses_wrong_identity_traits_naming_the_field_and_creates_nothing(structure, referent, overrides, message):
    persons = Person.objects.count()
    response = login(referent).post(reverse("admission:admit"), _data(structure, **overrides))
    assert response.status_code == 400
    assert message in _text(response)
    assert Person.objects.count() == persons
    assert not Accompaniment.objects.filter(person__birth_name="LEFÈVRE").exists()
    assert not PortalInvitation.objects.exists()


def test_it_finds_an_ins_match_the_user_may_see_and_takes_that_person_in(person, referent, other_structure, admin_user):
    # The referent also takes persons in for the SSIAD, which does not accompany Jeanne yet.
    services.team_member_add(
        actor=admin_user,
        structure=other_structure,
        professional=referent.professional,
        role=TeamRole.SECRETARY,
    )
    services.person_update(actor=admin_user, person=person, ins_matricule=INS, ins_oid="1.2.250.1.213.1.4.8")
    client = login(referent)
    data = _data(other_structure, birth_name="Autre", birth_first_names="Nom")
    response = client.post(reverse("admission:admit"), data)
    assert response.status_code == 409
    assert "Cette personne est peut-être déjà connue" in _text(response) and "Jeanne MARTIN" in _text(response)
    assert Person.objects.count() == 1
    response = client.post(reverse("admission:admit"), {**data, "link": person.pk})
    assert response.status_code == 302
    assert Person.objects.count() == 1
    assert Accompaniment.objects.filter(person=person, structure=other_structure, ended_on__isnull=True).exists()


def test_it_finds_a_traits_match_ignoring_accents_and_case_and_may_create_another_person(
    structure, referent, admin_user
):
    existing = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="LEFÈVRE",
        birth_first_names="Pierre",
        birth_date="1945-03-02",
        sex="M",
        birth_place_insee="75056",
    )
    client = login(referent)
    data = _data(structure, birth_name="lefevre", ins_matricule="", ins_oid="")
    response = client.post(reverse("admission:admit"), data)
    assert response.status_code == 409 and "Pierre LEFÈVRE" in _text(response)
    response = client.post(reverse("admission:admit"), {**data, "confirm_new": "1"})
    assert response.status_code == 302
    assert Person.objects.filter(birth_name="LEFEVRE").exclude(pk=existing.pk).count() == 1


def test_it_never_names_a_match_outside_the_users_reach_and_sends_it_to_an_administrator(
    structure, referent, other_structure, admin_user
):
    hidden = services.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="LEFÈVRE",
        birth_first_names="Pierrick Jean",
        first_name="Pierrick",
        birth_date="1945-03-02",
        sex="M",
        birth_place_insee="75056",
        ins_matricule=INS,
        ins_oid="1.2.250.1.213.1.4.8",
    )
    client = login(referent)
    for data in (
        _data(structure),  # same INS
        _data(structure, birth_name="LEFEVRE", ins_matricule="", ins_oid=""),  # same traits, accents dropped
    ):
        response = client.post(reverse("admission:admit"), data)
        text = _text(response)
        assert response.status_code == 409
        assert "vous n'y avez pas accès" in text
        assert "Pierrick" not in text and 'name="link"' not in response.content.decode()
        assert "Accueillir cette personne" not in text and "créer une nouvelle personne" not in text
    # Forcing the creation is refused all the same: nothing is created.
    response = client.post(reverse("admission:admit"), {**_data(structure), "confirm_new": "1"})
    assert response.status_code == 409 and Person.objects.count() == 1
    response = client.post(reverse("admission:admit"), {**_data(structure), "review": "1"}, follow=True)
    assert "transmise à un administrateur" in _text(response)
    review = IdentityReview.objects.get()
    assert review.candidate == hidden and review.structure == structure and review.requested_by == referent
    assert Person.objects.count() == 1


def test_it_hides_the_admission_page_from_those_who_do_not_admit(structure, nurse, other_pro, stranger, person):
    for user in (nurse, stranger):
        assert login(user).get(reverse("admission:admit")).status_code == 404
    response = login(other_pro).post(reverse("admission:admit"), _data(structure))
    assert response.status_code == 404 and Person.objects.count() == 1


def test_it_ends_an_accompaniment_from_the_persons_page(person, referent, nurse, structure):
    client = login(referent)
    page = client.get(reverse("coordination:person", args=[person.pk]))
    assert reverse("admission:accompaniments", args=[person.pk]) in page.content.decode()
    accompaniment = Accompaniment.objects.get(person=person, structure=structure)
    url = reverse("admission:accompaniment_end", args=[person.pk, accompaniment.pk])
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()
    response = client.post(url, {f"a{accompaniment.pk}-ended_on": tomorrow, f"a{accompaniment.pk}-kind": "death"})
    assert response.status_code == 400 and "Date de fin : elle ne peut pas être dans le futur." in _text(response)
    accompaniment.refresh_from_db()
    assert accompaniment.ended_on is None
    today = timezone.localdate().isoformat()
    response = client.post(
        url,
        {
            f"a{accompaniment.pk}-ended_on": today,
            f"a{accompaniment.pk}-kind": "transfer",
            f"a{accompaniment.pk}-detail": "MAS du Val",
        },
    )
    assert response.status_code == 302
    accompaniment.refresh_from_db()
    assert accompaniment.ended_on == timezone.localdate()
    assert accompaniment.end_reason == "Transfert vers une autre structure — MAS du Val"
    assert not CircleMember.objects.active().filter(person=person, user=nurse).exists()


def test_it_lets_only_the_structures_admission_staff_end_its_accompaniment(person, nurse, other_pro, structure):
    accompaniment = Accompaniment.objects.get(person=person, structure=structure)
    url = reverse("admission:accompaniment_end", args=[person.pk, accompaniment.pk])
    data = {f"a{accompaniment.pk}-ended_on": timezone.localdate().isoformat(), f"a{accompaniment.pk}-kind": "exit"}
    assert login(nurse).post(url, data).status_code == 404
    assert login(other_pro).post(url, data).status_code == 404
    accompaniment.refresh_from_db()
    assert accompaniment.ended_on is None
