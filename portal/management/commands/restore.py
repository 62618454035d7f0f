"""Restore a backup written by `manage.py backup` into an EMPTY PostgreSQL database, then
check every file of the manifest against the storage (present, same SHA-256); a file
missing from the storage is put back from the backup's copy when it has one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import dj_database_url
import psycopg
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from common.storage import sha256_of
from portal.management.commands.backup import DUMP, MANIFEST, file_sha256, pg_environment


def _conninfo(settings_dict: dict) -> str:
    parts = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
    }
    return psycopg.conninfo.make_conninfo(**{key: str(value) for key, value in parts.items() if value})


class Command(BaseCommand):
    help = "Restaure une sauvegarde (manage.py backup) dans une base PostgreSQL vide et vérifie les fichiers."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the folder written by manage.py backup")
        parser.add_argument("--database-url", help="restore into this database (default: DATABASE_URL)")

    def handle(self, *args, backup: str, database_url: str | None, **options):
        folder = Path(backup)
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Manifeste illisible dans {folder} : {error}") from None
        dump = folder / manifest["database"].get("dump", DUMP)
        if not dump.exists() or file_sha256(dump) != manifest["database"]["sha256"]:
            raise CommandError(f"Le fichier {dump} manque ou ne correspond pas au manifeste (SHA-256).")
        target = dj_database_url.parse(database_url) if database_url else connections["default"].settings_dict
        if target["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("La restauration demande PostgreSQL.")
        with psycopg.connect(_conninfo(target)) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()[0]
        if tables:
            raise CommandError(
                f"La base {target['NAME']} n'est pas vide ({tables} tables) : restaurez dans une base neuve "
                "(createdb), rien n'a été modifié."
            )
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={target['NAME']}"]
        result = subprocess.run([*command, str(dump)], env=pg_environment(target), capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise CommandError(f"pg_restore a échoué : {result.stderr.strip()}")
        self.stdout.write(f"Base {target['NAME']} restaurée depuis {dump}.")
        ok, put_back, problems = 0, 0, []
        for entry in manifest["files"]:
            name, expected = entry["name"], entry["sha256"]
            if not default_storage.exists(name):
                copy = folder / "files" / name
                if copy.exists() and file_sha256(copy) == expected:
                    with copy.open("rb") as handle:
                        saved = default_storage.save(name, File(handle, name=copy.name))
                    if saved == name and sha256_of(default_storage, name) == expected:
                        put_back += 1
                        continue
                problems.append(f"MANQUANT {name}")
            elif sha256_of(default_storage, name) != expected:
                problems.append(f"DIFFÉRENT {name} (SHA-256)")
            else:
                ok += 1
        self.stdout.write(
            f"Fichiers : {ok} présent(s) et identique(s), {put_back} remis depuis la sauvegarde, "
            f"{len(problems)} en défaut, sur {len(manifest['files'])} au manifeste."
        )
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} fichier(s) manquent ou diffèrent : voir ci-dessus.")
