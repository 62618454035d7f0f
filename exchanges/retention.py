"""What the exchanges hold about a person, for the retention job
(`coordination.retention`): the conversations about the person, their messages,
revisions, attachments and files. Destroyed before the liaison notebook (a message
may point to the transmission made from it)."""

from __future__ import annotations

from django.db import transaction

from coordination.retention import RetentionKind, delete_files, register
from exchanges.models import Conversation, Message, MessageAttachment, Participant


def count(person) -> int:
    return Message.objects.filter(conversation__person=person).count()


@transaction.atomic
def destroy(person) -> int:
    conversations = Conversation.objects.filter(person=person)
    messages = Message.objects.filter(conversation__person=person)
    attachments = MessageAttachment.objects.filter(message__conversation__person=person)
    files = [f for a in attachments.only("file", "thumbnail") for f in (a.file, a.thumbnail)]
    attachments.delete()
    destroyed = messages.count()
    Participant.objects.filter(conversation__person=person).update(last_read_message=None)
    messages.delete()  # revisions and mentions cascade
    conversations.delete()  # participants cascade
    transaction.on_commit(lambda: delete_files(files))
    return destroyed


register(RetentionKind("exchanges", "Échanges", count, destroy, order=15))
