"""Orphan files (issue #25, "storage write fails"): a file stored for a change that did not
commit is deleted by the hourly sweeper once older than the grace period; a file that a
row names is never deleted, whatever its age (documents.orphans)."""

from __future__ import annotations

import logging
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from admission.models import AdmissionAttachment, AdmissionRequest
from coordination.models import AuditEvent
from documents import orphans
from documents import services as document_services
from documents.models import Document
from documents.tasks import remove_orphan_files
from exchanges import services as exchanges_services
from exchanges.models import ConversationKind, Message, MessageAttachment
from liaison import services as liaison_services
from liaison.models import Attachment
from records.models import RecordExport
from tests.coordination.documents_helpers import PDF_BYTES, pdf_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")

ROOT = Path(__file__).resolve().parents[2]
OLD = 30 * 24 * 3600  # a month


def _stored(documents_media, name: str, *, age: int = OLD) -> str:
    """A file in private storage, `age` seconds old."""
    saved = default_storage.save(name, ContentFile(PDF_BYTES))
    path = documents_media / saved
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return saved


def _transmission(nurse, person):
    return liaison_services.transmission_create(actor=nurse, person=person, category="observations", text="Voir.")


def _message(referent, nurse, person) -> Message:
    conversation = exchanges_services.conversation_start(
        actor=referent,
        kind=ConversationKind.PERSON,
        person=person,
        subject="Retour",
        participants=[nurse],
        body="Jeanne rentre jeudi.",
    )
    return conversation.messages.get()


def _file_row(kind: str, name: str, *, person, referent, nurse, carer):
    """A row of `kind` (an entry of STORED_FILE_FIELDS) naming `name` in that field."""
    common = {"content_type": "application/pdf", "size": len(PDF_BYTES), "sha256": "0" * 64}
    if kind == "documents.Document.file":
        return Document.objects.create(
            person=person, doc_type="compte_rendu", title="CR", author=referent, source="professional",
            file=name, original_name="cr.pdf", **common,
        )  # fmt: skip
    if kind.startswith("liaison.Attachment."):
        field = kind.rsplit(".", 1)[1]
        other = {"file": "liaison/autre.pdf"} if field == "thumbnail" else {}
        return Attachment.objects.create(
            transmission=_transmission(nurse, person), uploaded_by=nurse, original_name="cr.pdf",
            **{field: name, **other}, **common,
        )  # fmt: skip
    if kind.startswith("exchanges.MessageAttachment."):
        field = kind.rsplit(".", 1)[1]
        other = {"file": "exchanges/autre.pdf"} if field == "thumbnail" else {}
        return MessageAttachment.objects.create(
            message=_message(referent, nurse, person), original_name="cr.pdf", **{field: name, **other}, **common
        )
    if kind == "admission.AdmissionAttachment.file":
        request = AdmissionRequest.objects.create(
            person=person, created_by=carer, requester_kind="carer", message="Demande."
        )
        return AdmissionAttachment.objects.create(
            request=request, title="Notification MDPH", file=name, uploaded_by=carer, **common
        )
    if kind == "records.RecordExport.file":
        return RecordExport.objects.create(person=person, requested_by=referent, file=name)
    raise AssertionError(f"no row maker for {kind}: add one here")


FOLDER_OF = {
    "admission.AdmissionAttachment.file": "admission/2026/01",
    "documents.Document.file": "documents/2026/01",
    "exchanges.MessageAttachment.file": "exchanges/2026/01",
    "exchanges.MessageAttachment.thumbnail": "exchanges/thumbnails/2026/01",
    "liaison.Attachment.file": "liaison/2026/01",
    "liaison.Attachment.thumbnail": "liaison/thumbnails/2026/01",
    "records.RecordExport.file": "exports/2026/01",
}


def test_every_model_field_that_stores_a_file_is_in_the_sweepers_list():
    # A new FileField missing from the list would see its files deleted as orphans.
    missing = orphans.file_fields_of_models() - set(orphans.STORED_FILE_FIELDS)
    assert not missing, f"add {sorted(missing)} to documents.orphans.STORED_FILE_FIELDS"
    for entry in orphans.STORED_FILE_FIELDS:
        label, name = entry.rsplit(".", 1)
        field = apps.get_model(label)._meta.get_field(name)
        assert isinstance(field, models.CharField | models.FileField), entry
    # Each listed field is under a swept folder, and the tests below make a row of each.
    assert set(FOLDER_OF) == set(orphans.STORED_FILE_FIELDS)
    assert {folder.split("/")[0] for folder in FOLDER_OF.values()} == set(orphans.FOLDERS)


