"""Events point at the SERAFIN-PH codes of `reference` (same table: state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("agenda", "0004_participant_period"), ("reference", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="serafin_service",
                    field=models.ForeignKey(blank=True, limit_choices_to={"kind": "service"}, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="events",
                                            to="reference.serafincode", verbose_name="prestation SERAFIN-PH"),
                ),
            ],
            database_operations=[],
        ),
    ]
