from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError

from coordination import access
from coordination.models import AuditEvent, Level
from coordination.services import grants_set
from ppa import selectors, services
from ppa.audit_types import PlanAudit
from ppa.models import Contribution, PlanVersion, Section, SignOffRole, VersionStatus

from .conftest import validate


def test_it_attributes_every_draft_contribution(filled, referent, person_user):
    services.expectations_update(actor=person_user, version=filled, wishes="Aller au marché le samedi")
    log = list(Contribution.objects.filter(version=filled).values_list("section", "author__email", "acting_as"))
    assert (Section.NEEDS, "referent@exemple.fr", "professionnel") in log
    assert (Section.OBJECTIVES, "referent@exemple.fr", "professionnel") in log
    assert (Section.ACTIONS, "referent@exemple.fr", "professionnel") in log
    assert (Section.EXPECTATIONS, "jeanne.martin@exemple.fr", "personne") in log
    assert all(c.at for c in Contribution.objects.filter(version=filled))
    assert AuditEvent.objects.filter(event_type=PlanAudit.PLAN_EDITED, actor=person_user).exists()


def test_it_validates_with_both_sign_offs(filled, referent, person_user):
    services.plan_submit(actor=referent, version=filled)
    services.plan_sign(actor=person_user, version=filled, role=SignOffRole.PERSON)
    filled.refresh_from_db()
    assert filled.status == VersionStatus.SUBMITTED
    services.plan_sign(actor=referent, version=filled, role=SignOffRole.REFERENT)
    filled.refresh_from_db()
    assert filled.status == VersionStatus.VALIDATED
    assert filled.validated_at is not None
    assert filled.review_due_on.year == filled.validated_at.year + 1
    assert sorted(filled.sign_offs.values_list("role", flat=True)) == ["person", "referent"]


def test_it_lets_the_legal_representative_sign_for_the_person(filled, referent, legal_rep):
    services.plan_submit(actor=referent, version=filled)
    sign_off = services.plan_sign(actor=legal_rep, version=filled, role=SignOffRole.PERSON)
    assert sign_off.is_legal_representative


def test_it_refuses_a_sign_off_by_someone_else(filled, referent, nurse):
    services.plan_submit(actor=referent, version=filled)
    with pytest.raises(access.AccessDenied):
        services.plan_sign(actor=nurse, version=filled, role=SignOffRole.REFERENT)
    with pytest.raises(access.AccessDenied):
        services.plan_sign(actor=referent, version=filled, role=SignOffRole.PERSON)


def test_it_refuses_any_change_to_a_validated_version(validated, referent, person_user, need_code):
    attempts = [
        lambda: services.need_add(actor=referent, version=validated, serafin=need_code, description="x"),
        lambda: services.expectations_update(actor=person_user, version=validated, tastes="Le jazz"),
        lambda: services.text_section_update(actor=referent, version=validated, section="remarks", text="x"),
        lambda: services.comment_add(actor=person_user, version=validated, section="needs", text="x"),
        lambda: services.objective_remove(actor=referent, objective=validated.objectives.get()),
        lambda: services.action_remove(actor=referent, action=validated.actions.get()),
    ]
    for attempt in attempts:
        with pytest.raises(services.PlanFrozen) as error:
            attempt()
        assert "validé" in error.value.messages[0] and "avenant" in error.value.messages[0]
    assert validated.needs.count() == 1 and validated.actions.count() == 1


def test_it_amends_by_copying_everything_with_a_reason(validated, referent, person_user):
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Entrée en accueil de jour")
    assert amendment.number == 2 and amendment.status == VersionStatus.DRAFT
    assert amendment.based_on == validated and amendment.amendment_reason == "Entrée en accueil de jour"
    assert [n.description for n in amendment.needs.all()] == ["Troubles de mémoire"]
    objective = amendment.objectives.get()
    assert list(objective.needs.all()) == list(amendment.needs.all())
    assert list(amendment.actions.get().objectives.all()) == [objective]
    with pytest.raises(ValidationError):
        services.plan_amend(actor=referent, plan=validated.plan, reason="Encore")


