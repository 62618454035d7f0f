"""Orphan files: a file in private storage that no row names (issue #25).

A service stores its file before the row that names it commits. When the change does not
commit (a refusal or a database error in an outer transaction, a worker killed between
the two), the file is left behind. `uploads.removes_files_on_failure` deletes what a
failing service stored itself; this sweeper (beat, hourly) removes the rest, safely:

- it lists only the upload folders (`FOLDERS`), with the storage's `listdir` (the file
  system and S3 alike);
- it keeps every file that a row names in a field of `STORED_FILE_FIELDS` (read through
  the base managers: no default filter hides a row), and asks again right before each
  deletion;
- it keeps every file younger than `UPLOAD_ORPHAN_GRACE_HOURS` (24 h): a change still
  under way has stored its file and not yet committed its row;
- it deletes nothing at all when a model has a file field the list does not name (a new
  field would otherwise see its files deleted): it logs an error instead;
- what it deletes is recorded: a log line with the count and the names, and an audit
  event (`orphan_files_removed`, no person, no actor) with the same.

A file that a row names is never deleted here, whatever its age. A new way of storing a
file (a field, a JSON key or a CharField holding a storage name) must be added to
`STORED_FILE_FIELDS` (tests/coordination/test_documents_orphan_files.py checks the
model fields and the callers of the storage).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

# Every field that holds a storage name, as "app_label.Model.field". Keep it complete:
# a name missing here is a file deleted after the grace period.
STORED_FILE_FIELDS: tuple[str, ...] = (
    "admission.AdmissionAttachment.file",
    "documents.Document.file",  # uploads, new versions, PPA and MDPH sheet PDFs
    "exchanges.MessageAttachment.file",
    "exchanges.MessageAttachment.thumbnail",
    "liaison.Attachment.file",
    "liaison.Attachment.thumbnail",
    "records.RecordExport.file",
)
# The folders the sweeper looks in (`uploads.store(folder=…)`, the fields' upload_to).
FOLDERS: tuple[str, ...] = ("admission", "documents", "exchanges", "exports", "liaison")
MAX_PER_RUN = 1000  # the rest waits for the next run (bounded audit row and run)


class UnlistedFileField(RuntimeError):
    pass


def file_fields_of_models() -> set[str]:
    """Every concrete FileField of every installed model, as "app_label.Model.field"."""
    found = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                found.add(f"{model._meta.label}.{field.name}")
    return found


def _fields() -> list[tuple[type[models.Model], str]]:
    unlisted = file_fields_of_models() - set(STORED_FILE_FIELDS)
    if unlisted:
        raise UnlistedFileField(", ".join(sorted(unlisted)))
    result = []
    for entry in STORED_FILE_FIELDS:
        label, field = entry.rsplit(".", 1)
        result.append((apps.get_model(label), field))
    return result


def _walk(storage, folder: str) -> Iterator[str]:
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for directory in directories:
        yield from _walk(storage, f"{folder}/{directory}")


def _named(fields, names: list[str] | None = None) -> set[str]:
    """The storage names the rows hold: all of them (one scan per field: the columns
    have no index, so asking batch by batch would scan each table once per batch), or
    those among `names`."""
    named: set[str] = set()
    for model, field in fields:
        rows = model._base_manager.exclude(**{field: ""})
        if names is not None:
            rows = rows.filter(**{f"{field}__in": names})
        named.update(rows.values_list(field, flat=True).iterator(chunk_size=5000))
    return named


def remove_orphan_files(now=None) -> list[str]:
    """Delete the old files of the upload folders that no row names; returns their names."""
    from coordination.services import audit
    from documents.audit_types import DocumentAudit

    hours = settings.UPLOAD_ORPHAN_GRACE_HOURS
    if hours <= 0:
        return []
    try:
        fields = _fields()
    except UnlistedFileField as error:
        logger.error("orphan files: nothing removed, file fields not in STORED_FILE_FIELDS: %s", error)
        return []
    storage = default_storage
    before = (now or timezone.now()) - timedelta(hours=hours)
    # Listed first, then the rows read: a file stored and named in between is named.
    listed = [name for folder in FOLDERS for name in _walk(storage, folder)]
    named = _named(fields)
    old: list[str] = []
    for name in listed:
        if name in named:
            continue
        try:
            if storage.get_modified_time(name) < before:
                old.append(name)
        except FileNotFoundError:
            continue
        except Exception:  # its age unknown (the bucket): kept
            logger.exception("orphan files: could not read the age of %s", name)
            continue
        if len(old) >= MAX_PER_RUN:
            break
    # Asked again right before the deletion: a row committed meanwhile wins.
    still_named = _named(fields, old) if old else set()
    removed: list[str] = []
    for name in old:
        if name in still_named:
            continue
        try:
            storage.delete(name)
        except Exception:  # one file's error (permissions, the bucket) does not stop the run
            logger.exception("orphan files: could not remove %s", name)
            continue
        removed.append(name)
    if removed:
        logger.warning(
            "orphan files: removed %d file(s) named by no row, older than %d h: %s",
            len(removed),
            hours,
            " ".join(removed),
        )
        audit(
            None,
            None,
            DocumentAudit.ORPHAN_FILES_REMOVED,
            count=len(removed),
            grace_hours=hours,
            names=removed,
        )
    return removed
