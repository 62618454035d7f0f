"""The reads of the live streams (`exchanges.views.live`): cheap, repeated every second.

The gate is `selectors.visible_conversations`, the same rule as every page (the matrix,
the teams, the participant rows), asked again at each connection. The polls are one
indexed query each: the messages after the last id sent (index `message_conversation_id`),
the participants' read marks (a handful of rows of one conversation), or the reader's
unread counts (the list's own query).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from coordination import access
from coordination.models import Category
from exchanges import selectors, services
from exchanges.models import Conversation, Message, Participant


def open_conversation(user, conversation_id: int) -> Conversation:
    """The conversation if `user` may read it now, else Http404 (a stranger, a participant
    who was removed or lost the right: the stream stops). Not logged: see log_delivery."""
    conversation = (
        selectors.visible_conversations(user)
        .select_related("person", "structure", "professional", "created_by")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404
    return conversation


def still_readable(user, conversation: Conversation) -> bool:
    """Whether `user` may still read it (the same rule as `open_conversation`), asked
    inside a stream before each delivery only (an idle poll does not pay for it)."""
    return selectors.visible_conversations(user).filter(pk=conversation.pk).exists()


def last_message_id(conversation: Conversation) -> int:
    return Message.objects.filter(conversation=conversation).order_by("-pk").values_list("pk", flat=True).first() or 0


def messages_after(conversation: Conversation, after_id: int, limit: int) -> list[Message]:
    return selectors.messages_after(conversation, after_id, limit=limit)


def log_delivery(user, conversation: Conversation, *, path: str) -> None:
    """The stream showed messages of a person's conversation: one access-log row, as a page."""
    person = conversation.person
    if person is not None:
        via = access.check(user, person, Category.EXCHANGES, "read")
        if via is not None:
            access.log(user, person, Category.EXCHANGES, "read", via, path=path)


def mark_read(user, conversation: Conversation, message: Message) -> None:
    services.conversation_mark_read(actor=user, conversation=conversation, up_to=message)


def read_marks(conversation: Conversation, viewer) -> dict[int, int | None]:
    """user id -> the last message they read, for the other participants (the viewer's
    own receipts are never shown to them). One query on a few rows."""
    return dict(
        Participant.objects.filter(conversation=conversation, removed_at__isnull=True)
        .exclude(user=viewer)
        .values_list("user_id", "last_read_message_id")
    )


def recent_changes(conversation: Conversation) -> dict[int, tuple]:
    """message id -> (edited, withdrawn) of the messages still within the grace period: the
    only ones that can still change. One query on the index (conversation, created_at)."""
    since = timezone.now() - timedelta(minutes=settings.EXCHANGES_GRACE_MINUTES + 1)
    rows = Message.objects.filter(conversation=conversation, created_at__gte=since).values_list(
        "pk", "edited_at", "withdrawn_at"
    )
    return {pk: (edited, withdrawn) for pk, edited, withdrawn in rows}


def changed_messages(old_marks: dict, new_marks: dict, old_recent: dict, new_recent: dict) -> set[int]:
    """The messages to render again: those that gained or lost a reader's last-read mark,
    and those edited or withdrawn since the last look."""
    changed: set[int] = set()
    for user_id in old_marks.keys() | new_marks.keys():
        before, after = old_marks.get(user_id), new_marks.get(user_id)
        if before != after:
            changed.update(pk for pk in (before, after) if pk)
    changed.update(pk for pk, state in new_recent.items() if pk in old_recent and old_recent[pk] != state)
    return changed


def messages_by_id(conversation: Conversation, ids: set[int]) -> list[Message]:
    if not ids:
        return []
    # The page's own prefetching (author, attachments), on these ids only.
    return list(selectors._with_details(Message.objects.filter(conversation=conversation, pk__in=ids)).order_by("pk"))


def unread_counts(user) -> dict[int, int]:
    """conversation id -> messages waiting for `user` (the list's own rule and query)."""
    rows = selectors.my_conversations(user).values_list("pk", "unread")  # type: ignore[misc]  # an annotation
    return dict(rows)
