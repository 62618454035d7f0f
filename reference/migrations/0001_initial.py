"""The SERAFIN-PH codes move from `ppa` to `reference` (state only: the table, its rows
and the foreign keys pointing at it stay as they are; 0002 renames the table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("ppa", "0005_version_document")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SerafinCode",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("kind", models.CharField(choices=[("need", "Besoin"), ("service", "Prestation directe")],
                                                  max_length=10, verbose_name="nomenclature")),
                        ("code", models.CharField(max_length=20, verbose_name="code")),
                        ("label", models.CharField(max_length=300, verbose_name="libellé")),
                        ("depth", models.PositiveSmallIntegerField(default=1, verbose_name="niveau")),
                        ("search_text", models.CharField(blank=True, editable=False, max_length=400,
                                                         verbose_name="texte de recherche")),
                        ("parent", models.ForeignKey(blank=True, null=True,
                                                     on_delete=django.db.models.deletion.PROTECT,
                                                     related_name="children", to="reference.serafincode",
                                                     verbose_name="niveau supérieur")),
                    ],
                    options={
                        "verbose_name": "code SERAFIN-PH",
                        "verbose_name_plural": "codes SERAFIN-PH",
                        "ordering": ["kind", "code"],
                        "db_table": "ppa_serafincode",
                        "constraints": [models.UniqueConstraint(fields=("kind", "code"), name="serafin_code_unique")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
