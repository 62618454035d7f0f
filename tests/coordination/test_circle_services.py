"""Circle services: history kept, carers, identity corrections, accompaniment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from coordination import access, services
from coordination.models import AuditEvent, CarerLink, CircleMember, EndReason, Level

pytestmark = pytest.mark.django_db


def test_it_makes_a_new_membership_when_someone_reenters_the_circle(person, person_user, external_pro):
    first = CircleMember.objects.active().get(person=person, user=external_pro)
    services.circle_member_end(actor=person_user, member=first, reason=EndReason.END_OF_CARE)
    services.circle_member_add(
        actor=person_user, person=person, role="reeducation", professional=external_pro.professional
    )
    rows = CircleMember.objects.filter(person=person, user=external_pro).order_by("started_at")
    assert rows.count() == 2
    assert rows[0].ended_at is not None and rows[1].ended_at is None


def test_it_gives_an_added_external_member_no_right_until_granted(person, external_pro):
    assert set(access.effective_levels(external_pro, person).values()) == {Level.NONE}


def test_it_ends_the_carer_link_with_an_audit_row_when_the_person_opposes_a_carer(person, person_user, carer):
    member = CircleMember.objects.active().get(person=person, user=carer)
    services.circle_member_end(actor=person_user, member=member, reason=EndReason.OPPOSITION)
    assert CarerLink.objects.get(user=carer, person=person).ended_on is not None
    event = AuditEvent.objects.get(event_type="carer_unlinked")
    assert event.actor == person_user and event.data["reason"] == "opposition"
    assert access.check(carer, person, "record") is None


def test_it_lets_the_person_revoke_a_carer(person, person_user, carer):
    link = CarerLink.objects.get(user=carer, person=person)
    services.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"agenda": Level.READ}
    )
    assert access.check(carer, person, "agenda") is not None
    services.carer_link_end(actor=person_user, link=link)
    assert access.check(carer, person, "agenda") is None


def test_it_refuses_a_carer_revoking_another_carer(person, carer, legal_rep):
    link = CarerLink.objects.get(user=legal_rep, person=person)
    with pytest.raises(access.AccessDenied):
        services.carer_link_end(actor=carer, link=link)


def test_it_keeps_the_previous_identity_in_the_audit_when_correcting_it(person, referent):
    services.person_update(actor=referent, person=person, used_name="DUPONT")
    person.refresh_from_db()
    assert person.used_name == "DUPONT"
    event = AuditEvent.objects.get(event_type="person_updated")
    assert event.data["changes"] == {"used_name": ["", "DUPONT"]}


def test_it_refuses_an_identity_correction_without_record_write(person, nurse):
    with pytest.raises(access.AccessDenied):
        services.person_update(actor=nurse, person=person, used_name="DUPONT")


def test_it_refuses_an_invalid_identity_correction_and_changes_nothing(person, referent):
    with pytest.raises(ValidationError) as error:
        services.person_update(actor=referent, person=person, ins_matricule="123")
    assert "ins_matricule" in error.value.message_dict
    person.refresh_from_db()
    assert person.ins_matricule == ""


def test_it_takes_the_team_out_of_the_circle_when_the_structure_stops_accompanying(
    person, nurse, admin_user, structure
):
    accompaniment = person.accompaniments.get(structure=structure)
    services.accompaniment_end(actor=admin_user, accompaniment=accompaniment, reason="Déménagement")
    assert access.check(nurse, person, "record") is None
    assert not CircleMember.objects.active().filter(person=person, structure=structure).exists()


def test_it_adds_a_team_member_to_every_accompanied_persons_circle_in_constant_queries(
    structure, admin_user, django_assert_max_num_queries
):
    from coordination.models import Person, TeamRole
    from tests.conftest import _pro
    from tests.factories import PersonFactory

    for _ in range(30):
        services.accompaniment_start(actor=admin_user, person=PersonFactory(), structure=structure)
    newcomer = _pro("nouvelle@exemple.fr", "educateur", "Nina", "Nouvelle")
    with django_assert_max_num_queries(20):
        services.team_member_add(actor=admin_user, structure=structure, professional=newcomer, role=TeamRole.EDUCATOR)
    visible = access.persons_visible_to(newcomer.user, "ppa", "write")
    assert visible.count() == Person.objects.count() == 30
    membership = newcomer.team_memberships.get()
    with django_assert_max_num_queries(20):
        services.team_member_end(actor=admin_user, membership=membership)
    assert not access.persons_visible_to(newcomer.user, "record").exists()
