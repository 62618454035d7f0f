"""The user portal pages: whose space, the gate on every page, deciders only change rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination import access, services
from coordination.models import (
    AccessLog,
    AccessVia,
    AuditEvent,
    CarerLink,
    Category,
    CircleMember,
    CircleRole,
    DelegationStatus,
    JoinRequestStatus,
    Level,
)
from liaison import services as liaison_services
from liaison.models import Scope, Transmission
from portal.user_portal.spaces import SESSION_KEY
from tests.conftest import _pro, login
from tests.factories import PASSWORD, PersonFactory, UserFactory

PAGES = ["portal_record", "portal_notebook", "portal_circle", "portal_consents", "portal_access_log"]
NO_RIGHTS = {c: Level.NONE for c in Category.values}


def _member(person, user) -> CircleMember:
    return CircleMember.objects.active().get(person=person, user=user)


def _grant(person, person_user, user, **levels):
    services.grants_set(actor=person_user, member=_member(person, user), levels={**NO_RIGHTS, **levels})


def _in_space(user, person):
    client = login(user)
    session = client.session
    session[SESSION_KEY] = person.pk
    session.save()
    return client


@pytest.fixture
def shared_note(person, nurse):
    return liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Jeanne a bien mangé ce midi.", scope=Scope.SHARED
    )


@pytest.fixture
def internal_note(person, nurse):
    return liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Note interne de l'équipe.", scope=Scope.INTERNAL
    )


# --- Strangers and carers without rights ---------------------------------------------------------


def test_it_refuses_every_page_to_a_stranger_who_forges_the_space(person, stranger):
    client = _in_space(stranger, person)
    for name in ["portal_home", *PAGES]:
        assert client.get(reverse(name)).status_code == 404, name
    assert client.post(reverse("portal_grants_update", args=[_member(person, person.user).pk])).status_code == 404
    assert client.post(reverse("portal_spaces"), {"person": person.pk}).status_code == 404


def test_it_shows_a_stranger_an_empty_space_with_nothing_of_anyone(person, stranger, shared_note):
    response = login(stranger).get(reverse("portal_home"))
    assert response.status_code == 200
    assert "n'est lié à aucune personne" in response.content.decode()
    assert "Jeanne" not in response.content.decode().replace(stranger.get_short_name(), "")


def test_it_shows_a_carer_without_rights_nothing_of_the_record(person, carer, shared_note):
    client = login(carer)
    home = client.get(reverse("portal_home"))
    assert home.status_code == 200
    assert "Espace de" in home.content.decode()
    assert "bien mangé" not in home.content.decode()
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "bien mangé" not in response.content.decode()


def test_it_shows_a_carer_granted_liaison_read_the_shared_notes_only(
    person, person_user, carer, shared_note, internal_note
):
    _grant(person, person_user, carer, liaison=Level.READ)
    client = login(carer)
    page = client.get(reverse("portal_notebook")).content.decode()
    assert "bien mangé" in page
    assert "Note interne" not in page
    assert "Écrire un message" not in page
    assert "bien mangé" in client.get(reverse("portal_home")).content.decode()
    response = client.post(reverse("portal_notebook"), {"category": "observations", "text": "Je passe demain."})
    assert response.status_code == 403
    assert not Transmission.objects.filter(author=carer).exists()


def test_it_lets_a_carer_granted_liaison_write_post_in_the_shared_notebook(person, person_user, carer):
    _grant(person, person_user, carer, liaison=Level.WRITE)
    response = login(carer).post(reverse("portal_notebook"), {"category": "observations", "text": "Je passe demain."})
    assert response.status_code == 302
    transmission = Transmission.objects.get(author=carer)
    assert transmission.scope == Scope.SHARED and transmission.text == "Je passe demain."


def test_it_tells_which_field_is_missing_in_an_observation(person, person_user, carer):
    _grant(person, person_user, carer, liaison=Level.WRITE)
    response = login(carer).post(reverse("portal_notebook"), {"category": "observations", "text": ""})
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in response.content.decode()
    assert not Transmission.objects.exists()


# --- Whose space ------------------------------------------------------------------------------


@pytest.fixture
def second_person(carer, admin_user, structure):
    other = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DURAND",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1940-01-01",
        sex="M",
        birth_place_insee="75056",
    )
    services.carer_link_create(actor=admin_user, person=other, user=carer, relationship="tuteur")
    return other


def test_it_lets_a_carer_of_two_persons_pick_whose_space_and_always_says_it(person, carer, second_person):
    client = login(carer)
    assert client.get(reverse("portal_home")).url == reverse("portal_spaces")
    client.post(reverse("portal_spaces"), {"person": second_person.pk})
    home = client.get(reverse("portal_home")).content.decode()
    assert f"Espace de {second_person.display_name}" in home
    assert f"Espace de {person.display_name}" not in home
    # As Paul's guardian, the carer sees his record but not Jeanne's (no right granted there).
    assert client.get(reverse("portal_record")).status_code == 200
    client.post(reverse("portal_spaces"), {"person": person.pk})
    assert f"Espace de {person.display_name}" in client.get(reverse("portal_home")).content.decode()
    assert client.get(reverse("portal_record")).status_code == 403


def test_it_refuses_to_switch_to_a_person_the_carer_is_not_linked_to(person, carer, admin_user):
    unknown = PersonFactory()
    client = login(carer)
    assert client.post(reverse("portal_spaces"), {"person": unknown.pk}).status_code == 404
    assert client.session.get(SESSION_KEY) != unknown.pk


def test_a_link_to_a_persons_page_opens_it_in_that_persons_space(person, carer, second_person):
    client = login(carer)
    response = client.get(reverse("portal_space_open", args=[second_person.pk, "accueil"]))
    assert response.status_code == 302 and response.url == reverse("portal_home")
    assert f"Espace de {second_person.display_name}" in client.get(reverse("portal_home")).content.decode()
    response = client.get(reverse("portal_space_open", args=[person.pk, "documents"]))
    assert response.url == reverse("portal_documents")
    assert client.session[SESSION_KEY] == person.pk


def test_a_space_link_is_404_for_a_stranger_or_an_unknown_page(person, carer, stranger):
    assert login(stranger).get(reverse("portal_space_open", args=[person.pk, "documents"])).status_code == 404
    client = login(carer)
    assert client.get(reverse("portal_space_open", args=[person.pk, "admin"])).status_code == 404
    assert client.session.get(SESSION_KEY) != person.pk


def test_it_closes_the_space_when_the_carer_link_ends(person, person_user, carer):
    _grant(person, person_user, carer, record=Level.READ)
    client = login(carer)
    assert client.get(reverse("portal_record")).status_code == 200
    services.carer_link_end(actor=person_user, link=CarerLink.objects.get(user=carer))
    assert client.get(reverse("portal_record")).status_code == 404


# --- Circle and rights -----------------------------------------------------------------------


def test_it_lets_the_person_change_a_right_in_plain_words(person, person_user, carer):
    member = _member(person, carer)
    client = login(person_user)
    page = client.get(reverse("portal_circle")).content.decode()
    assert "Voir et écrire" in page and "Le cahier de liaison" in page
    data = {f"m{member.pk}-{c}": str(Level.NONE) for c in Category.values}
    data[f"m{member.pk}-agenda"] = str(Level.READ)
    response = client.post(reverse("portal_grants_update", args=[member.pk]), data)
    assert response.status_code == 302
    assert access.check(carer, person, Category.AGENDA, "read") is not None
    assert access.check(carer, person, Category.AGENDA, "write") is None
    event = AuditEvent.objects.filter(event_type=AuditEvent.Type.GRANT_CHANGED).latest("pk")
    assert event.actor == person_user and event.acting_as == AccessVia.SELF


def test_it_records_a_legal_representative_acting_as_such(person, legal_rep, carer):
    member = _member(person, carer)
    client = login(legal_rep)
    data = {f"m{member.pk}-{c}": str(Level.NONE) for c in Category.values}
    data[f"m{member.pk}-liaison"] = str(Level.WRITE)
    assert client.post(reverse("portal_grants_update", args=[member.pk]), data).status_code == 302
    event = AuditEvent.objects.filter(event_type=AuditEvent.Type.GRANT_CHANGED).latest("pk")
    assert event.actor == legal_rep and event.acting_as == AccessVia.REPRESENTATIVE
    client.post(reverse("portal_consents"), {"kind": "dmp_feeding", "decision": "refused"})
    consent_event = AuditEvent.objects.filter(event_type=AuditEvent.Type.CONSENT_RECORDED).latest("pk")
    assert consent_event.acting_as == AccessVia.REPRESENTATIVE
    log = AccessLog.objects.filter(user=legal_rep, category=Category.CIRCLE).latest("pk")
    assert log.via == AccessVia.REPRESENTATIVE


def test_it_shows_an_aidant_the_rights_but_never_lets_them_edit(person, person_user, carer, nurse):
    _grant(person, person_user, carer, circle=Level.READ)
    client = login(carer)
    page = client.get(reverse("portal_circle")).content.decode()
    assert "Peut voir" in page
    assert "Enregistrer les droits" not in page
    member = _member(person, nurse)
    data = {f"m{member.pk}-{c}": str(Level.NONE) for c in Category.values}
    assert client.post(reverse("portal_grants_update", args=[member.pk]), data).status_code == 403
    # Even with circle write granted, an aidant is not a decider.
    _grant(person, person_user, carer, circle=Level.WRITE)
    assert client.post(reverse("portal_grants_update", args=[member.pk]), data).status_code == 403
    assert access.check(nurse, person, Category.LIAISON, "read") is not None


def test_it_lets_the_person_answer_a_join_request(person, person_user, other_pro):
    join_request = services.join_request_create(
        actor=other_pro, person=person, role=CircleRole.NURSE, message="Je fais les soins du soir."
    )
    client = login(person_user)
    assert "demande à entrer" in client.get(reverse("portal_home")).content.decode()
    client.post(reverse("portal_join_request_answer", args=[join_request.pk]), {"accept": "1"})
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.ACCEPTED
    assert CircleMember.objects.active().filter(person=person, user=other_pro).exists()


def test_it_lets_the_person_revoke_a_carer_and_oppose_a_professional(person, person_user, carer, external_pro):
    client = login(person_user)
    client.post(reverse("portal_member_end", args=[_member(person, carer).pk]), {"how": "end"})
    assert CarerLink.objects.get(user=carer).ended_on is not None
    client.post(reverse("portal_member_end", args=[_member(person, external_pro).pk]), {"how": "oppose"})
    assert not CircleMember.objects.active().filter(person=person, user=external_pro).exists()
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.MEMBER_OPPOSED).exists()


# --- Consents --------------------------------------------------------------------------------


def test_it_keeps_the_history_of_consents_and_shows_the_latest(person, person_user, carer):
    client = login(person_user)
    client.post(reverse("portal_consents"), {"kind": "dmp_feeding", "decision": "refused"})
    client.post(reverse("portal_consents"), {"kind": "dmp_feeding", "decision": "granted"})
    client.post(
        reverse("portal_consents"), {"kind": "partner_sharing", "partner": "education_nationale", "decision": "granted"}
    )
    assert person.consents.count() == 3
    page = client.get(reverse("portal_consents")).content.decode()
    assert page.count("Alimentation du DMP") >= 3  # current + two history rows
    assert "Éducation nationale" in page
    assert services.dmp_feeding_allowed(person)
    response = client.post(reverse("portal_consents"), {"kind": "partner_sharing", "decision": "granted"})
    assert response.status_code == 400 and "Choisissez le partenaire" in response.content.decode()
    _grant(person, person_user, carer, record=Level.READ)
    assert (
        login(carer).post(reverse("portal_consents"), {"kind": "dmp_feeding", "decision": "refused"}).status_code == 403
    )
    assert person.consents.count() == 3


# --- Who accessed my data --------------------------------------------------------------------


def test_it_tells_in_plain_words_who_accessed_the_data_with_break_the_glass(
    person, person_user, nurse, structure, admin_user
):
    access.require(nurse, person, Category.LIAISON, "read")
    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=night, role="infirmier")
    _grant(person, person_user, night.user)
    services.break_glass_open(actor=night.user, person=person, reason="Chute dans la nuit, besoin des traitements.")
    access.require(night.user, person, Category.RECORD, "read")
    client = login(person_user)
    client.get(reverse("portal_access_log"))
    page = client.get(reverse("portal_access_log"), {"qui": "tous"}).content.decode()
    name = nurse.get_full_name()
    assert f"{name}, infirmier·ère ({structure.name}), a consulté votre cahier de liaison, à" in page
    # Her own earlier reading of the log is in it (not the reading that shows the page).
    assert page.count("Vous avez consulté l&#x27;historique des accès à vos données") == 1
    assert "Accès en urgence" in page and "en urgence (bris de glace)" in page
    assert "Chute dans la nuit, besoin des traitements." in page
    assert "access-log__glass" in page


def test_it_reads_the_access_log_in_a_bounded_number_of_queries(
    person, person_user, nurse, referent, django_assert_max_num_queries
):
    client = login(person_user)
    access.require(nurse, person, Category.LIAISON, "read")
    client.get(reverse("portal_access_log"))
    with django_assert_max_num_queries(25) as small:
        client.get(reverse("portal_access_log"))
    for day in range(1, 40):
        access.require(nurse, person, Category.LIAISON, "read")
        access.require(referent, person, Category.RECORD, "read")
        AccessLog.objects.filter(at__gt=timezone.now() - timedelta(minutes=1)).update(
            at=timezone.now() - timedelta(days=day)
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("portal_access_log"))
    assert "Jours précédents" in response.content.decode()


def test_it_lets_the_guardian_accept_a_delegation(person, legal_rep, referent, nurse):
    now = timezone.now()
    delegation = services.delegation_create(
        actor=referent,
        person=person,
        delegate=nurse.professional,
        levels={"agenda": Level.READ},
        starts_at=now,
        ends_at=now + timedelta(days=3),
        reason="Congés",
    )
    client = login(legal_rep)
    assert "Accepter la délégation" in client.get(reverse("portal_circle")).content.decode()
    client.post(reverse("portal_delegation_answer", args=[delegation.pk]), {"accept": "1"})
    delegation.refresh_from_db()
    assert delegation.status == DelegationStatus.ACTIVE
    event = AuditEvent.objects.get(event_type=AuditEvent.Type.DELEGATION_ACCEPTED)
    assert event.actor == legal_rep and event.acting_as == AccessVia.REPRESENTATIVE


def test_it_does_not_ask_persons_for_a_second_factor(person, person_user, client):
    assert client.login(email=person_user.email, password=PASSWORD)
    assert client.get(reverse("portal_home")).status_code == 200


@pytest.mark.parametrize("name", ["portal_home", "portal_notebook", "portal_circle", "portal_record"])
def test_it_reads_portal_pages_in_a_bounded_number_of_queries(
    name, person, person_user, nurse, admin_user, django_assert_max_num_queries
):
    client = login(person_user)
    liaison_services.transmission_create(actor=nurse, person=person, category="observations", text="Un.")
    client.get(reverse(name))
    with django_assert_max_num_queries(60) as small:
        client.get(reverse(name))
    for index in range(15):
        liaison_services.transmission_create(actor=nurse, person=person, category="observations", text=f"N{index}")
        user = UserFactory()
        services.carer_link_create(actor=admin_user, person=person, user=user, relationship="famille")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse(name))


def test_it_reads_the_consents_in_a_bounded_number_of_queries(
    person, person_user, referent, django_assert_max_num_queries
):
    from coordination.models import CollectionMethod, ConsentDecision, ConsentKind

    client = login(person_user)
    client.get(reverse("portal_consents"))
    with django_assert_max_num_queries(60) as small:
        assert client.get(reverse("portal_consents")).status_code == 200
    baseline = len(small.captured_queries)
    for index in range(15):
        services.consent_record(
            actor=referent,
            person=person,
            kind=ConsentKind.DMP_FEEDING,
            decision=ConsentDecision.REFUSED if index % 2 else ConsentDecision.GRANTED,
            collected_via=CollectionMethod.ORAL,
        )
    client.get(reverse("portal_consents"))
    with django_assert_max_num_queries(baseline):
        assert client.get(reverse("portal_consents")).status_code == 200


def test_the_home_logs_each_tile_it_reads_and_nothing_it_may_not(person, person_user, carer, shared_note):
    """The home asks the gate for its tiles at once (one query, one INSERT): the access
    log still holds one read per category shown, and none for a category refused."""
    _grant(person, person_user, carer, liaison=Level.READ, ppa=Level.READ)
    client = login(carer)
    before = AccessLog.objects.count()
    page = client.get(reverse("portal_home")).content.decode()
    assert "bien mangé" in page
    rows = AccessLog.objects.order_by("pk")[before:]
    assert sorted(r.category for r in rows) == sorted([Category.LIAISON, Category.PPA])
    assert {(r.user_id, r.person_id, r.action, r.path) for r in rows} == {
        (carer.pk, person.pk, "read", reverse("portal_home"))
    }
    assert len({r.request_id for r in rows}) == 1
