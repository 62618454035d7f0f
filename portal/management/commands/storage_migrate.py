"""Copy the private files from the local folder into the configured storage (a bucket).

Every file a database row refers to (every FileField of every model) is copied under the
same name, then read back from the destination and its SHA-256 compared with the
source's. A file already in the destination with the same hash is left alone, so the
command can be stopped and run again (resumable) and is safe to run twice; a different or
partial copy in the destination is replaced. The source is never changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError

from common.storage import referenced_names, sha256_of


class Command(BaseCommand):
    help = "Copie les fichiers privés du dossier local vers le stockage configuré (STORAGE_URL), vérifiés par SHA-256."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            default=str(settings.PRIVATE_MEDIA_ROOT),
            help="the local folder to copy from (default: PRIVATE_MEDIA_ROOT)",
        )

    def handle(self, *args, source: str, **options):
        source_storage = FileSystemStorage(location=source)
        destination = storages["default"]
        local = isinstance(destination, FileSystemStorage)
        if local and Path(destination.location).resolve() == Path(source).resolve():
            raise CommandError(
                "La destination est le dossier source : définissez STORAGE_URL (le bucket) avant de migrer. "
                "/ The destination is the source folder: set STORAGE_URL first."
            )
        names = referenced_names()
        self.stdout.write(
            f"{len(names)} fichier(s) référencé(s) ; source {source} ; destination {_describe(destination)}"
        )
        copied = already = replaced = 0
        missing: list[str] = []
        failed: list[str] = []
        for name in names:
            if not source_storage.exists(name):
                if destination.exists(name):
                    already += 1
                else:
                    missing.append(name)
                continue
            expected = sha256_of(source_storage, name)
            if destination.exists(name):
                if sha256_of(destination, name) == expected:
                    already += 1
                    continue
                # A partial or different copy (an interrupted run): the source wins.
                destination.delete(name)
                replaced += 1
            with source_storage.open(name, "rb") as handle:
                saved = destination.save(name, File(handle, name=os.path.basename(name)))
            if saved != name or sha256_of(destination, saved) != expected:
                failed.append(name)
                self.stderr.write(f"ÉCHEC {name} : la copie ne correspond pas à la source (SHA-256)")
                continue
            copied += 1
            self.stdout.write(f"copié {name} (sha256 {expected[:12]}…)")
        unreferenced = _unreferenced(Path(source), set(names))
        self.stdout.write(
            f"Terminé : {copied} copié(s) et vérifié(s), {already} déjà présent(s) et identique(s), "
            f"{replaced} copie(s) différente(s) remplacée(s), {len(missing)} manquant(s), {len(failed)} en échec, "
            f"{unreferenced} fichier(s) du dossier source sans référence (laissés en place)."
        )
        for name in missing:
            self.stderr.write(f"MANQUANT {name} : ni dans la source ni dans la destination")
        if failed:
            raise CommandError(
                f"{len(failed)} fichier(s) n'ont pas pu être vérifiés après copie : relancez la commande."
            )


def _describe(storage) -> str:
    bucket = getattr(storage, "bucket_name", None)
    if bucket:
        return f"bucket {bucket}" + (f" ({storage.endpoint_url})" if getattr(storage, "endpoint_url", None) else "")
    return getattr(storage, "location", storage.__class__.__name__)


def _unreferenced(root: Path, names: set[str]) -> int:
    if not root.is_dir():
        return 0
    count = 0
    for folder, _dirs, files in os.walk(root):
        for file in files:
            if (Path(folder) / file).relative_to(root).as_posix() not in names:
                count += 1
    return count
