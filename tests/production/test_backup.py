"""Backup → restore round trip on PostgreSQL: a fresh database gets back the persons,
transmissions, documents (files readable, same SHA-256) and the access log."""

from __future__ import annotations

import json
from io import StringIO

import psycopg
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from common.storage import sha256_of
from coordination.models import AccessLog, Person
from documents.models import Document
from liaison import services as liaison_services
from liaison.models import Attachment, Transmission
from portal.management.commands.restore import _conninfo
from tests.conftest import login, need_service
from tests.coordination.documents_helpers import make_document, png_file

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("local_media")]


@pytest.fixture
def fresh_database(transactional_db):
    need_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = {**connection.settings_dict, "NAME": "postgres"}
    with psycopg.connect(_conninfo(admin), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    settings_dict = {**connection.settings_dict, "NAME": name}
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**settings_dict)
    if settings_dict.get("PASSWORD"):
        url = url.replace("@", f":{settings_dict['PASSWORD']}@", 1)
    yield settings_dict, url
    with psycopg.connect(_conninfo(admin), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(settings_dict, sql):
    with psycopg.connect(_conninfo(settings_dict)) as restored:
        return restored.execute(sql).fetchall()


def test_it_restores_a_backup_into_a_fresh_database(fresh_database, person, referent, nurse, tmp_path):
    target, url = fresh_database
    document = make_document(referent, person, validate=True)
    transmission = liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Bonne nuit, a mangé.", files=[png_file()]
    )
    assert login(nurse).get(f"/coordination/documents/{document.pk}/").status_code == 200  # an access log row
    counts = {model: model.objects.count() for model in (Person, Transmission, Document, Attachment, AccessLog)}
    assert counts[AccessLog] >= 1

    out = StringIO()
    call_command("backup", str(tmp_path / "backup"), "--with-files", stdout=out)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert {entry["name"] for entry in manifest["files"]} == {
        document.file.name,
        *(name for item in transmission.attachments.all() for name in (item.file.name, item.thumbnail.name)),
    }
    assert "3 fichier(s) au manifeste et copiés, 0 manquant(s)" in out.getvalue()
    # The disk lost the document file: the restore puts it back from the backup's copy.
    default_storage.delete(document.file.name)

    out = StringIO()
    call_command("restore", str(tmp_path / "backup"), database_url=url, stdout=out)
    assert "2 présent(s) et identique(s), 1 remis depuis la sauvegarde, 0 en défaut" in out.getvalue()
    for model, count in counts.items():
        assert _rows(target, f'SELECT count(*) FROM "{model._meta.db_table}"') == [(count,)], model.__name__  # noqa: S608 - table names from _meta
    [(text,)] = _rows(target, f'SELECT text FROM "{Transmission._meta.db_table}"')  # noqa: S608 - table names from _meta
    assert text == "Bonne nuit, a mangé."
    [(name, sha256)] = _rows(target, f'SELECT file, sha256 FROM "{Document._meta.db_table}"')  # noqa: S608 - table names from _meta
    assert name == document.file.name and sha256_of(default_storage, name) == sha256 == document.sha256
    [(path,)] = _rows(target, f'SELECT path FROM "{AccessLog._meta.db_table}" ORDER BY id DESC LIMIT 1')  # noqa: S608 - table names from _meta
    assert path == f"/coordination/documents/{document.pk}/"

    # Never over a database that holds data.
    with pytest.raises(CommandError, match="pas vide"):
        call_command("restore", str(tmp_path / "backup"), database_url=url, stdout=StringIO())