def test_it_supersedes_the_previous_version_when_the_amendment_is_validated(validated, referent, person_user):
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Nouvel objectif")
    validated.refresh_from_db()
    assert validated.status == VersionStatus.VALIDATED  # still in force meanwhile
    amendment = validate(amendment, referent, person_user)
    validated.refresh_from_db()
    assert amendment.status == VersionStatus.VALIDATED
    assert validated.status == VersionStatus.SUPERSEDED and validated.superseded_at is not None
    assert selectors.current_version(validated.plan) == amendment


def test_it_shows_a_readable_diff_section_by_section(validated, referent, person_user, need_code, nurse):
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Point à six mois")
    services.expectations_update(actor=person_user, version=amendment, interests="La chorale")
    new_need = services.need_add(actor=referent, version=amendment, serafin=need_code, description="Isolement")
    objective = amendment.objectives.get()
    services.objective_update(
        actor=referent,
        objective=objective,
        title=objective.title,
        needs=[*objective.needs.all(), new_need],
        status="in_progress",
        status_note="Progrès nets",
    )
    services.action_remove(actor=referent, action=amendment.actions.get())
    old, new = (selectors.with_sections(PlanVersion.objects.filter(pk=pk)).get() for pk in (validated.pk, amendment.pk))
    diff = {d.section: d for d in selectors.version_diff(old, new)}
    assert diff["expectations"].added == ["Centres d'intérêt : La chorale"]
    assert diff["needs"].added == ["1.1.1 " + need_code.label + " : Isolement"] and not diff["needs"].removed
    assert len(diff["objectives"].changed) == 1
    change = diff["objectives"].changed[0]
    assert "Non commencé" in change.before and "En cours" in change.after and "Progrès nets" in change.after
    assert diff["actions"].removed and diff["actions"].removed[0].startswith("Atelier mémoire")
    assert diff["resources"].is_empty and diff["remarks"].is_empty


def test_it_lets_the_person_write_expectations_but_not_professional_sections(draft, person_user, need_code):
    services.expectations_update(actor=person_user, version=draft, habits="Je me lève tard")
    services.comment_add(actor=person_user, version=draft, section="objectives", text="D'accord avec l'objectif")
    with pytest.raises(access.AccessDenied):
        services.need_add(actor=person_user, version=draft, serafin=need_code, description="x")
    with pytest.raises(access.AccessDenied):
        services.text_section_update(actor=person_user, version=draft, section="remarks", text="x")


def test_it_lets_a_carer_write_expectations_only_when_granted(draft, carer, person_user):
    with pytest.raises(access.AccessDenied):
        services.expectations_update(actor=carer, version=draft, tastes="Le jardin")
    member = draft.plan.person.circle.get(user=carer, ended_at__isnull=True)
    grants_set(actor=person_user, member=member, levels={"ppa": Level.WRITE})
    services.expectations_update(actor=carer, version=draft, tastes="Le jardin")
    draft.refresh_from_db()
    assert draft.tastes == "Le jardin"


def test_it_refuses_edits_from_a_member_without_ppa_write(draft, nurse, need_code):
    with pytest.raises(access.AccessDenied):
        services.need_add(actor=nurse, version=draft, serafin=need_code, description="x")


def test_it_needs_a_schedule_or_words_for_an_action(filled, referent):
    objective = filled.objectives.get()
    with pytest.raises(ValidationError) as error:
        services.action_add(
            actor=referent, version=filled, title="Sortie", objectives=[objective], structure=filled.plan.structure
        )
    assert "schedule_text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.action_add(
            actor=referent,
            version=filled,
            title="Sortie",
            objectives=[objective],
            structure=filled.plan.structure,
            weekdays="SA",
            starts_on=date(2026, 1, 1),
        )
    assert "starts_at_time" in error.value.message_dict
    action = services.action_add(
        actor=referent,
        version=filled,
        title="Sortie",
        objectives=[objective],
        structure=filled.plan.structure,
        weekdays=["SA"],
        starts_at_time=time(14),
        duration_minutes=120,
        starts_on=date(2026, 1, 1),
    )
    assert action.schedule_display() == "samedi, chaque semaine, à 14:00 (120 min)"
