"""Writes of the whole-record app: asking for an export, building it, letting it be
downloaded for a limited time, deleting it afterwards."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from common import outbox
from common.handoff import queue_after_commit
from common.notify import notify
from coordination import access
from coordination.models import Person
from coordination.services import audit
from interop.fhir import everything as everything_operation
from records import package
from records.audit_types import RecordsAudit
from records.models import ExportStatus, RecordExport

logger = logging.getLogger(__name__)

# The lease of a run (RECORDS_EXPORT_LEASE_SECONDS): a running export whose claim is older
# than this is taken to have died (worker killed) and is built again by the sweeper. A
# live run renews its claim as it progresses (every HEARTBEAT_SECONDS at most).
EXPORT_LEASE_SECONDS = 600
HEARTBEAT_SECONDS = 30


def export_lease() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "RECORDS_EXPORT_LEASE_SECONDS", EXPORT_LEASE_SECONDS)))


def export_path(export: RecordExport) -> str:
    """The path the export's reads are logged under (the person's "Qui a vu mes données")."""
    return reverse("records:export_detail", args=[export.person_id, export.pk])


@transaction.atomic
def export_request(*, actor, person: Person) -> RecordExport:
    """Ask for the export of the person's whole record (the person, a legal
    representative, an administrator of an accompanying structure: anyone else is
    refused by the gate). One export at a time per requester and person: a pending one
    is returned rather than doubled. The job is queued after the commit."""
    access.require_record_export(actor, person.pk)
    pending = (
        RecordExport.objects.select_for_update()
        .filter(person=person, requested_by=actor, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
        .first()
    )
    if pending is not None:
        return pending
    export = RecordExport.objects.create(person=person, requested_by=actor)
    audit(actor, person, RecordsAudit.EXPORT_REQUESTED, export=export.pk)
    from records.tasks import build_export

    # Best effort, never raises into the request (common.handoff).
    queue_after_commit(
        build_export, [export.pk], record=lambda pk, error: RecordExport.objects.filter(pk=pk).update(error=error[:300])
    )
    return export


def _claimable(now) -> Q:
    """Queued (and due, after a failed try), or running with an expired lease."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (Q(status=ExportStatus.QUEUED) & due) | Q(status=ExportStatus.RUNNING, claimed_at__lt=now - export_lease())


def claim(export_id: int) -> bool:
    """Take the export for this run (a conditional UPDATE: one run builds it)."""
    now = timezone.now()
    return bool(
        RecordExport.objects.filter(_claimable(now), pk=export_id).update(
            status=ExportStatus.RUNNING, claimed_at=now, progress=0, step="Préparation", attempts=F("attempts") + 1
        )
    )


def exports_sweep(now=None) -> list[int]:
    """The sweeper (beat, every minute), as for the other outboxes (common.outbox):

    - an export still queued a minute after it was asked for lost its hand-off (broker
      down): it is queued again; so is one whose retry is due;
    - a running export whose lease expired (worker killed) is built again, unless it
      was already tried `outbox.MAX_ATTEMPTS` times: then it ends as failed, with its
      reason, and the requester is told (the page offers to ask again).

    Returns the ids handed to the queue."""
    from common.handoff import queue_now
    from records.tasks import build_export

    now = now or timezone.now()
    expired = Q(status=ExportStatus.RUNNING, claimed_at__lt=now - export_lease())
    exhausted = RecordExport.objects.filter(expired, attempts__gte=outbox.MAX_ATTEMPTS)
    for export in exhausted.select_related("person", "requested_by"):
        with transaction.atomic():
            ended = RecordExport.objects.filter(expired, pk=export.pk).update(
                status=ExportStatus.FAILED,
                step="",
                next_attempt_at=None,
                error=f"L'export a été interrompu {export.attempts} fois : il n'a pas pu être préparé.",
            )
            if ended:
                notify(
                    "records.export_failed",
                    person=export.person,
                    recipients=[export.requested_by],
                    url=export_path(export),
                )
    lost = Q(status=ExportStatus.QUEUED, requested_at__lt=now - timedelta(seconds=outbox.PENDING_GRACE_SECONDS))
    due = lost & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    retry = Q(status=ExportStatus.QUEUED, next_attempt_at__lte=now)
    ids = list(RecordExport.objects.filter(due | retry | expired).order_by("pk").values_list("pk", flat=True)[:500])
    queue_now(build_export, ids, record=_record_handoff_error)
    return ids


def _record_handoff_error(pk: int, error: str) -> None:
    RecordExport.objects.filter(pk=pk).update(error=error[:300])


