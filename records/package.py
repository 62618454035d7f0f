"""The export archive: a ZIP written as a stream into a temporary file.

    dossier.fhir.json        the FHIR R4 Bundle (collection) of `interop.fhir.everything`
    synthese.pdf             the summary in French (`records.summary`)
    fichiers/documents/…     the documents' files, every version
    fichiers/cahier-de-liaison/…  the notebook's attachments
    LISEZMOI.txt             what the archive holds
    manifeste-sha256.txt     one line per file: SHA-256, two spaces, path (`sha256sum -c`)

Memory stays bounded: the Bundle is written entry by entry, files are copied by blocks,
and each member's hash is computed while it is written.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from coordination.models import Category
from interop.fhir.everything import Everything, bundle_chunks, documents_queryset, notebook_queryset
from liaison.models import Attachment
from records import summary

BLOCK = 1024 * 1024
BUNDLE_NAME = "dossier.fhir.json"
SUMMARY_NAME = "synthese.pdf"
README_NAME = "LISEZMOI.txt"
MANIFEST_NAME = "manifeste-sha256.txt"

README = """Export du dossier de coordination

dossier.fhir.json : tout le dossier, au format FHIR R4 (un Bundle de type « collection »).
  Il se lit avec tout logiciel de santé qui comprend FHIR (formes du CI-SIS et de FR Core).
synthese.pdf : un résumé lisible, en français.
fichiers/ : les documents et les pièces jointes du cahier de liaison.
manifeste-sha256.txt : l'empreinte SHA-256 de chaque fichier, pour vérifier que rien n'a changé
  (par exemple : sha256sum -c manifeste-sha256.txt).

Seules les parties que le demandeur avait le droit de lire sont incluses.
"""


class _Hashing:
    """A write-only file object that hashes and counts what goes through it."""

    def __init__(self, target: IO[bytes]):
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.target.write(data)


@dataclass
class Written:
    manifest: list[tuple[str, str]] = field(default_factory=list)  # (sha256, path)
    resource_count: int = 0
    file_count: int = 0


def safe_name(name: str) -> str:
    """A file name that every unzip tool takes: ASCII letters, digits, dot, dash, underscore."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "fichier"
    return name[-80:]


def _member(archive: zipfile.ZipFile, path: str, written: Written, write: Callable[[_Hashing], None]) -> None:
    with archive.open(path, "w", force_zip64=True) as raw:
        sink = _Hashing(raw)
        write(sink)
    written.manifest.append((sink.hash.hexdigest(), path))


def file_sources(everything: Everything) -> list[tuple[str, object]]:
    """(path in the archive, stored file) of the files the export holds, by category."""
    found: list[tuple[str, object]] = []
    user, person = everything.user, everything.person
    if Category.DOCUMENTS in everything.categories:
        for document in documents_queryset(user, person).only("pk", "file", "original_name").iterator(2000):
            if document.file:
                path = f"fichiers/documents/doc-{document.pk}-{safe_name(document.original_name)}"
                found.append((path, document.file))
    if Category.LIAISON in everything.categories:
        attachments = Attachment.objects.filter(transmission__in=notebook_queryset(user, person).values("pk"))
        for attachment in attachments.only("pk", "file", "original_name").order_by("pk").iterator(2000):
            if attachment.file:
                path = f"fichiers/cahier-de-liaison/cdl-{attachment.pk}-{safe_name(attachment.original_name)}"
                found.append((path, attachment.file))
    return found


def write_archive(
    target: IO[bytes],
    everything: Everything,
    requester,
    *,
    on_total: Callable[[int], None],
    on_step: Callable[[str], None],
    on_item: Callable[[], None],
) -> Written:
    """Write the whole archive into `target` (a binary file open for writing). The
    progress: `on_total` once with the number of items (resources, files, the summary),
    then `on_item` after each and `on_step` at each stage."""
    written = Written()
    counts = {part.name: part.count() for part in everything.parts}
    files = file_sources(everything)
    counts["fichiers joints"] = len(files)
    on_total(sum(counts.values()) + 1)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        on_step("Dossier au format FHIR")

        def bundle(sink: _Hashing) -> None:
            def item() -> None:
                written.resource_count += 1
                on_item()

            for chunk in bundle_chunks(everything, item):
                sink.write(chunk.encode())

        _member(archive, BUNDLE_NAME, written, bundle)
        on_step("Fichiers joints")
        for path, stored in files:

            def copy(sink: _Hashing, stored=stored) -> None:
                with stored.open("rb") as source:
                    shutil.copyfileobj(source, sink, BLOCK)

            _member(archive, path, written, copy)
            written.file_count += 1
            on_item()
        on_step("Synthèse en PDF")
        pdf = summary.build(everything, requester, counts)
        _member(archive, SUMMARY_NAME, written, lambda sink: sink.write(pdf))
        on_item()
        _member(archive, README_NAME, written, lambda sink: sink.write(README.encode()))
        manifest = "".join(f"{digest}  {path}\n" for digest, path in written.manifest)
        with archive.open(MANIFEST_NAME, "w") as raw:
            raw.write(manifest.encode())
    return written
