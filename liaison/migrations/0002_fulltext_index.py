"""French full-text index, on PostgreSQL only (SQLite searches with LIKE)."""

from django.db import migrations

CREATE = ("CREATE INDEX IF NOT EXISTS transmission_fts ON liaison_transmission "
          "USING gin (to_tsvector('french'::regconfig, search_document))")
DROP = "DROP INDEX IF EXISTS transmission_fts"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("liaison", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
