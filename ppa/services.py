"""Writes of the projet personnalisé. Each service goes through the gate (category
`ppa`), is atomic, writes its typed audit row in the same transaction and notifies
through the notifications block.

Who writes what:
- professionals of the circle with the `ppa` write right: every section of a draft;
- the person and their carers, when granted `ppa` write: the expectations, and comments
  on any section;
- sign-offs: the person or their legal representative, and a referent of a structure
  that accompanies the person.

Only a draft changes. A submitted version waits for its two sign-offs; a validated
version is frozen (`PlanFrozen`, HTTP 409): changes are amendments (a new version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from agenda.models import EventSource, EventType, Participant, ParticipantKind, Visibility
from common.handoff import queue_after_commit
from common.notify import notify
from common.timezone import PARIS
from coordination import access
from coordination.models import (
    Accompaniment,
    CarerLink,
    Category,
    Person,
    Professional,
    Structure,
    TeamRole,
)
from coordination.services import audit
from ppa.audit_types import PlanAudit
from ppa.models import (
    EXPECTATION_FIELDS,
    Action,
    Contribution,
    ContributionKind,
    Need,
    Objective,
    ObjectiveStatus,
    Plan,
    PlanVersion,
    ReviewReminder,
    Section,
    SignOff,
    SignOffRole,
    VersionStatus,
    Weekday,
)
from reference.models import SerafinCode, SerafinKind

FROZEN_MESSAGE = (
    "Ce projet personnalisé est validé : il ne peut plus être modifié. Pour le faire évoluer, préparez un avenant."
)
SUBMITTED_MESSAGE = (
    "Ce projet personnalisé est soumis à validation : il ne peut plus être modifié en attendant les signatures."
)


class PlanFrozen(ValidationError):
    """The version is not a draft any more: it cannot change (HTTP 409)."""


# --- Who may do what ---------------------------------------------------------------------------


def is_person_side(user, person: Person) -> bool:
    """The person themself or one of their carers (not a professional of the circle)."""
    if person.user_id == user.pk:
        return True
    return CarerLink.objects.filter(person=person, user=user, ended_on__isnull=True).exists()


def _require_write(actor, person: Person) -> access.Access:
    return access.require(actor, person, Category.PPA, "write")


def _require_professional_write(actor, person: Person) -> None:
    _require_write(actor, person)
    if is_person_side(actor, person) or not actor.is_professional:
        raise access.AccessDenied(
            "Cette partie du projet est rédigée par les professionnels. "
            "Vous pouvez compléter vos attentes et laisser un commentaire."
        )


def _referent_structures(actor, person: Person):
    """Structures accompanying the person where `actor` is a referent."""
    return Structure.objects.filter(
        accompaniments__person=person,
        accompaniments__ended_on__isnull=True,
        team__professional__user=actor,
        team__role=TeamRole.REFERENT,
        team__ended_on__isnull=True,
    ).distinct()


def _lock_draft(version: PlanVersion) -> PlanVersion:
    """The version, row-locked, if it is still a draft; PlanFrozen otherwise."""
    locked = PlanVersion.objects.select_for_update().select_related("plan__person").get(pk=version.pk)
    if locked.status == VersionStatus.SUBMITTED:
        raise PlanFrozen(SUBMITTED_MESSAGE)
    if locked.status != VersionStatus.DRAFT:
        raise PlanFrozen(FROZEN_MESSAGE)
    return locked


def _contribute(
    version: PlanVersion, actor, section: str, summary: str, *, text: str = "", kind: str = ContributionKind.EDIT
) -> Contribution:
    person = version.plan.person
    contribution = Contribution.objects.create(
        version=version,
        section=section,
        kind=kind,
        author=actor,
        summary=summary[:300],
        text=text,
        acting_as="personne"
        if person.user_id == actor.pk
        else ("aidant" if is_person_side(actor, person) else "professionnel"),
    )
    audit(actor, person, PlanAudit.PLAN_EDITED, version=version.pk, section=section, summary=summary[:300])
    return contribution


def _plan_url(plan: Plan) -> str:
    return reverse("ppa:plan", args=[plan.person_id])


# --- Plan and draft edits ----------------------------------------------------------------------


@transaction.atomic
def plan_create(*, actor, person: Person, structure: Structure | None = None) -> Plan:
    """Starts the person's plan with a first draft. One plan per person."""
    _require_professional_write(actor, person)
    if Plan.objects.filter(person=person).exists():
        raise ValidationError("Cette personne a déjà un projet personnalisé.")
    if structure is None:
        accompaniment = (
            Accompaniment.objects.filter(person=person, ended_on__isnull=True)
            .select_related("structure")
            .order_by("started_on", "pk")
            .first()
        )
        structure = accompaniment.structure if accompaniment else None
    plan = Plan.objects.create(person=person, structure=structure, created_by=actor)
    version = PlanVersion.objects.create(plan=plan, number=1, created_by=actor)
    audit(actor, person, PlanAudit.PLAN_CREATED, plan=plan.pk, version=version.pk)
    return plan


