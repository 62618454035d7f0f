"""The SERAFIN-PH table takes the name of its app (rows and foreign keys follow)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reference", "0001_initial"), ("ppa", "0006_serafin_in_reference")]

    operations = [migrations.AlterModelTable(name="serafincode", table=None)]
