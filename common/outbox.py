"""What the outboxes share: how long to wait before trying again, and when to stop."""

from __future__ import annotations

MAX_ATTEMPTS = 6


def backoff_seconds(attempts: int) -> int:
    """1 min, 2, 4, 8, 16… capped at one hour."""
    return min(60 * 2 ** max(attempts - 1, 0), 3600)