@transaction.atomic
def expectations_update(*, actor, version: PlanVersion, **fields: str) -> PlanVersion:
    """The person's expectations, in their own words. The person and carers with the
    `ppa` write right may write them, as professionals of the circle."""
    unknown = set(fields) - set(EXPECTATION_FIELDS)
    if unknown:
        raise ValueError(f"not expectation fields: {sorted(unknown)}")
    version = _lock_draft(version)
    _require_write(actor, version.plan.person)
    changed = [name for name, value in fields.items() if getattr(version, name) != value.strip()]
    for name in changed:
        setattr(version, name, fields[name].strip())
    if changed:
        version.save(update_fields=changed)
        labels = ", ".join(str(PlanVersion._meta.get_field(name).verbose_name) for name in changed)
        _contribute(version, actor, Section.EXPECTATIONS, f"Attentes complétées : {labels}")
    return version


@transaction.atomic
def text_section_update(*, actor, version: PlanVersion, section: str, text: str) -> PlanVersion:
    """Resources or remarks (professionals)."""
    if section not in (Section.RESOURCES, Section.REMARKS):
        raise ValueError(f"not a text section: {section}")
    version = _lock_draft(version)
    _require_professional_write(actor, version.plan.person)
    if getattr(version, section) != text.strip():
        setattr(version, section, text.strip())
        version.save(update_fields=[section])
        _contribute(version, actor, section, f"{Section(section).label} modifiées")
    return version


@transaction.atomic
def comment_add(*, actor, version: PlanVersion, section: str, text: str) -> Contribution:
    """A comment on a section of a draft (anyone with `ppa` write, the person included)."""
    if section not in Section.values:
        raise ValidationError({"section": "Choisissez la partie du projet commentée."})
    if not text.strip():
        raise ValidationError({"text": "Écrivez votre commentaire."})
    version = _lock_draft(version)
    _require_write(actor, version.plan.person)
    return _contribute(version, actor, section, "Commentaire", text=text.strip(), kind=ContributionKind.COMMENT)


def _serafin(code: SerafinCode | None, kind: str, field: str, required: bool = True) -> SerafinCode | None:
    if code is None:
        if required:
            raise ValidationError({field: "Choisissez un code SERAFIN-PH."})
        return None
    if code.kind != kind:
        label = "besoin" if kind == SerafinKind.NEED else "prestation"
        raise ValidationError({field: f"Choisissez un code de {label} SERAFIN-PH."})
    return code


@transaction.atomic
def need_add(*, actor, version: PlanVersion, serafin: SerafinCode | None, description: str) -> Need:
    version = _lock_draft(version)
    _require_professional_write(actor, version.plan.person)
    serafin = _serafin(serafin, SerafinKind.NEED, "serafin")
    if not description.strip():
        raise ValidationError({"description": "Décrivez le besoin évalué."})
    need = Need.objects.create(
        version=version, serafin=serafin, description=description.strip(), position=version.needs.count()
    )
    _contribute(version, actor, Section.NEEDS, f"Besoin ajouté : {serafin.code}")
    return need


