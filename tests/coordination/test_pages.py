"""Professionals' pages of the circle: caseload, overview, circle, join request, access log."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from coordination import access, services
from coordination.models import AccessLog, CircleMember, JoinRequest, Person
from tests.conftest import login
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """What a reader sees: tags removed, entities decoded, blanks folded."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _accompany(structure, admin_user, count: int) -> None:
    for _ in range(count):
        person = PersonFactory()
        services.accompaniment_start(actor=admin_user, person=person, structure=structure)


def test_it_lists_my_caseload_with_search_and_logs_the_reads(person, nurse, structure, admin_user):
    other = services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DURAND",
        birth_first_names="Paul",
        birth_date="1941-05-06",
        sex="M",
    )
    client = login(nurse)
    response = client.get(reverse("coordination:caseload"))
    assert response.status_code == 200
    assert "Jeanne MARTIN" in _text(response) and "Paul DURAND" in _text(response)
    assert set(AccessLog.objects.filter(user=nurse).values_list("person", flat=True)) == {person.pk, other.pk}
    response = client.get(reverse("coordination:caseload"), {"q": "durand"})
    assert "Paul DURAND" in _text(response) and "Jeanne MARTIN" not in _text(response)


def test_it_shows_no_one_to_a_professional_of_another_structure(person, other_pro):
    response = login(other_pro).get(reverse("coordination:caseload"))
    assert "Jeanne MARTIN" not in _text(response)
    assert "0 personne" in _text(response)


