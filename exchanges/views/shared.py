"""What every page of the exchanges shows of a message (professionals' pages, the live
updates, the user portal)."""

from __future__ import annotations

from django.utils import timezone

from exchanges.models import Message


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}"


def _name(user) -> str:
    return user.get_full_name() or user.email


def decorate_messages(items: list[Message], user, receipts: dict | None = None) -> list[Message]:
    """What `exchanges/partials/message.html` shows, computed once per message for
    `user` (the professional pages, the live updates, the user portal); `receipts` from
    `selectors.read_receipts`."""
    now = timezone.now()
    for item in items:
        item.is_mine = item.author_id == user.pk
        item.can_edit = (
            item.is_mine and not item.is_withdrawn and not item.transmission_id and now <= item.editable_until()
        )
        item.attachment_list = list(item.attachments.all())
        item.created_iso = timezone.localtime(item.created_at).isoformat()
        item.created_label = _when(item.created_at)
        # "Vu par": the other readers; neither the viewer nor the author (who wrote it).
        item.seen_by = [u for u in (receipts or {}).get(item.pk, []) if u.pk not in (user.pk, item.author_id)]
        # Names written once here rather than through a method and a filter per use in
        # the template (a page shows 30 messages; the live updates render them too).
        item.author_name = _name(item.author)
        item.seen_by_names = ", ".join(_name(u) for u in item.seen_by)
    return items
