from __future__ import annotations

import html

import pytest
from django.contrib import admin
from django.urls import reverse

from coordination import access, matrix, rules
from coordination.models import (
    AccessLog,
    Accompaniment,
    CarerLink,
    Category,
    CircleMember,
    MemberKind,
    MemberOrigin,
    Person,
    TeamMembership,
)
from tests.conftest import login
from tests.factories import ProfessionalFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_it_lists_every_registered_model(admin_user, person, carer, legal_rep, external_pro):
    client = login(admin_user)
    assert client.get("/admin/").status_code == 200
    for model in admin.site._registry:
        response = client.get(_url(model, "changelist"))
        assert response.status_code == 200, model


def test_it_shows_change_pages_of_service_rows(admin_user, person, carer):
    client = login(admin_user)
    for obj in (
        person,
        person.accompaniments.get(),
        CarerLink.objects.get(user=carer),
        TeamMembership.objects.first(),
        CircleMember.objects.filter(person=person).first(),
    ):
        response = client.get(_url(type(obj), "change", obj.pk))
        assert response.status_code == 200, obj
    assert client.get(_url(type(admin_user), "change", admin_user.pk)).status_code == 200
    for model in (type(admin_user), Person, TeamMembership, Accompaniment, CarerLink):
        assert client.get(_url(model, "add")).status_code == 200, model


def test_it_adds_a_team_member_through_the_service(admin_user, person, other_structure):
    professional = ProfessionalFactory(profession="psychologue")
    activate_totp(professional.user)
    structure = person.accompaniments.get().structure
    assert access.check(professional.user, person, Category.RECORD) is None

    response = login(admin_user).post(
        _url(TeamMembership, "add"),
        {
            "structure": structure.pk,
            "professional": professional.pk,
            "role": "psychologue",
            "started_on": "2026-01-05",
        },
    )

    assert response.status_code == 302, response.content.decode()
    membership = TeamMembership.objects.get(professional=professional)
    assert membership.structure == structure
    member = CircleMember.objects.get(person=person, user=professional.user)
    assert (member.kind, member.origin, member.structure) == (MemberKind.PROFESSIONAL, MemberOrigin.TEAM, structure)
    assert matrix.levels_of(person, professional.user_id) == matrix.levels_dict(matrix.TEAM_DEFAULTS["psychologue"])
    assert access.check(professional.user, person, Category.RECORD) is not None
    assert access.check(professional.user, person, Category.LIAISON, "write") is not None


def test_it_ends_a_team_membership_through_the_service(admin_user, person, nurse):
    membership = TeamMembership.objects.get(professional__user=nurse)
    assert access.check(nurse, person, Category.RECORD) is not None
    response = login(admin_user).post(
        _url(TeamMembership, "change", membership.pk), {"ended_on": membership.started_on.isoformat()}
    )
    assert response.status_code == 302, response.content.decode()
    assert not CircleMember.objects.active().filter(person=person, user=nurse).exists()
    assert access.check(nurse, person, Category.RECORD) is None


def test_it_shows_a_service_refusal_on_the_form(admin_user, person, nurse):
    membership = TeamMembership.objects.get(professional__user=nurse)
    response = login(admin_user).post(
        _url(TeamMembership, "add"),
        {
            "structure": membership.structure_id,
            "professional": membership.professional_id,
            "role": "infirmier",
            "started_on": "2026-01-05",
        },
    )
    assert response.status_code == 200
    assert "Ce professionnel fait déjà partie de l'équipe." in html.unescape(response.content.decode())
    assert TeamMembership.objects.filter(professional=membership.professional).count() == 1


def test_it_starts_an_accompaniment_through_the_service(admin_user, person, other_pro, other_structure):
    assert access.check(other_pro, person, Category.RECORD) is None
    response = login(admin_user).post(
        _url(Accompaniment, "add"),
        {
            "person": person.pk,
            "structure": other_structure.pk,
            "started_on": "2026-01-05",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert (
        CircleMember.objects.active()
        .filter(person=person, structure=other_structure, kind=MemberKind.STRUCTURE)
        .exists()
    )
    assert access.check(other_pro, person, Category.RECORD) is not None


def test_it_links_a_legal_representative_through_the_service(admin_user, person):
    user = UserFactory(email="curatrice@exemple.fr")
    response = login(admin_user).post(
        _url(CarerLink, "add"),
        {
            "person": person.pk,
            "user": user.pk,
            "relationship": "curateur",
            "started_on": "2026-01-05",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert CarerLink.objects.get(user=user).is_legal_representative
    assert rules.is_decider(user, person)
    assert access.check(user, person, Category.CIRCLE, "write") is not None


def test_it_creates_a_person_through_the_service(admin_user, structure, referent):
    response = login(admin_user).post(
        _url(Person, "add"),
        {
            "birth_name": "DUPONT",
            "birth_first_names": "Paul Louis",
            "first_name": "Paul",
            "birth_date": "1950-02-03",
            "sex": "M",
            "birth_place_insee": "75056",
            "identity_status": "PROV",
            "structure": structure.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()
    person = Person.objects.get(birth_name="DUPONT")
    assert person.audit_events.filter(event_type="person_created").exists()
    assert access.check(referent, person, Category.RECORD, "write") is not None


def test_it_refuses_to_add_or_change_logs(admin_user, person, nurse):
    access.require(nurse, person, Category.RECORD)
    client = login(admin_user)
    assert client.get(_url(AccessLog, "add")).status_code == 403
    log = AccessLog.objects.get()
    assert client.post(_url(AccessLog, "change", log.pk), {"category": "agenda"}).status_code == 403
    assert client.post(_url(AccessLog, "delete", log.pk), {"post": "yes"}).status_code == 403
    member = CircleMember.objects.filter(person=person).first()
    assert client.get(_url(CircleMember, "add")).status_code == 403
    assert client.post(_url(CircleMember, "delete", member.pk), {"post": "yes"}).status_code == 403


def test_it_creates_a_user_with_an_email_login(admin_user):
    from portal.models import User

    response = login(admin_user).post(
        _url(User, "add"),
        {
            "email": "Nouvelle@Exemple.fr",
            "first_name": "Nina",
            "last_name": "Nouvelle",
            "usable_password": "true",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="nouvelle@exemple.fr")
    assert user.check_password("Un-mot-de-passe-solide-2026")


def test_it_refuses_an_end_in_the_future(admin_user, person, nurse):
    import datetime

    accompaniment = person.accompaniments.get()
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    response = login(admin_user).post(
        _url(Accompaniment, "change", accompaniment.pk), {"ended_on": tomorrow, "end_reason": "Déménagement"}
    )
    assert response.status_code == 200
    assert "La fin prend effet immédiatement" in html.unescape(response.content.decode())
    accompaniment.refresh_from_db()
    assert accompaniment.ended_on is None
    assert access.check(nurse, person, Category.RECORD) is not None


def test_it_ends_a_carer_link_through_the_service(admin_user, person, carer):
    from django.utils import timezone

    link = CarerLink.objects.get(user=carer)
    response = login(admin_user).post(
        _url(CarerLink, "change", link.pk), {"ended_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302, response.content.decode()
    assert not CircleMember.objects.active().filter(person=person, user=carer).exists()
    assert person.audit_events.filter(event_type="carer_unlinked").exists()