@transaction.atomic
def need_update(*, actor, need: Need, serafin: SerafinCode | None, description: str) -> Need:
    version = _lock_draft(need.version)
    _require_professional_write(actor, version.plan.person)
    need.serafin = _serafin(serafin, SerafinKind.NEED, "serafin")
    if not description.strip():
        raise ValidationError({"description": "Décrivez le besoin évalué."})
    need.description = description.strip()
    need.save(update_fields=["serafin", "description"])
    _contribute(version, actor, Section.NEEDS, f"Besoin modifié : {need.serafin.code}")
    return need


@transaction.atomic
def need_remove(*, actor, need: Need) -> None:
    version = _lock_draft(need.version)
    _require_professional_write(actor, version.plan.person)
    code = need.serafin.code
    need.delete()
    _contribute(version, actor, Section.NEEDS, f"Besoin retiré : {code}")


def _objective_fields(version: PlanVersion, fields: dict) -> dict:
    if not fields.get("title", "").strip():
        raise ValidationError({"title": "Écrivez l'objectif."})
    if fields.get("status") and fields["status"] not in ObjectiveStatus.values:
        raise ValidationError({"status": "État inconnu."})
    needs = list(fields.get("needs") or [])
    if any(n.version_id != version.pk for n in needs):
        raise ValidationError({"needs": "Choisissez des besoins de cette version du projet."})
    if not needs:
        raise ValidationError({"needs": "Rattachez l'objectif à au moins un besoin."})
    return {**fields, "title": fields["title"].strip(), "needs": needs}


@transaction.atomic
def objective_add(
    *,
    actor,
    version: PlanVersion,
    title: str,
    needs,
    indicator: str = "",
    target_on: date | None = None,
    status: str = ObjectiveStatus.NOT_STARTED,
    status_note: str = "",
) -> Objective:
    version = _lock_draft(version)
    _require_professional_write(actor, version.plan.person)
    data = _objective_fields(version, {"title": title, "needs": needs, "status": status})
    objective = Objective.objects.create(
        version=version,
        title=data["title"],
        indicator=indicator.strip(),
        target_on=target_on,
        status=status,
        status_note=status_note.strip(),
        position=version.objectives.count(),
    )
    objective.needs.set(data["needs"])
    _contribute(version, actor, Section.OBJECTIVES, f"Objectif ajouté : {objective.title}")
    return objective


@transaction.atomic
def objective_update(
    *,
    actor,
    objective: Objective,
    title: str,
    needs,
    indicator: str = "",
    target_on: date | None = None,
    status: str = ObjectiveStatus.NOT_STARTED,
    status_note: str = "",
) -> Objective:
    version = _lock_draft(objective.version)
    _require_professional_write(actor, version.plan.person)
    data = _objective_fields(version, {"title": title, "needs": needs, "status": status})
    objective.title, objective.indicator, objective.target_on = data["title"], indicator.strip(), target_on
    objective.status, objective.status_note = status, status_note.strip()
    objective.save()
    objective.needs.set(data["needs"])
    _contribute(version, actor, Section.OBJECTIVES, f"Objectif modifié : {objective.title}")
    return objective


@transaction.atomic
def objective_remove(*, actor, objective: Objective) -> None:
    version = _lock_draft(objective.version)
    _require_professional_write(actor, version.plan.person)
    title = objective.title
    objective.delete()
    _contribute(version, actor, Section.OBJECTIVES, f"Objectif retiré : {title}")


ACTION_FIELDS = (
    "title",
    "objectives",
    "professional",
    "structure",
    "serafin",
    "weekdays",
    "interval_weeks",
    "starts_at_time",
    "duration_minutes",
    "schedule_text",
    "starts_on",
    "ends_on",
    "trial_ends_on",
    "involves_person",
)


