"""The SERAFIN-PH codes now live in `reference`: needs and actions point there, and the
model leaves this app's state (same table, same rows: state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ppa", "0005_version_document"), ("reference", "0001_initial"),
                    ("agenda", "0005_serafin_in_reference")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="need",
                    name="serafin",
                    field=models.ForeignKey(limit_choices_to={"kind": "need"},
                                            on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                            to="reference.serafincode", verbose_name="besoin SERAFIN-PH"),
                ),
                migrations.AlterField(
                    model_name="action",
                    name="serafin",
                    field=models.ForeignKey(blank=True, limit_choices_to={"kind": "service"}, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                            to="reference.serafincode", verbose_name="prestation SERAFIN-PH"),
                ),
                migrations.DeleteModel(name="SerafinCode"),
            ],
            database_operations=[],
        ),
    ]
