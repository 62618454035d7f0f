"""Loading the SERAFIN-PH nomenclature from `reference/data/serafin-ph.json`.

Used by the data migrations (with the historical model) and by the tests that must
reload it after a transactional test emptied the tables.
"""

from __future__ import annotations

import json
from pathlib import Path

from reference.text import fold

DATA = Path(__file__).resolve().parent / "data" / "serafin-ph.json"


def load_serafin_ph(serafin_code_model) -> None:
    """Create or update every code, parents first, with its folded search text."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for kind, key in (("need", "needs"), ("service", "direct_services")):
        by_code = {}
        # A parent is always a shorter code than its children.
        for row in sorted(data[key], key=lambda r: r["code"].count(".")):
            parent = by_code[row["parent"]] if row["parent"] else None
            code, _ = serafin_code_model.objects.update_or_create(
                kind=kind,
                code=row["code"],
                defaults={
                    "label": row["display"],
                    "parent": parent,
                    "depth": row["code"].count(".") + 1,
                    "search_text": fold(f"{row['code']} {row['display']}"),
                },
            )
            by_code[row["code"]] = code
