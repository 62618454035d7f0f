"""Reads of the projet personnalisé: versions with their sections (a constant number
of queries), the diff between two versions, SERAFIN-PH search, overdue reviews."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from common.notify import Summary
from coordination import access
from coordination.models import Accompaniment, Category, Structure, TeamMembership, TeamRole
from ppa.models import (
    EXPECTATION_FIELDS,
    Action,
    Contribution,
    Objective,
    Plan,
    PlanVersion,
    Section,
    SignOff,
    SignOffRole,
    VersionStatus,
)


def with_sections(queryset: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    """Everything a version page shows, prefetched: the query count does not grow with
    the number of needs, objectives, actions or contributions."""
    return queryset.select_related("plan__person", "plan__structure", "based_on", "created_by").prefetch_related(
        "needs__serafin",
        Prefetch("objectives", queryset=Objective.objects.prefetch_related("needs__serafin")),
        Prefetch(
            "actions",
            queryset=Action.objects.select_related(
                "serafin", "professional__user", "structure", "event"
            ).prefetch_related("objectives"),
        ),
        Prefetch("contributions", queryset=Contribution.objects.select_related("author")),
        "sign_offs__user",
    )


def versions_of(plan: Plan) -> list[PlanVersion]:
    return list(plan.versions.select_related("created_by").order_by("-number"))


def current_version(plan: Plan) -> PlanVersion | None:
    """The validated version in force."""
    return plan.versions.filter(status=VersionStatus.VALIDATED).first()


def open_version(plan: Plan) -> PlanVersion | None:
    """The draft or submitted version (first plan or amendment), if any."""
    return plan.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.SUBMITTED]).first()


# --- Diff ---------------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str = ""
    after: str = ""


@dataclass
class SectionDiff:
    section: str
    title: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _need_text(need) -> str:
    return f"{need.serafin.code} {need.serafin.label} : {need.description}"


def _objective_text(objective) -> str:
    parts = [objective.title, f"état : {objective.get_status_display()}"]
    if objective.status_note:
        parts.append(f"note : {objective.status_note}")
    if objective.indicator:
        parts.append(f"indicateur : {objective.indicator}")
    if objective.target_on:
        parts.append(f"échéance : {objective.target_on:%d/%m/%Y}")
    parts.append("besoins : " + ", ".join(sorted(n.serafin.code for n in objective.needs.all())))
    return " ; ".join(parts)


def _action_text(action) -> str:
    parts = [action.title, f"qui : {action.performer_display()}", f"fréquence : {action.schedule_display()}"]
    if action.serafin_id:
        parts.append(f"prestation : {action.serafin.code}")
    if action.starts_on:
        parts.append(f"du {action.starts_on:%d/%m/%Y}" + (f" au {action.ends_on:%d/%m/%Y}" if action.ends_on else ""))
    if action.trial_ends_on:
        parts.append(f"essai jusqu'au {action.trial_ends_on:%d/%m/%Y}")
    parts.append("objectifs : " + ", ".join(sorted(o.title for o in action.objectives.all())))
    return " ; ".join(parts)


def _items_diff(diff: SectionDiff, old: dict, new: dict, text, title) -> None:
    for key, item in new.items():
        if key not in old:
            diff.added.append(text(item))
        elif text(old[key]) != text(item):
            diff.changed.append(Change(title(item), text(old[key]), text(item)))
    diff.removed.extend(text(item) for key, item in old.items() if key not in new)


def version_diff(old: PlanVersion, new: PlanVersion) -> list[SectionDiff]:
    """What changed from `old` to `new`, section by section (items are matched across
    versions by their stable key). Both versions should come from `with_sections`."""
    sections = []
    expectations = SectionDiff(Section.EXPECTATIONS, Section.EXPECTATIONS.label)
    for name in EXPECTATION_FIELDS:
        label = str(PlanVersion._meta.get_field(name).verbose_name).capitalize()
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        if not before:
            expectations.added.append(f"{label} : {after}")
        elif not after:
            expectations.removed.append(f"{label} : {before}")
        else:
            expectations.changed.append(Change(label, before, after))
    sections.append(expectations)
    for section, attr, text, title in (
        (Section.NEEDS, "needs", _need_text, lambda n: n.serafin.code),
        (Section.OBJECTIVES, "objectives", _objective_text, lambda o: o.title),
        (Section.ACTIONS, "actions", _action_text, lambda a: a.title),
    ):
        diff = SectionDiff(section, section.label)
        _items_diff(
            diff,
            {i.key: i for i in getattr(old, attr).all()},
            {i.key: i for i in getattr(new, attr).all()},
            text,
            title,
        )
        sections.append(diff)
    for section in (Section.RESOURCES, Section.REMARKS):
        diff = SectionDiff(section, section.label)
        before, after = getattr(old, section), getattr(new, section)
        if before != after:
            if not before:
                diff.added.append(after)
            elif not after:
                diff.removed.append(before)
            else:
                diff.changed.append(Change(section.label, before, after))
        sections.append(diff)
    return sections


# --- Yearly review -----------------------------------------------------------------------------


def overdue_reviews(user, structure: Structure, today: date | None = None) -> QuerySet[PlanVersion]:
    """Validated versions past their review date, of persons the structure accompanies
    and `user` may read (through the gate's queryset)."""
    today = today or timezone.localdate()
    return (
        PlanVersion.objects.filter(
            status=VersionStatus.VALIDATED,
            review_due_on__lt=today,
            plan__person__in=access.persons_visible_to(user, Category.PPA),
            plan__person__accompaniments__structure=structure,
            plan__person__accompaniments__ended_on__isnull=True,
        )
        .select_related("plan__person")
        .distinct()
        .order_by("review_due_on", "pk")
    )


# --- The professional's day (portal dashboard) ---------------------------------------------------


def review_soon_days() -> int:
    """ "To review soon": within the first reminder's horizon (60 days by default)."""
    return max(settings.PPA_REVIEW_REMINDER_DAYS)


def to_sign(user, *, delegate: bool | None = None, reach: access.Reach | None = None) -> QuerySet[PlanVersion]:
    """Versions submitted for validation that wait for `user`'s signature as the
    referent of a structure accompanying the person (the role `plan_sign` accepts)."""
    referent_of = TeamMembership.objects.filter(
        professional__user=user, role=TeamRole.REFERENT, ended_on__isnull=True
    ).values("structure_id")
    accompanied = Accompaniment.objects.filter(
        person=OuterRef("plan__person"), ended_on__isnull=True, structure__in=referent_of
    )
    return (
        PlanVersion.objects.filter(
            status=VersionStatus.SUBMITTED,
            plan__person__among=access.persons_in(user, Category.PPA, delegate=delegate, reach=reach),
        )
        .filter(Exists(accompanied))
        .exclude(Exists(SignOff.objects.filter(version=OuterRef("pk"), role=SignOffRole.REFERENT)))
        .select_related("plan__person")
        .order_by("submitted_at", "pk")
    )


def _reviews(user, *, delegate: bool | None = None, reach: access.Reach | None = None) -> QuerySet[PlanVersion]:
    # Those who may write the plan do the review.
    return PlanVersion.objects.filter(
        status=VersionStatus.VALIDATED,
        review_due_on__isnull=False,
        plan__person__among=access.persons_in(user, Category.PPA, "write", delegate=delegate, reach=reach),
    ).select_related("plan__person")


def reviews_soon(
    user, today: date | None = None, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[PlanVersion]:
    today = today or timezone.localdate()
    return (
        _reviews(user, delegate=delegate, reach=reach)
        .filter(review_due_on__gte=today, review_due_on__lte=today + timedelta(days=review_soon_days()))
        .order_by("review_due_on", "pk")
    )


def reviews_overdue(
    user, today: date | None = None, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[PlanVersion]:
    today = today or timezone.localdate()
    return (
        _reviews(user, delegate=delegate, reach=reach).filter(review_due_on__lt=today).order_by("review_due_on", "pk")
    )


PLAN_STATES = {
    "a-jour": "PPA à jour",
    "a-reviser": "PPA à réviser bientôt",
    "en-retard": "PPA en retard de révision",
}


def structure_plans(
    user,
    structure: Structure,
    state: str | None = None,
    today: date | None = None,
    *,
    delegate: bool | None = None,
    reach: access.Reach | None = None,
):
    """Validated versions in force for persons `structure` accompanies today and whose
    plan `user` may read; `state` one of PLAN_STATES narrows them."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=review_soon_days())
    persons = Accompaniment.objects.filter(
        structure=structure,
        ended_on__isnull=True,
        person__among=access.persons_in(user, Category.PPA, delegate=delegate, reach=reach),
    ).values("person_id")
    versions = PlanVersion.objects.filter(status=VersionStatus.VALIDATED, plan__person__in=persons)
    if state == "a-jour":
        versions = versions.filter(Q(review_due_on__isnull=True) | Q(review_due_on__gt=soon))
    elif state == "a-reviser":
        versions = versions.filter(review_due_on__gte=today, review_due_on__lte=soon)
    elif state == "en-retard":
        versions = versions.filter(review_due_on__lt=today)
    return versions.select_related("plan__person").order_by("review_due_on", "pk")


def notification_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of PPA versions `user` may still read: the
    version, its state and dates, who wrote it, an amendment's reason. One query."""
    rows = PlanVersion.objects.filter(
        pk__in=ids, plan__person__in=access.persons_visible_to(user, Category.PPA).values("pk")
    ).select_related("created_by")
    summaries = {}
    for version in rows:
        parts = [f"Version {version.number} ({version.get_status_display().lower()})"]
        if version.review_due_on:
            parts.append(f"révision prévue le {version.review_due_on:%d/%m/%Y}")
        if version.amendment_reason:
            parts.append(version.amendment_reason)
        summaries[version.pk] = Summary(
            excerpt=Truncator(" ".join(", ".join(parts).split())).words(20),
            author=version.created_by.get_full_name() or version.created_by.email,
        )
    return summaries
