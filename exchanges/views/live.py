"""Live updates of the exchanges by Server-Sent Events (static/js/exchanges-live.js).

Two streams, both plain GET requests answered with `text/event-stream`:

- one conversation (`conversation_stream`): its new messages, rendered by the same partial
  as the page (`exchanges/partials/message.html`), and its read receipts ("Lu par …");
- the user's conversations (`unread_stream`): the unread count of each, for the lists.

Each stream is BOUNDED: it ends after `EXCHANGES_STREAM_SECONDS` (25 s by default, under
gunicorn's 30 s timeout and the proxy's 35 s read timeout) and the browser's EventSource
reconnects by itself, sending the last message id it received (Last-Event-ID). So:

- the gate is asked again at every connection: a participant who lost the right, or was
  removed, gets a 404 from the next one, and the browser stops; within a stream, the same
  rule is asked again before anything is sent, and a stream whose reader lost the right
  ends without sending it;
- a web worker is never held longer than one bounded request (README, "Exchanges": which
  gunicorn worker class to run them on);
- inside a stream the database is polled every `EXCHANGES_POLL_SECONDS` with one indexed
  query (`message_conversation_id`: conversation = %s AND id > %s) and one on the
  conversation's participants for the receipts: a few rows, no lock, no cache.

What is logged: the connection's gate decision is not written to the access log (the
page that opened the stream was, and a reconnection every 25 s would bury the person's
log under identical rows); a stream that delivers messages of a person's conversation
writes one access-log row for that delivery, like a page showing them. Messages shown by
the stream count as read by the viewer (their page is open), as the page does.

`EXCHANGES_STREAM_SECONDS=0` turns live updates off: the streams answer 204, which tells
EventSource not to reconnect; the pages' "Actualiser" link still works.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from common.request_context import bind, current_request_context, unbind
from exchanges import selectors, streams
from exchanges.views.shared import decorate_messages as decorate

logger = logging.getLogger(__name__)

# The browser waits this long before reconnecting after a stream ends.
RETRY_MS = 1000
# At most this many messages per event batch (a reconnection after a long pause gets the
# rest on its next poll, a second later).
BATCH = 50
# The unread counts of the lists are counted again every this many polls.
UNREAD_EVERY = 3


def _event(kind: str, data: str, event_id: int | None = None) -> str:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # A data field cannot hold a newline: one `data:` line per line, joined by the browser.
    lines.extend(f"data: {line}" for line in (data.splitlines() or [""]))
    return "\n".join(lines) + "\n\n"


def _last_event_id(request: HttpRequest) -> int | None:
    """The last message id the browser received (Last-Event-ID on a reconnection), or the
    page's own (`?apres=`, the last message it rendered). Anything else: None."""
    for raw in (request.headers.get("Last-Event-ID", ""), request.GET.get("apres", "")):
        raw = raw.strip()
        # ASCII digits only: str.isdigit() also takes "²" or "٣", which int() refuses.
        if raw.isascii() and raw.isdigit() and len(raw) < 19:
            return int(raw)
    return None


def _streaming(events: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    # nginx must pass each event on at once (deploy/nginx.conf.example buffers nothing anyway).
    response["X-Accel-Buffering"] = "no"
    return response


def _off() -> HttpResponse | None:
    return HttpResponse(status=204) if settings.EXCHANGES_STREAM_SECONDS <= 0 else None


class Refused(Exception):
    """The reader may no longer read the conversation: the stream ends at once, and the
    reconnection that follows is refused by the gate (404)."""


def _bounded(request: HttpRequest, tick) -> Iterator[str]:
    """Run `tick()` (which yields events) every poll interval until the bound, in the
    request's context (its request id on the access-log rows), then say `end`. The
    stream never outlives `EXCHANGES_STREAM_SECONDS` by more than one poll's work: the
    last wait is cut to the time left."""
    context = current_request_context()
    deadline = time.monotonic() + settings.EXCHANGES_STREAM_SECONDS
    token = bind(context) if context is not None else None
    try:
        yield f"retry: {RETRY_MS}\n\n"
        while True:
            try:
                yield from tick()
            except Refused:
                return
            except DatabaseError:
                # The browser reconnects in a second; the next stream starts afresh.
                logger.warning("exchanges stream: database error, stream ended", exc_info=True)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(settings.EXCHANGES_POLL_SECONDS, left))
        yield _event("end", "")
    finally:
        if token is not None:
            unbind(token)


def _render(request: HttpRequest, conversation, items, receipts, can_file: bool) -> list[tuple[int, str]]:
    """(id, HTML) of each message, by the page's own partial and decoration."""
    decorate(items, request.user, receipts)
    context = {"conversation": conversation, "can_write": True, "can_file": can_file}
    return [
        (m.pk, render_to_string("exchanges/partials/message.html", {**context, "m": m}, request=request)) for m in items
    ]


@login_required
@require_GET
def conversation_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """New messages of one conversation while its page is open (`message`), and the
    messages shown whose read receipts changed or which were edited or withdrawn during
    the grace period (`update`)."""
    off = _off()
    if off is not None:
        return off
    # The gate, at each connection: 404 for a stranger, a removed participant or one who
    # lost the right. EventSource stops on it.
    conversation = streams.open_conversation(request.user, pk)
    can_file = selectors.may_file_to_liaison(request.user, conversation)
    after = _last_event_id(request)
    state: dict = {
        "after": streams.last_message_id(conversation) if after is None else after,
        "marks": streams.read_marks(conversation, request.user),
        "recent": streams.recent_changes(conversation),
        "logged": False,
    }

    def tick() -> Iterator[str]:
        new = streams.messages_after(conversation, state["after"], BATCH)
        marks = streams.read_marks(conversation, request.user)
        recent = streams.recent_changes(conversation)
        changed = streams.changed_messages(state["marks"], marks, state["recent"], recent) - {m.pk for m in new}
        changed = {pk for pk in changed if pk <= state["after"]}
        if not new and not changed:
            return
        # Before anything is sent, the rule again (the matrix, the teams, the participant
        # rows): one who lost the right or left during the stream gets nothing more.
        if not streams.still_readable(request.user, conversation):
            raise Refused
        if not state["logged"]:
            streams.log_delivery(request.user, conversation, path=request.path)
            state["logged"] = True
        if new:
            state["after"] = new[-1].pk
            streams.mark_read(request.user, conversation, new[-1])
        receipts = selectors.read_receipts(list(selectors.participants(conversation)))
        updated = streams.messages_by_id(conversation, changed)
        for _id, html in _render(request, conversation, updated, receipts, can_file):
            yield _event("update", html)
        for message_id, html in _render(request, conversation, new, receipts, can_file):
            yield _event("message", html, message_id)
        state["marks"], state["recent"] = marks, recent

    return _streaming(_bounded(request, tick))


@login_required
@require_GET
def unread_stream(request: HttpRequest) -> HttpResponse:
    """The unread count of each of the user's conversations, when it changes."""
    off = _off()
    if off is not None:
        return off
    state: dict = {"counts": None, "ticks": 0}

    def tick() -> Iterator[str]:
        # The list's query is heavier than a conversation's poll: every few ticks only.
        state["ticks"] += 1
        if (state["ticks"] - 1) % UNREAD_EVERY:
            return
        counts = streams.unread_counts(request.user)
        if counts != state["counts"]:
            state["counts"] = counts
            payload = {"conversations": {str(pk): n for pk, n in counts.items()}, "total": sum(counts.values())}
            yield _event("unread", json.dumps(payload))

    return _streaming(_bounded(request, tick))
