"""Loads the SERAFIN-PH nomenclature (needs and direct services) from ppa/data."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent.parent / "reference" / "data" / "serafin-ph.json"


def load(apps, schema_editor):
    SerafinCode = apps.get_model("ppa", "SerafinCode")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for kind, key in (("need", "needs"), ("service", "direct_services")):
        by_code = {}
        # A parent is always a shorter code than its children.
        for row in sorted(data[key], key=lambda r: r["code"].count(".")):
            parent = by_code[row["parent"]] if row["parent"] else None
            code, _ = SerafinCode.objects.update_or_create(
                kind=kind, code=row["code"],
                defaults={"label": row["display"], "parent": parent, "depth": row["code"].count(".") + 1},
            )
            by_code[row["code"]] = code


class Migration(migrations.Migration):
    dependencies = [("ppa", "0001_serafin_codes")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
