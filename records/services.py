"""Writes of the whole-record app: asking for an export, building it, letting it be
downloaded for a limited time, deleting it afterwards."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from coordination import access
from coordination.models import Person
from coordination.services import audit
from interop.fhir import everything as everything_operation
from records import package
from records.audit_types import RecordsAudit
from records.models import ExportStatus, RecordExport

logger = logging.getLogger(__name__)

# A run that holds its row longer than this is taken to have died (the job is redone).
STALE_AFTER = timedelta(hours=2)


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

    transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def claim(export_id: int) -> bool:
    """Take the export for this run (a conditional UPDATE: one run builds it)."""
    now = timezone.now()
    return bool(
        RecordExport.objects.filter(
            Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, claimed_at__lt=now - STALE_AFTER),
            pk=export_id,
        ).update(status=ExportStatus.RUNNING, claimed_at=now, progress=0, step="Préparation")
    )


class _Progress:
    """Writes the percentage to the row when it changes (at most a hundred UPDATEs)."""

    def __init__(self, export_id: int):
        self.export_id = export_id
        self.total = 1
        self.done = 0
        self.shown = 0

    def set_total(self, total: int) -> None:
        self.total = max(total, 1)

    def step(self, label: str) -> None:
        RecordExport.objects.filter(pk=self.export_id).update(step=label)

    def item(self) -> None:
        self.done += 1
        percent = min(99, self.done * 100 // self.total)
        if percent > self.shown:
            self.shown = percent
            RecordExport.objects.filter(pk=self.export_id).update(progress=percent)


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
        message = str(error) if isinstance(error, (ValidationError, access.AccessDenied)) else ""
        with transaction.atomic():
            RecordExport.objects.filter(pk=export.pk).update(
                status=ExportStatus.FAILED, step="", error=(message or "L'export n'a pas pu être préparé.")[:300]
            )
            notify("records.export_failed", person=person, recipients=[requester], url=export_path(export))
        export.refresh_from_db()
        return export
    now = timezone.now()
    with transaction.atomic():
        RecordExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            progress=100,
            step="",
            file=export.file.name,
            size=size,
            sha256=digest.hexdigest(),
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
            sha256=digest.hexdigest(),
            resources=written.resource_count,
            files=written.file_count,
        )
        notify("records.export_ready", person=person, recipients=[requester], url=export_path(export))
    export.refresh_from_db()
    return export


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
