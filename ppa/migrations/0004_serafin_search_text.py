"""Fills the folded search text of the SERAFIN-PH codes (accent-insensitive search)."""

from django.db import migrations

from reference.text import fold


def fill(apps, schema_editor):
    SerafinCode = apps.get_model("ppa", "SerafinCode")
    for code in SerafinCode.objects.all():
        code.search_text = fold(f"{code.code} {code.label}")
        code.save(update_fields=["search_text"])


class Migration(migrations.Migration):
    dependencies = [("ppa", "0003_plans")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
