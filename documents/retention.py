"""What the documents block holds about a person, for the retention job
(`coordination.retention`): every document version, its file, its DMP and MSSanté rows."""

from __future__ import annotations

from django.db import transaction

from coordination.retention import RetentionKind, delete_files, register
from documents.models import DmpShare, Document, MssanteSending


def count(person) -> int:
    return Document.objects.filter(person=person).count()


@transaction.atomic
def destroy(person) -> int:
    documents = Document.objects.filter(person=person)
    files = [d.file for d in documents.only("file")]
    DmpShare.objects.filter(document__person=person).delete()
    MssanteSending.objects.filter(document__person=person).delete()
    documents.exclude(replaces=None).update(replaces=None)
    destroyed = documents.count()
    documents.delete()
    transaction.on_commit(lambda: delete_files(files))
    return destroyed


# After the projet personnalisé, whose versions point at their PDF.
register(RetentionKind("documents", "Documents", count, destroy, order=40))
