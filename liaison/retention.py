"""What the liaison notebook holds about a person, for the retention job
(`coordination.retention`): transmissions, their corrections, attachments and files."""

from __future__ import annotations

from django.db import transaction

from coordination.retention import RetentionKind, delete_files, register
from liaison.models import Attachment, Transmission


def count(person) -> int:
    return Transmission.objects.filter(person=person).count()


@transaction.atomic
def destroy(person) -> int:
    transmissions = Transmission.objects.filter(person=person)
    attachments = Attachment.objects.filter(transmission__person=person)
    files = [f for a in attachments.only("file", "thumbnail") for f in (a.file, a.thumbnail)]
    attachments.delete()
    transmissions.exclude(corrects=None).update(corrects=None)  # the links go with the notes
    destroyed = transmissions.count()
    transmissions.delete()  # revisions, addressees, read marks cascade
    transaction.on_commit(lambda: delete_files(files))
    return destroyed


register(RetentionKind("liaison", "Cahier de liaison", count, destroy, order=20))
