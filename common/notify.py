"""The notification contract every app uses, the kernel included.

Each app declares its notification types where it lives (its `notification_types.py`,
imported by its `AppConfig.ready`) with `register_block` and `register`; any code then
tells people that something happened with

    notify("liaison.transmission_shared", person=person, actor=user, url=...)

The engine that records notifications and queues their sendings is the
`notifications` app, which plugs itself in at start-up (`set_engine`): the kernel and
the blocks depend on this contract, not on the engine (the layering of
docs/architecture.md). Messages are generic sentences: no person's name, no health detail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from django.db import models
from django.db.models import QuerySet


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "Au fil de l'eau"
    DAILY = "daily", "Résumé quotidien"
    WEEKLY = "weekly", "Résumé hebdomadaire"
    NEVER = "never", "Jamais"


# default_recipients(person) -> a queryset of users (the gate still filters them).
Recipients = Callable[[Any], QuerySet]


@dataclass(frozen=True)
class Summary:
    """What the notification centre may say of a notification's subject (a transmission,
    an event…), for a reader who may still see it: shown in the portal only, never sent."""

    excerpt: str = ""  # the first words
    author: str = ""  # who wrote it
    kind: str = ""  # a finer kind than the type's label ("Demande d'accusé de réception")
    # For a notification about no person (a meeting, a request received by a structure):
    # the person the summary names, read through a scoped access, logged as `via`.
    person: Any = None
    via: str = ""


# describe(user, subject ids) -> {subject id: Summary} for the subjects `user` may still
# read (through the gate); a subject left out is shown with the type's message only. It is
# asked for notifications about a person the user may still see, and for notifications
# about no person (the describe then decides alone who may read its subject).
Describe = Callable[[Any, list[int]], dict[int, Summary]]


@dataclass(frozen=True)
class NotificationType:
    key: str
    block: str
    label: str  # what the preferences page calls it
    message: str  # what the user is told: generic, no personal or health detail
    category: str | None  # the matrix category the recipients must be allowed to read
    default_recipients: Recipients | None = None  # None: the caller names them
    mutable: bool = True  # security notices cannot be muted
    default_frequency: str = Frequency.IMMEDIATE
    default_channels: frozenset[str] = field(default_factory=lambda: frozenset({"in_app", "email"}))
    # The notification centre: "3 nouvelles transmissions" (`plural`) and the subject's summary.
    plural: str = ""
    describe: Describe | None = field(default=None, compare=False)


_BLOCKS: dict[str, tuple[int, str]] = {}
_TYPES: dict[str, NotificationType] = {}


def register_block(key: str, label: str, *, position: int) -> None:
    """A family of notification types, as the preferences page and the filters group them."""
    _BLOCKS[key] = (position, label)


def register(*types: NotificationType) -> None:
    for kind in types:
        if kind.block not in _BLOCKS:
            raise ValueError(f"{kind.key}: register the block {kind.block!r} first")
        existing = _TYPES.get(kind.key)
        if existing is not None and existing != kind:
            raise ValueError(f"notification type {kind.key!r} registered twice")
        _TYPES[kind.key] = kind


def catalogue() -> Mapping[str, NotificationType]:
    """Every registered type, by key, in registration order."""
    return MappingProxyType(_TYPES)


def blocks() -> dict[str, str]:
    """Block key -> label, in display order."""
    return {key: label for key, (_position, label) in sorted(_BLOCKS.items(), key=lambda item: item[1][0])}


class Engine(Protocol):
    def __call__(
        self,
        event_type: str,
        *,
        person: Any,
        actor: Any = None,
        url: str | None = None,
        url_for: Callable[[Any], str] | None = None,
        recipients: Iterable | QuerySet | None = None,
        subject: Any = None,
    ) -> list: ...


_engine: Engine | None = None


def set_engine(engine: Engine) -> None:
    global _engine
    _engine = engine


def notify(
    event_type: str,
    *,
    person: Any,
    actor: Any = None,
    url: str | None = None,
    url_for: Callable[[Any], str] | None = None,
    recipients: Iterable | QuerySet | None = None,
    subject: Any = None,
) -> list:
    """Tell the people concerned that something happened (see `notifications.services`).
    `subject` (a model instance or id of the type's block) lets the notification centre
    summarise it for readers who may still see it (`NotificationType.describe`).

    Call it inside the transaction that makes the change: the notifications are part of
    it, and their sendings leave after the commit.
    """
    if event_type not in _TYPES:
        raise KeyError(f"unknown notification type {event_type!r}")
    if _engine is None:
        raise RuntimeError("no notification engine: is the notifications app installed?")
    return _engine(
        event_type, person=person, actor=actor, url=url, url_for=url_for, recipients=recipients, subject=subject
    )
