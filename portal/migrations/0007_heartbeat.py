from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_invitation_email")]

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=20, unique=True, verbose_name="processus")),
                ("last_seen", models.DateTimeField(verbose_name="dernier signe de vie")),
                ("detail", models.CharField(blank=True, max_length=200, verbose_name="détail")),
            ],
            options={"verbose_name": "signe de vie", "verbose_name_plural": "signes de vie des processus"},
        ),
    ]