def _action_fields(version: PlanVersion, fields: dict) -> dict:
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"not action fields: {sorted(unknown)}")
    data = dict(fields)
    data["title"] = (data.get("title") or "").strip()
    if not data["title"]:
        raise ValidationError({"title": "Décrivez la modalité d'accompagnement."})
    objectives = list(data.pop("objectives", None) or [])
    if not objectives:
        raise ValidationError({"objectives": "Rattachez la modalité à au moins un objectif."})
    if any(o.version_id != version.pk for o in objectives):
        raise ValidationError({"objectives": "Choisissez des objectifs de cette version du projet."})
    if not data.get("professional") and not data.get("structure"):
        raise ValidationError({"professional": "Indiquez qui intervient : un professionnel ou une structure."})
    data["serafin"] = _serafin(data.get("serafin"), SerafinKind.SERVICE, "serafin", required=False)
    days = data.get("weekdays") or ""
    if isinstance(days, (list, tuple)):
        days = ",".join(days)
    days_list = [d for d in days.split(",") if d]
    if any(d not in Weekday.values for d in days_list):
        raise ValidationError({"weekdays": "Jour inconnu."})
    data["weekdays"] = ",".join(d for d in Weekday.values if d in days_list)
    if data["weekdays"]:
        labels = {"starts_at_time": "l'heure", "duration_minutes": "la durée", "starts_on": "la date de début"}
        missing = [name for name in labels if not data.get(name)]
        if missing:
            raise ValidationError({missing[0]: f"Avec des jours fixes, indiquez aussi {labels[missing[0]]}."})
    elif not (data.get("schedule_text") or "").strip():
        raise ValidationError(
            {
                "schedule_text": "Indiquez la fréquence : des jours et une heure, ou en clair "
                "(par exemple « selon les besoins »)."
            }
        )
    if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        raise ValidationError({"ends_on": "La fin doit suivre le début."})
    if data.get("trial_ends_on") and data.get("starts_on") and data["trial_ends_on"] < data["starts_on"]:
        raise ValidationError({"trial_ends_on": "La période d'essai se termine après le début."})
    data["interval_weeks"] = data.get("interval_weeks") or 1
    data["schedule_text"] = (data.get("schedule_text") or "").strip()
    return {"objectives": objectives, **data}


@transaction.atomic
def action_add(*, actor, version: PlanVersion, **fields) -> Action:
    """A support modality; a schedule is weekday(s) + time + duration from a start date,
    or free text when unscheduled."""
    version = _lock_draft(version)
    _require_professional_write(actor, version.plan.person)
    data = _action_fields(version, fields)
    objectives = data.pop("objectives")
    action = Action.objects.create(version=version, position=version.actions.count(), **data)
    action.objectives.set(objectives)
    _contribute(version, actor, Section.ACTIONS, f"Modalité ajoutée : {action.title}")
    return action


@transaction.atomic
def action_update(*, actor, action: Action, **fields) -> Action:
    version = _lock_draft(action.version)
    _require_professional_write(actor, version.plan.person)
    data = _action_fields(version, fields)
    objectives = data.pop("objectives")
    for name, value in data.items():
        setattr(action, name, value)
    action.save()
    action.objectives.set(objectives)
    _contribute(version, actor, Section.ACTIONS, f"Modalité modifiée : {action.title}")
    return action


@transaction.atomic
def action_remove(*, actor, action: Action) -> None:
    version = _lock_draft(action.version)
    _require_professional_write(actor, version.plan.person)
    title = action.title
    action.delete()
    _contribute(version, actor, Section.ACTIONS, f"Modalité retirée : {title}")


# --- Workflow ---------------------------------------------------------------------------------


@transaction.atomic
def plan_submit(*, actor, version: PlanVersion) -> PlanVersion:
    """Draft → submitted for validation (a professional with `ppa` write)."""
    version = _lock_draft(version)
    person = version.plan.person
    _require_professional_write(actor, person)
    if not version.objectives.exists():
        raise ValidationError("Ajoutez au moins un objectif avant de soumettre le projet.")
    version.status = VersionStatus.SUBMITTED
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    audit(actor, person, PlanAudit.PLAN_SUBMITTED, version=version.pk)
    notify("ppa.submitted", person=person, actor=actor, url=_plan_url(version.plan), subject=version)
    return version


