"""My projet personnalisé in the user portal: read in plain words, expectations, comments, signature."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.urls import reverse

from coordination import services as circle_services
from coordination.models import AccessVia, AuditEvent, Category, CircleMember, Level
from portal.user_portal.spaces import SESSION_KEY
from ppa import services
from ppa.audit_types import PlanAudit
from ppa.models import Contribution, PlanVersion, SignOff, SignOffRole, VersionStatus
from reference.models import SerafinCode
from tests.conftest import login

NO_RIGHTS = {c: Level.NONE for c in Category.values}


def _grant(person, person_user, user, **levels):
    member = CircleMember.objects.active().get(person=person, user=user)
    circle_services.grants_set(actor=person_user, member=member, levels={**NO_RIGHTS, **levels})


@pytest.fixture
def draft(person, referent, nurse, serafin_codes):
    plan = services.plan_create(actor=referent, person=person)
    version = plan.versions.get()
    code = SerafinCode.objects.get(kind="need", code="1.1.1")
    need = services.need_add(actor=referent, version=version, serafin=code, description="Troubles de mémoire")
    objective = services.objective_add(
        actor=referent,
        version=version,
        title="Garder ses repères",
        needs=[need],
        indicator="Se repère seule dans la résidence",
        target_on=date(2027, 6, 1),
    )
    services.action_add(
        actor=referent,
        version=version,
        title="Atelier mémoire",
        objectives=[objective],
        professional=nurse.professional,
        weekdays="MO,TH",
        starts_at_time=time(10, 0),
        duration_minutes=60,
        starts_on=date(2026, 1, 5),
    )
    return version


@pytest.fixture
def submitted(draft, referent):
    return services.plan_submit(actor=referent, version=draft)


@pytest.fixture
def validated(submitted, referent, person_user):
    services.plan_sign(actor=person_user, version=submitted, role=SignOffRole.PERSON)
    services.plan_sign(actor=referent, version=submitted, role=SignOffRole.REFERENT)
    submitted.refresh_from_db()
    return submitted


def test_it_refuses_the_plan_to_a_stranger(person, stranger, draft):
    client = login(stranger)
    session = client.session
    session[SESSION_KEY] = person.pk
    session.save()
    assert client.get(reverse("portal_ppa")).status_code == 404
    assert client.post(reverse("portal_ppa_expectations", args=[draft.pk]), {"attentes-wishes": "x"}).status_code == 404
    assert client.post(reverse("portal_ppa_sign", args=[draft.pk])).status_code == 404


def test_it_shows_a_carer_without_the_right_nothing_of_the_plan(person, carer, validated):
    client = login(carer)
    response = client.get(reverse("portal_ppa"))
    assert response.status_code == 403
    assert "Garder ses repères" not in response.content.decode()
    home = client.get(reverse("portal_home")).content.decode()
    assert "Voir le projet" not in home and "Le projet est validé" not in home


def test_it_reads_the_validated_version_in_plain_words_with_the_next_review(person, person_user, validated):
    page = login(person_user).get(reverse("portal_ppa")).content.decode()
    assert "Le projet validé (version 1)" in page
    assert "Troubles de mémoire" in page and "Garder ses repères" in page and "Non commencé" in page
    assert "Atelier mémoire" in page and "Quand : lundi, jeudi, chaque semaine, à 10:00" in page
    assert "Qui : Inès Infirmière" in page
    assert "Il sera revu avant le" in page
    assert "Écrire mes attentes" not in page
    home = login(person_user).get(reverse("portal_home")).content.decode()
    assert "Le projet est validé (version 1)" in home and "Il sera revu avant le" in home


def test_it_lets_the_person_add_expectations_and_a_comment_on_a_draft(person, person_user, draft):
    client = login(person_user)
    page = client.get(reverse("portal_ppa")).content.decode()
    assert "Écrire mes attentes" in page
    response = client.post(
        reverse("portal_ppa_expectations", args=[draft.pk]),
        {"attentes-wishes": "Aller au marché le samedi", "attentes-tastes": "Le jazz"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.wishes == "Aller au marché le samedi" and draft.tastes == "Le jazz"
    contribution = Contribution.objects.get(version=draft, author=person_user, section="expectations")
    assert contribution.acting_as == "personne"
    client.post(
        reverse("portal_ppa_comment", args=[draft.pk]),
        {"commentaire-section": "objectives", "commentaire-text": "Je veux aussi marcher."},
    )
    page = client.get(reverse("portal_ppa")).content.decode()
    assert "Aller au marché le samedi" in page and "Je veux aussi marcher." in page


def test_it_lets_a_carer_with_ppa_write_add_expectations_not_one_who_reads(person, person_user, carer, draft):
    _grant(person, person_user, carer, ppa=Level.READ)
    client = login(carer)
    page = client.get(reverse("portal_ppa")).content.decode()
    assert "Garder ses repères" in page and "Écrire mes attentes" not in page
    assert (
        client.post(
            reverse("portal_ppa_expectations", args=[draft.pk]), {"attentes-wishes": "Voir ses petits-enfants"}
        ).status_code
        == 403
    )
    _grant(person, person_user, carer, ppa=Level.WRITE)
    client.post(reverse("portal_ppa_expectations", args=[draft.pk]), {"attentes-wishes": "Voir ses petits-enfants"})
    draft.refresh_from_db()
    assert draft.wishes == "Voir ses petits-enfants"
    assert Contribution.objects.get(version=draft, author=carer).acting_as == "aidant"


def test_it_lets_the_person_sign_a_submitted_version(person, person_user, submitted):
    client = login(person_user)
    page = client.get(reverse("portal_ppa")).content.decode()
    assert "Signer le projet" in page
    response = client.post(reverse("portal_ppa_sign", args=[submitted.pk]))
    assert response.status_code == 302
    sign_off = SignOff.objects.get(version=submitted)
    assert sign_off.role == SignOffRole.PERSON and sign_off.user == person_user
    assert not sign_off.is_legal_representative
    page = client.get(reverse("portal_ppa")).content.decode()
    assert "Il manque encore la signature du référent" in page and "Signer le projet" not in page


def test_it_lets_the_legal_representative_sign_and_records_it_as_such(person, legal_rep, referent, submitted):
    services.plan_sign(actor=referent, version=submitted, role=SignOffRole.REFERENT)
    client = login(legal_rep)
    client.post(reverse("portal_ppa_sign", args=[submitted.pk]))
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.VALIDATED
    assert SignOff.objects.get(version=submitted, role=SignOffRole.PERSON).is_legal_representative
    audit = AuditEvent.objects.get(event_type=PlanAudit.PLAN_SIGNED, actor=legal_rep)
    assert audit.acting_as == AccessVia.REPRESENTATIVE
    assert "Le projet est validé" in client.get(reverse("portal_ppa")).content.decode()


def test_it_does_not_let_a_mere_carer_sign(person, person_user, carer, submitted):
    _grant(person, person_user, carer, ppa=Level.WRITE)
    client = login(carer)
    assert "Signer le projet" not in client.get(reverse("portal_ppa")).content.decode()
    assert client.post(reverse("portal_ppa_sign", args=[submitted.pk])).status_code == 403
    assert not SignOff.objects.exists()


def test_it_says_clearly_that_a_validated_version_cannot_change(person, person_user, validated):
    client = login(person_user)
    response = client.post(reverse("portal_ppa_expectations", args=[validated.pk]), {"attentes-wishes": "Autre chose"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "il ne peut plus être modifié" in page
    validated.refresh_from_db()
    assert validated.wishes == ""
    client.post(
        reverse("portal_ppa_comment", args=[validated.pk]), {"commentaire-section": "needs", "commentaire-text": "x"}
    )
    assert (
        not Contribution.objects.filter(version=validated, author=person_user).exclude(section="expectations").exists()
    )
    assert PlanVersion.objects.get(pk=validated.pk).status == VersionStatus.VALIDATED


def test_it_reads_the_plan_in_a_bounded_number_of_queries(
    person, person_user, referent, nurse, validated, django_assert_max_num_queries
):
    client = login(person_user)
    client.get(reverse("portal_ppa"))
    with django_assert_max_num_queries(80) as small:
        assert client.get(reverse("portal_ppa")).status_code == 200
    baseline = len(small.captured_queries)
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Plus d'objectifs")
    code = SerafinCode.objects.get(kind="need", code="1.1.1")
    for index in range(10):
        need = services.need_add(actor=referent, version=amendment, serafin=code, description=f"Besoin {index}")
        objective = services.objective_add(
            actor=referent,
            version=amendment,
            title=f"Objectif {index}",
            needs=[need],
            indicator="Mesurable",
            target_on=date(2027, 6, 1),
        )
        services.action_add(
            actor=referent,
            version=amendment,
            title=f"Action {index}",
            objectives=[objective],
            professional=nurse.professional,
            weekdays="TU",
            starts_at_time=time(14, 0),
            duration_minutes=30,
            starts_on=date(2026, 1, 6),
        )
    services.plan_submit(actor=referent, version=amendment)
    services.plan_sign(actor=person_user, version=amendment, role=SignOffRole.PERSON)
    services.plan_sign(actor=referent, version=amendment, role=SignOffRole.REFERENT)
    client.get(reverse("portal_ppa"))
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("portal_ppa"))
    assert "Objectif 9" in response.content.decode()
