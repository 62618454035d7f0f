"""Audit types are registered by each app (`coordination.audit`): the field takes its
choices from the registry (no migration when an app adds a type) and longer keys."""

import coordination.audit
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("coordination", "0007_documents")]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='event_type',
            field=models.CharField(choices=coordination.audit.choices, max_length=50, verbose_name='évènement'),
        ),
    ]