def test_it_keeps_the_caseload_query_count_flat_from_1_to_200_persons(
    person, nurse, structure, admin_user, django_assert_max_num_queries
):
    client = login(nurse)
    client.get(reverse("coordination:caseload"))  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("coordination:caseload")).status_code == 200
    baseline = len(one.captured_queries)  # read now: the next request resets the query log
    _accompany(structure, admin_user, 199)
    assert Person.objects.count() == 200
    # Creating 199 persons may take over a minute on a busy machine: the session's
    # last-seen time (written at most once a minute) is refreshed before measuring.
    client.get(reverse("coordination:caseload"))
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("coordination:caseload"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 200


def test_it_shows_the_overview_with_identity_circle_and_my_rights(person, nurse, carer):
    response = login(nurse).get(reverse("coordination:person", args=[person.pk]))
    text = _text(response)
    assert response.status_code == 200
    assert "MARTIN" in text and "EHPAD Les Tilleuls" in text
    assert "Claire Martin" in text  # the carer, in the circle
    assert "Cahier de liaison : écriture" in text


def test_it_shows_the_ins_only_when_the_identity_is_qualified(person, nurse):
    from tests.factories import valid_ins

    person.ins_matricule = valid_ins(7)
    person.ins_oid = "1.2.250.1.213.1.4.8"
    person.identity_status = "VALI"
    person.save()
    client = login(nurse)
    assert person.ins_matricule not in _text(client.get(reverse("coordination:person", args=[person.pk])))
    person.identity_status = "QUAL"
    person.save()
    assert person.ins_matricule in _text(client.get(reverse("coordination:person", args=[person.pk])))


def test_it_answers_404_for_the_overview_of_a_person_outside_my_circle(person, other_pro):
    assert login(other_pro).get(reverse("coordination:person", args=[person.pk])).status_code == 404
    assert login(other_pro).get(reverse("coordination:person", args=[999999])).status_code == 404


def test_it_shows_the_circle_with_the_matrix_and_lets_the_referent_end_a_membership(person, referent, nurse):
    client = login(referent)
    response = client.get(reverse("coordination:circle", args=[person.pk]))
    assert response.status_code == 200
    assert "Inès Infirmière" in _text(response)
    member = CircleMember.objects.active().get(person=person, user=nurse)
    response = client.post(reverse("coordination:member_end", args=[person.pk, member.pk]), {"reason": "end_of_care"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.ended_at is not None and member.end_reason == "end_of_care"
    response = client.get(reverse("coordination:circle", args=[person.pk]))
    assert "Anciens membres" in _text(response)


def test_it_does_not_let_a_member_with_circle_read_end_a_membership(person, nurse, referent):
    member = CircleMember.objects.active().get(person=person, user=referent)
    response = login(nurse).post(
        reverse("coordination:member_end", args=[person.pk, member.pk]), {"reason": "end_of_care"}
    )
    assert response.status_code == 403
    assert CircleMember.objects.get(pk=member.pk).is_active


def test_it_sends_a_join_request_without_disclosing_whether_the_person_exists(person, other_pro):
    client = login(other_pro)
    data = {
        "birth_name": "Martin",
        "first_name": "Jeanne",
        "birth_date": "1938-04-12",
        "role": "soignant",
        "message": "J'interviens à domicile le week-end.",
    }
    found = client.post(reverse("coordination:join_request"), data, follow=True)
    missing = client.post(reverse("coordination:join_request"), {**data, "birth_date": "1938-04-13"}, follow=True)
    assert "transmise si la personne est connue" in _text(found)
    assert "transmise si la personne est connue" in _text(missing)
    assert JoinRequest.objects.filter(person=person, professional__user=other_pro, status="pending").count() == 1


def test_it_names_the_field_when_the_join_request_form_is_wrong(other_pro):
    response = login(other_pro).post(
        reverse("coordination:join_request"),
        {"ins_matricule": "269029934173286", "role": "soignant", "message": "Suivi"},
    )
    assert response.status_code == 400
    assert "Matricule INS invalide : la clé de contrôle ne correspond pas." in _text(response)
    assert not JoinRequest.objects.exists()


def test_it_shows_the_structures_access_log_to_its_administrators_only(person, referent, nurse, other_pro, structure):
    login(nurse).get(reverse("coordination:person", args=[person.pk]))
    response = login(referent).get(reverse("coordination:structure_access_log", args=[structure.pk]))
    assert response.status_code == 200
    assert "Inès Infirmière" in _text(response)
    assert login(nurse).get(reverse("coordination:structure_access_log", args=[structure.pk])).status_code == 404
    assert login(other_pro).get(reverse("coordination:structure_access_log", args=[structure.pk])).status_code == 404


def test_it_keeps_coordination_pages_for_professionals(person, person_user, carer):
    assert login(person_user).get(reverse("coordination:caseload")).status_code == 404
    assert login(carer).get(reverse("coordination:person", args=[person.pk])).status_code == 404


def test_it_lets_the_referent_propose_a_colleague_whom_the_person_then_accepts(
    person, referent, person_user, other_pro
):
    response = login(referent).post(
        reverse("coordination:invite", args=[person.pk]),
        {
            "professional": other_pro.professional.pk,
            "role": "soignant",
            "message": "Elle passe le week-end.",
        },
    )
    assert response.status_code == 302
    join_request = JoinRequest.objects.get(person=person, professional__user=other_pro)
    assert join_request.invited_by == referent and join_request.status == "pending"
    services.join_request_answer(actor=person_user, join_request=join_request, accept=True)
    assert CircleMember.objects.active().filter(person=person, user=other_pro).exists()


def test_it_refuses_the_invitation_page_without_circle_write(person, nurse):
    assert login(nurse).get(reverse("coordination:invite", args=[person.pk])).status_code == 403


def test_it_records_a_consent_collected_orally_and_keeps_the_history(person, referent, nurse):
    client = login(referent)
    url = reverse("coordination:consents", args=[person.pk])
    assert "autorisée" in _text(client.get(url))  # opt-out: allowed unless opposed
    response = client.post(
        url, {"kind": "dmp_feeding", "decision": "refused", "collected_via": "oral", "note": "Ne souhaite pas."}
    )
    assert response.status_code == 302
    client.post(
        url,
        {
            "kind": "partner_sharing",
            "partner": "education_nationale",
            "decision": "granted",
            "collected_via": "written",
        },
    )
    text = _text(client.get(url))
    assert "refusée (opposition)" in text and "Éducation nationale" in text
    assert person.consents.count() == 2
    nurse_page = login(nurse).get(url)
    assert nurse_page.status_code == 200 and "Enregistrer une décision" not in _text(nurse_page)
    assert (
        login(nurse).post(url, {"kind": "dmp_feeding", "decision": "granted", "collected_via": "oral"}).status_code
        == 403
    )


def test_it_names_the_missing_partner_when_recording_a_partner_consent(person, referent):
    response = login(referent).post(
        reverse("coordination:consents", args=[person.pk]),
        {"kind": "partner_sharing", "decision": "granted", "collected_via": "oral"},
    )
    assert response.status_code == 400
    assert "Choisissez le partenaire concerné." in _text(response)
    assert not person.consents.exists()


def test_it_links_the_portal_invitation_from_the_overview_for_circle_writers_only(person, referent, nurse):
    invite = reverse("portal_invitation_create", args=[person.pk])
    assert access.check(referent, person, "circle", "write") is not None
    assert invite in login(referent).get(reverse("coordination:person", args=[person.pk])).content.decode()
    assert access.check(nurse, person, "circle", "write") is None
    assert invite not in login(nurse).get(reverse("coordination:person", args=[person.pk])).content.decode()


def test_it_lists_portal_invitations_read_only_in_the_admin(admin_user, person, referent):
    from portal.invitations import invitation_create

    invitation_create(actor=referent, person=person, email="proche@example.org", relationship="aidant")
    client = login(admin_user)
    page = client.get(reverse("admin:portal_portalinvitation_changelist"))
    assert page.status_code == 200 and "proche@example.org" in page.content.decode()
    assert client.get(reverse("admin:portal_portalinvitation_add")).status_code == 403
