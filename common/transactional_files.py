"""A file stored during a transaction is kept only if that transaction commits.

Storage is not transactional: a service that stores a file (an attachment, a document)
inside a transaction that is later rolled back — by itself, or by an outer block that
fails after it returned (a nested call) — would leave the file with no row naming it.
Django has `transaction.on_commit` but no counterpart for a rollback, so:

- `written(name, storage)`, called right after a file is stored inside an atomic block,
  lists the file as uncommitted on the connection and registers an on-commit hook
  (robust) that takes it off the list. A savepoint rolled back drops its hooks, and so
  does a rolled-back transaction: their files stay listed. (Django runs the hooks in
  order and stops at one that raises, unless it is robust: the portal's hooks go
  through `common.handoff`, which never raises.)
- `discard_uncommitted()`, called when a unit of work ends outside any atomic block
  (a request finished, a task ended, an outermost service call returned or raised),
  deletes the files still listed: their transaction did not commit.

A file stored outside any atomic block is the caller's (its row is written after it,
in autocommit: see `documents.uploads.removes_files_on_failure`).
"""

from __future__ import annotations

import logging

from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

_ATTRIBUTE = "_uncommitted_files"


def _listed(connection) -> dict[str, Storage]:
    listed = getattr(connection, _ATTRIBUTE, None)
    if listed is None:
        listed = {}
        setattr(connection, _ATTRIBUTE, listed)
    return listed


def written(name: str, storage: Storage, *, using: str | None = None) -> None:
    """`name` was just stored in `storage`: keep it only if the current transaction commits."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return
    listed = _listed(connection)
    listed[name] = storage

    def committed() -> None:
        listed.pop(name, None)

    transaction.on_commit(committed, using=using, robust=True)


def discard_uncommitted(*, using: str | None = None) -> list[str]:
    """Delete the files whose transaction did not commit (nothing inside an atomic
    block: the outcome is not known yet). Returns the names deleted. Never raises."""
    connection = connections[using or DEFAULT_DB_ALIAS]
    listed = getattr(connection, _ATTRIBUTE, None)
    if not listed or connection.in_atomic_block:
        return []
    deleted = []
    for name, storage in list(listed.items()):
        listed.pop(name, None)
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 — a leftover file is logged, never an error for the user
            logger.exception("could not delete %s, stored by a transaction that did not commit", name)
            continue
        logger.info("deleted %s: stored by a transaction that did not commit", name)
        deleted.append(name)
    return deleted


def discard_after_work(*args, **kwargs) -> None:
    """Signal receiver (request finished, task ended)."""
    try:
        discard_uncommitted()
    except Exception:  # noqa: BLE001 — never break the end of a request or task
        logger.exception("could not check the files of transactions that did not commit")
