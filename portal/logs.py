"""Logs a machine can read: JSON lines (python-json-logger) carrying the request id, the
user id, and for background tasks the task id and the id of the request that queued them.

- `ContextFilter` (on the console handler) adds `request_id`, `user_id` and `task_id` to
  every record, from the request being served or the task being run;
- `RequestLogMiddleware` writes one line per request: method, path (never the query
  string, which may hold a searched name), status, duration;
- the Celery signals carry the request id in the task message's headers
  (`portal_request_id`) and write one line per task run.

Only ids go into these fields: never a name, an e-mail address or a text typed by a user.
`LOG_FORMAT=json|text` (README, "Configuration"); text under DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from celery import signals
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from common.request_context import current_request_context

REQUEST_ID_HEADER = "portal_request_id"
request_logger = logging.getLogger("portal.request")
task_logger = logging.getLogger("portal.task")


@dataclass(frozen=True)
class TaskContext:
    task_id: str
    request_id: str | None


_request: ContextVar[HttpRequest | None] = ContextVar("portal_log_request", default=None)
_task: ContextVar[TaskContext | None] = ContextVar("portal_log_task", default=None)


def current_request_id() -> str | None:
    """The request being served, or the one that queued the task being run."""
    context = current_request_context()
    if context is not None:
        return context.request_id
    task = _task.get()
    return task.request_id if task else None


def _user_id(request: HttpRequest | None) -> int | None:
    # Only a user already loaded by the authentication middleware: a log line never
    # triggers a query.
    user = getattr(request, "_cached_user", None) if request is not None else None
    return user.pk if user is not None and user.is_authenticated else None


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        task = _task.get()
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "user_id"):
            record.user_id = _user_id(_request.get())
        if not hasattr(record, "task_id"):
            record.task_id = task.task_id if task else None
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, then
    the context fields and any `extra`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)


class TextFormatter(logging.Formatter):
    def __init__(self, *args, **kwargs):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        return super().format(record)


class RequestLogMiddleware:
    """One line per request, after the response (placed right after the request context)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        token = _request.set(request)
        try:
            response = self.get_response(request)
            request_logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request.reset(token)


# --- Celery ----------------------------------------------------------------------------------


@signals.before_task_publish.connect
def _add_request_id(headers=None, **kwargs):
    request_id = current_request_id()
    if headers is not None and request_id and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


_started: dict[str, float] = {}


@signals.task_prerun.connect
def _bind_task(task_id=None, task=None, **kwargs):
    queued_by = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if queued_by is None:
        # Run in-process (no broker): within the request that asked for it.
        queued_by = current_request_id()
    task.request.portal_log_token = _task.set(TaskContext(task_id=task_id, request_id=queued_by))
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _unbind_task(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    task_logger.info(
        "task",
        extra={
            "task": getattr(task, "name", None),
            "state": state,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        },
    )
    token = getattr(task.request, "portal_log_token", None) if task is not None else None
    if token is not None:
        try:
            _task.reset(token)
        except ValueError:  # reset from another context: leave it
            _task.set(None)