def sign_roles_for(actor, person: Person) -> list[str]:
    """The sign-off roles `actor` may hold on `person`'s plan."""
    roles = []
    if (
        person.user_id == actor.pk
        or CarerLink.objects.filter(
            person=person, user=actor, is_legal_representative=True, ended_on__isnull=True
        ).exists()
    ):
        roles.append(SignOffRole.PERSON)
    if _referent_structures(actor, person).exists():
        roles.append(SignOffRole.REFERENT)
    return roles


@transaction.atomic
def plan_sign(*, actor, version: PlanVersion, role: str) -> SignOff:
    """Records a sign-off; the second one validates the version, which is then frozen,
    supersedes the previous validated version and gets its yearly review date.

    Settled in the database: the plan and version rows are locked, so two sign-offs
    racing on one version (or two versions of one plan) validate it once; the unique
    constraints (one sign-off per role, one validated version per plan) back it up.
    """
    plan = Plan.objects.select_for_update().select_related("person").get(pk=version.plan_id)
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    person = plan.person
    access.require(actor, person, Category.PPA, "read")
    if version.status == VersionStatus.DRAFT:
        raise ValidationError("Le projet doit d'abord être soumis à validation.")
    if version.is_frozen:
        raise PlanFrozen("Ce projet personnalisé est déjà validé.")
    if role not in SignOffRole.values:
        raise ValidationError({"role": "Rôle de signature inconnu."})
    if role not in sign_roles_for(actor, person):
        raise access.AccessDenied(
            "Seule la personne ou son représentant légal signe au titre de la personne."
            if role == SignOffRole.PERSON
            else "Seul un référent de la structure qui accompagne la personne signe au titre de la structure."
        )
    if version.sign_offs.filter(role=role).exists():
        raise ValidationError("Cette signature a déjà été donnée.")
    try:
        with transaction.atomic():
            sign_off = SignOff.objects.create(
                version=version,
                role=role,
                user=actor,
                is_legal_representative=role == SignOffRole.PERSON and person.user_id != actor.pk,
            )
    except IntegrityError:
        raise ValidationError("Cette signature a déjà été donnée.") from None
    audit(actor, person, PlanAudit.PLAN_SIGNED, version=version.pk, role=role)
    if version.sign_offs.count() == len(SignOffRole.values):
        _validate(actor, plan, version)
    return sign_off


def _validate(actor, plan: Plan, version: PlanVersion) -> None:
    now = timezone.now()
    previous = PlanVersion.objects.filter(plan=plan, status=VersionStatus.VALIDATED).first()
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at"])
    version.status = VersionStatus.VALIDATED
    version.validated_at = now
    version.review_due_on = timezone.localdate(now) + relativedelta(months=settings.PPA_REVIEW_MONTHS)
    version.save(update_fields=["status", "validated_at", "review_due_on"])
    audit(
        actor,
        plan.person,
        PlanAudit.PLAN_VALIDATED,
        version=version.pk,
        superseded=previous.pk if previous else None,
    )
    notify("ppa.validated", person=plan.person, actor=actor, url=_plan_url(plan), subject=version)

    # After commit, best effort (common.handoff): the PDF never holds up or undoes the
    # validation (see ppa.documents); a filing not queued is done by the sweeper.
    from ppa.tasks import file_plan_document

    queue_after_commit(file_plan_document, [version.pk])


