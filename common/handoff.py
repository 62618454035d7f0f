"""The one after-commit hand-off from a saved change to a background task.

The row that says what must be done (an outbox row, a validated version…) is written in
the change's transaction; queueing its task after the commit is best effort and never
raises into the request:

- broker unreachable: the error is logged with the rows' ids and the rest of the batch
  is not tried (each try would wait on the broker); the rows stay for their sweeper;
- no broker (tasks run in the web process, `CELERY_TASK_ALWAYS_EAGER`): a task that
  fails has its error recorded on its row (`record`), never propagated to the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

logger = logging.getLogger(__name__)

Recorder = Callable[[int, str], None]


def last_error_recorder(model) -> Recorder:
    """Write the error on the row's `last_error` (outbox rows, external calendars…)."""

    def record(pk: int, error: str) -> None:
        model.objects.filter(pk=pk).update(last_error=error[:1900])

    return record


def queue_now(task, ids: Iterable[int], *, record: Recorder | None = None) -> int:
    """Queue `task(pk)` for each id; returns how many were handed over. Never raises."""
    ids = list(ids)
    eager = bool(task.app.conf.task_always_eager)
    handed = 0
    for position, pk in enumerate(ids):
        try:
            task.delay(pk)
        except Exception as error:  # noqa: BLE001 — nothing may break the saved change's answer
            reason = f"{error.__class__.__name__}: {error}"
            if eager:
                logger.exception("task %s failed in-process for row %s", task.name, pk)
                if record is not None:
                    try:
                        record(pk, reason)
                    except Exception:  # noqa: BLE001
                        logger.exception("could not record the failure of %s on row %s", task.name, pk)
                continue
            left = ids[position:]
            logger.error(
                "broker unreachable: %s not queued for rows %s (left for the sweeper): %s", task.name, left, reason
            )
            break
        handed += 1
    return handed


def queue_after_commit(task, ids: Iterable[int], *, record: Recorder | None = None) -> None:
    """After the current transaction commits, `queue_now(task, ids)`; nothing if it rolls back."""
    ids = [pk for pk in ids if pk is not None]
    if ids:
        transaction.on_commit(lambda: queue_now(task, ids, record=record))
