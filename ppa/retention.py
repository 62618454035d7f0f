"""What the projet personnalisé holds about a person, for the retention job
(`coordination.retention`): the plan, every version with its sections and sign-offs."""

from __future__ import annotations

from django.db import transaction

from coordination.retention import RetentionKind, register
from ppa.models import Plan, PlanVersion, SignOff


def count(person) -> int:
    return PlanVersion.objects.filter(plan__person=person).count()


@transaction.atomic
def destroy(person) -> int:
    versions = PlanVersion.objects.filter(plan__person=person)
    SignOff.objects.filter(version__plan__person=person).delete()
    versions.exclude(based_on=None).update(based_on=None)
    destroyed = versions.count()
    versions.delete()  # needs, objectives, actions, contributions, reminders cascade
    Plan.objects.filter(person=person).delete()
    return destroyed


register(RetentionKind("ppa", "Projet personnalisé", count, destroy, order=30))