@transaction.atomic
def plan_amend(*, actor, plan: Plan, reason: str) -> PlanVersion:
    """An amendment (avenant): a new draft copied from the validated version, with its
    reason. The validated version stays in force until the amendment is validated."""
    if not reason.strip():
        raise ValidationError({"reason": "Indiquez le motif de l'avenant."})
    plan = Plan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    _require_professional_write(actor, plan.person)
    if PlanVersion.objects.filter(plan=plan, status__in=[VersionStatus.DRAFT, VersionStatus.SUBMITTED]).exists():
        raise ValidationError("Un avenant est déjà en cours : complétez-le ou faites-le valider.")
    source = PlanVersion.objects.filter(plan=plan, status=VersionStatus.VALIDATED).first()
    if source is None:
        raise ValidationError("Il n'y a pas encore de version validée à modifier par avenant.")
    number = plan.versions.order_by("-number").values_list("number", flat=True).first() + 1
    copied = {name: getattr(source, name) for name in (*EXPECTATION_FIELDS, "resources", "remarks")}
    version = PlanVersion.objects.create(
        plan=plan, number=number, based_on=source, amendment_reason=reason.strip(), created_by=actor, **copied
    )
    needs = {}
    for need in source.needs.all():
        needs[need.pk] = Need.objects.create(
            version=version,
            key=need.key,
            serafin_id=need.serafin_id,
            description=need.description,
            position=need.position,
        )
    objectives = {}
    for objective in source.objectives.prefetch_related("needs"):
        copy = Objective.objects.create(
            version=version,
            key=objective.key,
            title=objective.title,
            indicator=objective.indicator,
            target_on=objective.target_on,
            status=objective.status,
            status_note=objective.status_note,
            position=objective.position,
        )
        copy.needs.set([needs[n.pk] for n in objective.needs.all()])
        objectives[objective.pk] = copy
    for action in source.actions.prefetch_related("objectives"):
        copy = Action.objects.create(
            version=version,
            key=action.key,
            position=action.position,
            **{name: getattr(action, name) for name in ACTION_FIELDS if name != "objectives"},
        )
        copy.objectives.set([objectives[o.pk] for o in action.objectives.all()])
    Contribution.objects.create(
        version=version,
        section=Section.REMARKS,
        author=actor,
        acting_as="professionnel",
        summary=f"Avenant ouvert : {reason.strip()}"[:300],
    )
    audit(actor, plan.person, PlanAudit.PLAN_AMENDED, version=version.pk, based_on=source.pk, reason=reason.strip())
    notify("ppa.new_iteration", person=plan.person, actor=actor, url=_plan_url(plan), subject=version)
    return version


# --- Yearly review ----------------------------------------------------------------------------


def review_recipients(person: Person):
    """Professionals who may write the plan: they organise the review."""
    return access.users_allowed(person, Category.PPA, "write").filter(professional__isnull=False)


def review_reminders_send(*, today: date | None = None) -> int:
    """Sends the yearly-review reminders due today: 60, 30 and 7 days before the due
    date, then once when overdue. Each reminder is sent once per version (a row per
    threshold, unique); when a threshold was passed without a reminder (e.g. a beat
    outage) only the nearest one is sent and the older ones are marked skipped.
    Safe to run twice or in parallel."""
    today = today or timezone.localdate()
    thresholds = sorted(settings.PPA_REVIEW_REMINDER_DAYS)  # e.g. 7, 30, 60
    horizon = today + timedelta(days=max(thresholds))
    sent = 0
    candidates = PlanVersion.objects.filter(status=VersionStatus.VALIDATED, review_due_on__lte=horizon).values_list(
        "pk", flat=True
    )
    for version_id in candidates:
        sent += _review_reminder_send(version_id, today, thresholds)
    return sent


@transaction.atomic
def _review_reminder_send(version_id: int, today: date, thresholds: list[int]) -> int:
    version = (
        PlanVersion.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("plan__person")
        .filter(pk=version_id, status=VersionStatus.VALIDATED)
        .first()
    )
    if version is None:
        return 0
    days_left = (version.review_due_on - today).days
    done = set(version.review_reminders.values_list("days_before", flat=True))
    if days_left < 0:
        due = 0
    else:
        reached = [d for d in thresholds if days_left <= d]
        if not reached:
            return 0
        due = reached[0]
    if due in done or (due and any(d in done for d in thresholds if d < due)):
        return 0
    skipped = [d for d in thresholds if d > due and d not in done] if due else []
    ReviewReminder.objects.bulk_create(
        [ReviewReminder(version=version, days_before=d, is_skipped=True) for d in skipped]
    )
    if due == 0:
        ReviewReminder.objects.bulk_create(
            [ReviewReminder(version=version, days_before=d, is_skipped=True) for d in thresholds if d not in done]
        )
    ReviewReminder.objects.create(version=version, days_before=due)
    person = version.plan.person
    notify(
        "ppa.review_overdue" if due == 0 else "ppa.review_due",
        person=person,
        recipients=review_recipients(person),
        url=_plan_url(version.plan),
        subject=version,
    )
    return 1