class _Progress:
    """Writes the percentage to the row when it changes (at most a hundred UPDATEs)."""

    def __init__(self, export_id: int):
        self.export_id = export_id
        self.total = 1
        self.done = 0
        self.shown = 0
        self.beat = time.monotonic()

    def set_total(self, total: int) -> None:
        self.total = max(total, 1)

    def _renew(self, **fields) -> None:
        """Write the fields, renewing the run's lease (claimed_at) when it is due."""
        if time.monotonic() - self.beat >= HEARTBEAT_SECONDS:
            self.beat = time.monotonic()
            fields["claimed_at"] = timezone.now()
        if fields:
            RecordExport.objects.filter(pk=self.export_id, status=ExportStatus.RUNNING).update(**fields)

    def step(self, label: str) -> None:
        self._renew(step=label)

    def item(self) -> None:
        self.done += 1
        percent = min(99, self.done * 100 // self.total)
        if percent > self.shown:
            self.shown = percent
            self._renew(progress=percent)
        else:
            self._renew()


def export_build(export_id: int) -> RecordExport:
    """Build a claimed export: what the requester may read today, through the gate (a
    right withdrawn since the request is respected); the ZIP is written to a temporary
    file, then stored privately (default storage) and offered for
    `RECORDS_EXPORT_DAYS`. The requester is told when it is ready, or that it failed."""
    export = RecordExport.objects.select_related("person", "requested_by").get(pk=export_id)
    requester, person = export.requested_by, export.person
    progress = _Progress(export.pk)
    try:
        access.require_record_export(requester, person.pk)
        found = everything_operation.gather(requester, person.pk, path=export_path(export))
        with tempfile.TemporaryFile() as spool:
            written = package.write_archive(
                spool,
                found,
                requester,
                on_total=progress.set_total,
                on_step=progress.step,
                on_item=progress.item,
            )
            spool.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: spool.read(package.BLOCK), b""):
                digest.update(block)
            size = spool.tell()
            spool.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            export.file.save(f"dossier-{person.pk}-{stamp}.zip", File(spool), save=False)
    except Exception as error:  # noqa: BLE001 — any failure is the requester's to know, and logged
        logger.exception("record export %s failed", export.pk)
        refused = isinstance(error, (ValidationError, access.AccessDenied))
        if not refused and export.attempts < outbox.MAX_ATTEMPTS:
            # A passing failure (storage, database): tried again after the backoff.
            RecordExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.QUEUED,
                step="",
                progress=0,
                error=f"Essai {export.attempts} interrompu ({error.__class__.__name__}) : nouvel essai prévu."[:300],
                next_attempt_at=timezone.now() + timedelta(seconds=outbox.backoff_seconds(export.attempts)),
            )
            export.refresh_from_db()
            return export
        if refused:
            message = str(error)
        else:
            message = f"L'export n'a pas pu être préparé ({export.attempts} essais, {error.__class__.__name__})."
        with transaction.atomic():
            RecordExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED, step="", next_attempt_at=None, error=message[:300]
            )
            notify("records.export_failed", person=person, recipients=[requester], url=export_path(export))
        export.refresh_from_db()
        return export
    try:
        _mark_ready(export, found, written, size, digest.hexdigest())
    except BaseException:
        # The row does not name the archive (the database failed, the worker is stopping):
        # no orphan file; the run's lease expires and the sweeper builds it again.
        try:
            export.file.storage.delete(export.file.name)
        except Exception:  # noqa: BLE001
            logger.exception("could not delete the archive of export %s", export.pk)
        raise
    export.refresh_from_db()
    return export


def _mark_ready(export: RecordExport, found, written, size: int, sha256: str) -> None:
    requester, person = export.requested_by, export.person
    now = timezone.now()
    with transaction.atomic():
        RecordExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            error="",
            next_attempt_at=None,
            progress=100,
            step="",
            file=export.file.name,
            size=size,
            sha256=sha256,
            ready_at=now,
            expires_at=now + timedelta(days=settings.RECORDS_EXPORT_DAYS),
            categories=sorted(found.categories) + (["access_log"] if found.access_log else []),
            resource_count=written.resource_count,
            file_count=written.file_count,
        )
        audit(
            requester,
            person,
            RecordsAudit.EXPORT_READY,
            export=export.pk,
            sha256=sha256,
            resources=written.resource_count,
            files=written.file_count,
        )
        notify("records.export_ready", person=person, recipients=[requester], url=export_path(export))


def export_downloaded(*, actor, export: RecordExport) -> None:
    """Trace a download (the audit row; the reads were logged when it was built)."""
    audit(actor, export.person, RecordsAudit.EXPORT_DOWNLOADED, export=export.pk)


def exports_delete_expired(now=None) -> int:
    """Delete the files of exports past their time (the row stays, file-less, as a trace)."""
    now = now or timezone.now()
    count = 0
    for export in RecordExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now).select_related(
        "person", "requested_by"
    ):
        with transaction.atomic():
            claimed = RecordExport.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
                status=ExportStatus.EXPIRED, deleted_at=now, file=""
            )
            if not claimed:
                continue
            audit(None, export.person, RecordsAudit.EXPORT_DELETED, export=export.pk)
            name = export.file.name
            if name:
                storage = export.file.storage
                transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        count += 1
    return count