# The modules that write to the storage, and the fields their names end in. A new caller
# (a CharField or JSON key holding a storage name) must be added to STORED_FILE_FIELDS
# first, then here.
STORAGE_WRITERS = {
    "admission/services.py": "admission.AdmissionAttachment.file",
    "documents/services.py": "documents.Document.file",
    "documents/uploads.py": "the helpers themselves",
    "exchanges/services.py": "exchanges.MessageAttachment.file/thumbnail",
    "liaison/services.py": "liaison.Attachment.file/thumbnail",
    "records/services.py": "records.RecordExport.file",
    "portal/management/commands/restore.py": "restores files under the names the rows keep",
    "portal/management/commands/storage_migrate.py": "copies files under the names the rows keep",
}
WRITES = re.compile(
    r"\b(store|store_checked)\(|default_storage\.save\(|storage\.save\(|\.file\.save\(|\bdestination\.save\("
)


def test_every_module_that_writes_to_the_storage_is_known_to_the_sweeper():
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/", "deploy/")) or "/migrations/" in relative:
            continue
        if WRITES.search(path.read_text(encoding="utf-8")) and relative != "documents/orphans.py":
            found.add(relative)
    assert found == set(STORAGE_WRITERS), "a new writer: name its field in documents.orphans.STORED_FILE_FIELDS"


def test_a_file_named_by_a_row_of_each_kind_is_never_deleted_even_when_old(
    db, person, referent, nurse, carer, documents_media, caplog
):
    kept = {}
    for kind, folder in FOLDER_OF.items():
        name = _stored(documents_media, f"{folder}/{kind.replace('.', '-').lower()}.pdf")
        _file_row(kind, name, person=person, referent=referent, nurse=nurse, carer=carer)
        kept[kind] = name
    orphan = _stored(documents_media, "documents/2026/01/orphelin.pdf")

    with caplog.at_level(logging.WARNING, logger="documents.orphans"):
        assert remove_orphan_files.delay().get() == 1

    for kind, name in kept.items():
        assert default_storage.exists(name), kind
    assert not default_storage.exists(orphan)
    event = AuditEvent.objects.get(event_type="orphan_files_removed")
    assert event.person is None and event.actor is None
    assert event.data == {"count": 1, "grace_hours": 24, "names": [orphan]}
    assert "removed 1 file(s)" in caplog.text and orphan in caplog.text


def test_a_young_unnamed_file_is_kept(db, documents_media):
    young = _stored(documents_media, "liaison/2026/12/en-cours.pdf", age=23 * 3600)
    assert orphans.remove_orphan_files() == []
    assert default_storage.exists(young)
    assert not AuditEvent.objects.filter(event_type="orphan_files_removed").exists()


def test_a_file_outside_the_upload_folders_is_never_touched(db, documents_media):
    other = _stored(documents_media, "sauvegardes/2026/01/archive.pdf")
    assert orphans.remove_orphan_files() == []
    assert default_storage.exists(other)


def test_nothing_is_deleted_while_a_file_field_is_missing_from_the_list(db, documents_media, monkeypatch, caplog):
    orphan = _stored(documents_media, "documents/2026/01/orphelin.pdf")
    monkeypatch.setattr(orphans, "STORED_FILE_FIELDS", orphans.STORED_FILE_FIELDS[1:])
    with caplog.at_level(logging.ERROR, logger="documents.orphans"):
        assert orphans.remove_orphan_files() == []
    assert default_storage.exists(orphan)
    assert "admission.AdmissionAttachment.file" in caplog.text


def test_the_file_of_a_nested_upload_whose_outer_change_failed_is_removed_after_the_grace_period(
    db, person, referent, documents_media
):
    committed = document_services.document_create(
        actor=referent, person=person, doc_type="compte_rendu", title="Gardé", upload=pdf_file()
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        document_services.document_create(
            actor=referent, person=person, doc_type="compte_rendu", title="Annulé", upload=pdf_file()
        )
        raise RuntimeError("the outer change fails after the file was stored")
    assert list(Document.objects.values_list("title", flat=True)) == ["Gardé"]
    files = sorted(p.relative_to(documents_media).as_posix() for p in documents_media.rglob("*") if p.is_file())
    assert len(files) == 2  # the failed change's file is left behind: the gap the sweeper closes

    assert orphans.remove_orphan_files() == []  # young: a change may still be under way
    (left,) = orphans.remove_orphan_files(now=timezone.now() + timedelta(hours=25))
    assert left != committed.file.name and left in files
    assert default_storage.exists(committed.file.name) and not default_storage.exists(left)


def test_the_sweeper_can_be_turned_off(db, documents_media, settings):
    settings.UPLOAD_ORPHAN_GRACE_HOURS = 0
    orphan = _stored(documents_media, "documents/2026/01/orphelin.pdf")
    assert orphans.remove_orphan_files() == []
    assert default_storage.exists(orphan)


def test_beat_runs_the_sweeper_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["documents-orphan-files"]
    assert entry["task"] == "documents.tasks.remove_orphan_files" and entry["schedule"] == 3600