# --- Into the agenda ----------------------------------------------------------------------------
# Written with the ORM for now; the lead switches this block to agenda.services when the
# agenda services are merged (same rows: source="ppa", source_reference, serafin_service,
# participants, shared visibility when the person takes part).


@dataclass(frozen=True)
class AgendaResult:
    created: int
    ended: int
    kept: int


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def action_rrule(action: Action, until: datetime | None = None) -> str:
    """The RFC 5545 rule of an action's schedule, e.g. FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=…"""
    parts = ["FREQ=WEEKLY"]
    if action.interval_weeks > 1:
        parts.append(f"INTERVAL={action.interval_weeks}")
    parts.append(f"BYDAY={','.join(action.weekday_list)}")
    if until is None and action.ends_on:
        until = datetime.combine(action.ends_on, time(23, 59, 59), tzinfo=PARIS)
    if until is not None:
        parts.append(f"UNTIL={_utc_stamp(until)}")
    return ";".join(parts)


def _first_start(action: Action, from_day: date) -> datetime:
    days = {Weekday.values.index(d) for d in action.weekday_list}
    day = from_day
    while day.weekday() not in days:
        day += timedelta(days=1)
    return datetime.combine(day, action.starts_at_time, tzinfo=PARIS)


def _schedule_signature(action: Action) -> tuple:
    return (
        action.weekdays,
        action.interval_weeks,
        action.starts_at_time,
        action.duration_minutes,
        action.starts_on,
        action.ends_on,
        action.professional_id,
        action.structure_id,
        action.serafin_id,
        action.involves_person,
        action.title,
    )


def _event_create(actor, action: Action, person: Person, structure: Structure | None, from_day: date):
    start_day = max(action.starts_on, from_day)
    if action.ends_on and start_day > action.ends_on:
        return None
    starts_at = _first_start(action, start_day)
    participants = []
    if action.professional_id:
        professional = Professional.objects.select_related("user").get(pk=action.professional_id)
        participants.append(
            Participant(
                kind=ParticipantKind.PROFESSIONAL,
                professional=professional,
                user=professional.user,
                display_name=str(professional),
            )
        )
    elif action.structure_id:
        participants.append(
            Participant(
                kind=ParticipantKind.STRUCTURE, structure_id=action.structure_id, display_name=str(action.structure)
            )
        )
    if action.involves_person:
        participants.append(
            Participant(kind=ParticipantKind.PERSON, user_id=person.user_id, display_name=person.display_name)
        )
    event = agenda_services.event_insert(
        created_by=actor,
        participants=participants,
        source=EventSource.PPA,
        source_reference=f"ppa-action:{action.key}:{action.pk}",
        person=person,
        structure=action.structure or structure,
        title=action.title,
        motive="Modalité du projet personnalisé",
        event_type=EventType.SUPPORT_ACTIVITY,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=action.duration_minutes),
        rrule=action_rrule(action),
        serafin_service_id=action.serafin_id,
        visibility=Visibility.SHARED if action.involves_person else Visibility.INTERNAL,
    )
    agenda_services.event_audit_created(actor, event, source="ppa", action=action.pk)
    return event


def _event_end(actor, event, person: Person, cutoff: datetime) -> bool:
    return agenda_services.series_cut(actor=actor, event=event, cutoff=cutoff, source="ppa")


