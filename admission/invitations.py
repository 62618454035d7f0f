"""Invitations to the user portal sent from the admission page.

The portal (on top of the layers) owns invitations; it plugs its sender in at start-up
(`set_sender`, in `portal.apps`), as the notification engine does, so this block never
imports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_sender: Callable[..., Any] | None = None


def set_sender(sender: Callable[..., Any]) -> None:
    global _sender
    _sender = sender


def invite(*, actor, person, email: str, relationship: str = "") -> None:
    """Send an invitation (the sender checks the gate: `circle` write on the person)."""
    if _sender is None:
        raise RuntimeError("no invitation sender: is the portal app installed?")
    _sender(actor=actor, person=person, email=email, relationship=relationship)
