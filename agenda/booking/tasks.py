"""Beat tasks of the booking block: release expired holds and unanswered proposals.
Idempotent (a released event is no longer `proposed`); they take no arguments."""

from __future__ import annotations

from celery import shared_task

from agenda.booking import services as booking


@shared_task
def release_expired_holds() -> int:
    """Beat: meetings whose hold expired before every required participant accepted."""
    return booking.release_expired_holds()


@shared_task
def release_unanswered_proposals() -> int:
    """Beat: proposals to the person past their answer deadline; the proposer is told."""
    return booking.release_unanswered_proposals()
