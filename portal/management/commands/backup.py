"""Back up the portal: the PostgreSQL database (pg_dump, custom format) and a manifest of
every stored file with its SHA-256 (optionally the files themselves).

The dump is a consistent snapshot taken first; the manifest is read afterwards from the
live database. Files are never deleted, so the manifest lists every file the dump refers
to (and perhaps a few uploaded during the dump). `manage.py restore` reads both back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from common.storage import CHUNK, referenced_names, sha256_of

MANIFEST = "manifest.json"
DUMP = "database.dump"


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """libpq's variables for pg_dump / pg_restore (the password never on a command line)."""
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    return env


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Sauvegarde la base (pg_dump) et le manifeste des fichiers stockés avec leur SHA-256."

    def add_arguments(self, parser):
        parser.add_argument("output", help="folder to write into (created; must be empty)")
        parser.add_argument("--with-files", action="store_true", help="also copy the stored files into <output>/files/")

    def handle(self, *args, output: str, with_files: bool, **options):
        connection = connections["default"]
        if connection.vendor != "postgresql":
            raise CommandError(
                "La sauvegarde par pg_dump demande PostgreSQL (DATABASE_URL=postgres://…). "
                "/ backup needs PostgreSQL; on SQLite copy the database file with `sqlite3 … .backup`."
            )
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        if any(folder.iterdir()):
            raise CommandError(f"Le dossier {folder} n'est pas vide : choisissez un nouveau dossier.")
        settings_dict = connection.settings_dict
        dump = folder / DUMP
        command = [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={dump}",
            settings_dict["NAME"],
        ]
        result = subprocess.run(command, env=pg_environment(settings_dict), capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise CommandError(f"pg_dump a échoué : {result.stderr.strip()}")
        files, missing = [], []
        for name in referenced_names():
            try:
                digest, size = sha256_of(default_storage, name), default_storage.size(name)
            except FileNotFoundError:
                missing.append(name)
                continue
            files.append({"name": name, "sha256": digest, "size": size})
            if with_files:
                target = folder / "files" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with default_storage.open(name, "rb") as source, target.open("wb") as copy:
                    shutil.copyfileobj(source, copy, CHUNK)
                if file_sha256(target) != digest:
                    raise CommandError(f"La copie de {name} ne correspond pas au fichier stocké (SHA-256).")
        manifest = {
            "format": 1,
            "created_at": timezone.now().isoformat(),
            "database": {"name": settings_dict["NAME"], "dump": DUMP, "sha256": file_sha256(dump)},
            "storage": default_storage.__class__.__name__,
            "with_files": with_files,
            "files": files,
            "missing": missing,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        self.stdout.write(
            f"Sauvegarde écrite dans {folder} : base {settings_dict['NAME']} ({dump.stat().st_size} octets), "
            f"{len(files)} fichier(s) au manifeste"
            + (" et copiés" if with_files else "")
            + f", {len(missing)} manquant(s)."
        )
        for name in missing:
            self.stderr.write(f"MANQUANT {name} : référencé par la base mais absent du stockage")
