"""Text folding for accent-insensitive search (the SERAFIN-PH labels are few: a folded
copy is stored, so the search works the same on PostgreSQL and SQLite)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case, without accents or ligatures: « Prévention » → « prevention »."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