@transaction.atomic
def plan_events_generate(*, actor, version: PlanVersion) -> AgendaResult:
    """Agenda events from the scheduled actions of the validated version (recurring
    weekly series, linked back to their action). For an amendment, an action whose
    schedule did not change keeps its series; a changed or removed one has its series
    ended now (past occurrences untouched) and, if still there, a new series from
    today. Safe to run twice."""
    plan = Plan.objects.select_for_update(of=("self",)).select_related("person", "structure").get(pk=version.plan_id)
    version = PlanVersion.objects.get(pk=version.pk)
    person = plan.person
    _require_professional_write(actor, person)
    access.require(actor, person, Category.AGENDA, "write")
    if version.status != VersionStatus.VALIDATED:
        raise ValidationError("Seule la version validée en vigueur alimente l'agenda.")
    now = timezone.now()
    today = timezone.localdate(now)
    previous = (
        {a.key: a for a in Action.objects.filter(version=version.based_on).select_related("event")}
        if version.based_on_id
        else {}
    )
    created = ended = kept = 0
    for action in version.actions.select_related("event", "structure"):
        if action.event_id or not action.is_scheduled:
            continue
        origin = previous.get(action.key)
        if origin is not None and origin.event_id:
            if _schedule_signature(origin) == _schedule_signature(action):
                action.event = origin.event
                action.save(update_fields=["event"])
                kept += 1
                continue
            ended += _event_end(actor, origin.event, person, now)
        event = _event_create(actor, action, person, plan.structure, today if origin is not None else action.starts_on)
        if event is not None:
            action.event = event
            action.save(update_fields=["event"])
            created += 1
    current_keys = set(version.actions.values_list("key", flat=True))
    for key, origin in previous.items():
        if origin.event_id and (key not in current_keys or not version.actions.filter(key=key).first().is_scheduled):
            ended += _event_end(actor, origin.event, person, now)
    return AgendaResult(created=created, ended=ended, kept=kept)


# --- MDPH liaison sheet -----------------------------------------------------------------------


def mdph_sheet_build(plan_version: PlanVersion, *, change: str = "", reason: str = "") -> dict:
    """The data of the MDPH liaison sheet (fiche de liaison) from a plan version: the
    person's identity (INS only when the identity is qualifiée), a summary of the plan
    and the change of support requested, with its reason.

    Seam for the documents block: it renders this dict as a PDF, files it as a document
    and sends it by MSSanté to the MDPH; the printable page uses the same dict.
    """
    version = (
        PlanVersion.objects.select_related("plan__person", "plan__structure")
        .prefetch_related(
            "needs__serafin",
            "objectives__needs",
            "actions__serafin",
            "actions__professional__user",
            "actions__structure",
            "sign_offs__user",
        )
        .get(pk=plan_version.pk)
    )
    person = version.plan.person
    return {
        "identity": {
            "birth_name": person.birth_name,
            "first_names": person.birth_first_names,
            "used_name": person.used_name,
            "birth_date": person.birth_date,
            "sex": person.get_sex_display(),
            "ins": person.shareable_ins,
        },
        "structure": version.plan.structure.name if version.plan.structure_id else "",
        "version": {
            "number": version.number,
            "status": version.get_status_display(),
            "validated_at": version.validated_at,
            "review_due_on": version.review_due_on,
        },
        "expectations": {name: getattr(version, name) for name in EXPECTATION_FIELDS},
        "needs": [
            {"code": n.serafin.code, "label": n.serafin.label, "description": n.description}
            for n in version.needs.all()
        ],
        "objectives": [
            {"title": o.title, "status": o.get_status_display(), "target_on": o.target_on, "indicator": o.indicator}
            for o in version.objectives.all()
        ],
        "actions": [
            {
                "title": a.title,
                "who": a.performer_display(),
                "service": f"{a.serafin.code} — {a.serafin.label}" if a.serafin_id else "",
                "schedule": a.schedule_display(),
                "starts_on": a.starts_on,
                "ends_on": a.ends_on,
            }
            for a in version.actions.all()
        ],
        "change": change.strip(),
        "reason": reason.strip(),
        "prepared_at": timezone.now(),
    }
