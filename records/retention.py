"""The retention job: archive the records whose coordination has ended, destroy each
kind of data when its period is over (`coordination.retention`, each block's handler),
unless an administrator put the record on legal hold. `run(dry_run=True)` only says
what would happen (`manage.py retention --dry-run`).

- A coordination has ended when the person has had accompaniments and none is running;
  it ended on the last one's end date.
- Archived: read-only (the gate refuses every write), out of the lists
  (`persons_visible_to`); the person keeps her portal.
- Destroyed: the kind's rows and files are gone; a `RecordDestruction` row says which
  kind, when, by which rule and how many items, and nothing of the content. The
  identity goes last, once every other kind is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from coordination import retention
from coordination.models import Person, RecordDestruction
from coordination.services import audit
from records.audit_types import RecordsAudit

IDENTITY = "identity"


@dataclass
class Step:
    action: str  # "archive", "destroy" or "hold"
    person: Person
    ended_on: date
    kind: retention.RetentionKind | None = None
    items: int = 0

    def describe(self) -> str:
        who = f"personne n° {self.person.pk}"
        if self.action == "archive":
            return f"archiver : {who} (coordination terminée le {self.ended_on:%d/%m/%Y})"
        if self.action == "hold":
            return f"gel juridique : {who}, rien n'est détruit ({self.person.legal_hold_reason or 'sans motif'})"
        label, rule = (self.kind.label, retention.rule(self.kind.key)) if self.kind else ("", "")
        return f"détruire : {who}, {label} ({self.items} élément(s), règle {rule})"


def ended_coordinations():
    """Persons not yet destroyed whose accompaniments have all ended, with the last end date."""
    return (
        Person.objects.filter(destroyed_at__isnull=True, accompaniments__isnull=False)
        .exclude(accompaniments__ended_on__isnull=True)
        .annotate(ended_on=Max("accompaniments__ended_on"))
        .order_by("pk")
    )


def plan(today: date | None = None) -> list[Step]:
    today = today or timezone.localdate()
    steps: list[Step] = []
    for person in ended_coordinations().iterator(chunk_size=500):
        ended_on = person.ended_on
        if person.archived_at is None:
            steps.append(Step("archive", person, ended_on))
        due = [k for k in retention.kinds() if k.key != IDENTITY and ended_on + retention.period(k.key) <= today]
        held = [(k, n) for k in due if (n := k.count(person))]
        if person.legal_hold:
            if held:
                steps.append(Step("hold", person, ended_on))
            continue
        for kind, items in held:
            steps.append(Step("destroy", person, ended_on, kind, items))
        remaining = [k for k in retention.kinds() if k.key != IDENTITY and k not in due and k.count(person)]
        identity = next((k for k in retention.kinds() if k.key == IDENTITY), None)
        if identity is not None and not remaining and ended_on + retention.period(IDENTITY) <= today:
            steps.append(Step("destroy", person, ended_on, identity, identity.count(person)))
    return steps


def _archive(step: Step, now) -> None:
    with transaction.atomic():
        if Person.objects.filter(pk=step.person.pk, archived_at__isnull=True).update(archived_at=now):
            audit(None, step.person, RecordsAudit.RECORD_ARCHIVED, ended_on=step.ended_on.isoformat())


def _destroy(step: Step, now) -> None:
    if step.kind is None:
        return
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=step.person.pk)
        if person.legal_hold or person.destroyed_at is not None:
            return  # a hold set since the plan was made wins
        items = step.kind.destroy(person)
        RecordDestruction.objects.create(
            person=person,
            kind=step.kind.key,
            label=step.kind.label,
            destroyed_at=now,
            coordination_ended_on=step.ended_on,
            rule=retention.rule(step.kind.key),
            items=items,
        )
        audit(
            None,
            person,
            RecordsAudit.RECORD_DESTROYED,
            kind=step.kind.key,
            rule=retention.rule(step.kind.key),
            items=items,
        )


def run(*, today: date | None = None, dry_run: bool = False) -> list[Step]:
    """Plan, then (unless `dry_run`) archive and destroy. Safe to run twice: an archived
    record is not archived again, a destroyed kind has nothing left to count."""
    steps = plan(today)
    if dry_run:
        return steps
    now = timezone.now()
    for step in steps:
        if step.action == "archive":
            _archive(step, now)
        elif step.action == "destroy":
            _destroy(step, now)
    return steps


# --- This app's own kind: the exports' archives --------------------------------------------------


def _exports_count(person) -> int:
    from records.models import RecordExport

    return RecordExport.objects.filter(person=person).count()


def _exports_destroy(person) -> int:
    from records.models import RecordExport

    exports = RecordExport.objects.filter(person=person)
    files = [e.file for e in exports.only("file")]
    destroyed = exports.count()
    exports.delete()
    transaction.on_commit(lambda: retention.delete_files(files))
    return destroyed


retention.register(retention.RetentionKind("exports", "Exports du dossier", _exports_count, _exports_destroy, order=10))
