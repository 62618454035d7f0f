"""The request being served, as every layer may need it (the access log's request id
and client address), without importing the web layer. Set by
`portal.middleware.RequestContextMiddleware`; None in tasks and commands."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None


_current: ContextVar[RequestContext | None] = ContextVar("portal_request_context", default=None)


def current_request_context() -> RequestContext | None:
    """The request id and client address of the request being served (None in tasks)."""
    return _current.get()


def bind(context: RequestContext) -> Token:
    return _current.set(context)


def unbind(token: Token) -> None:
    _current.reset(token)
