"""Is this PDF safe to hand to every circle member's desktop reader? Parsed with qpdf
(pikepdf), never pattern-matched for active content. `documents.uploads` runs it in a
forked child with memory and CPU limits (`check_isolated`): a small hostile file can make
qpdf inflate gigabytes (a compressed cross-reference stream)."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import select
import signal
import time
import zlib

import pikepdf

REFUSED_TYPE = (
    "Type de fichier refusé : seules les images JPEG, PNG ou WebP et les documents PDF sont acceptés "
    "(le contenu du fichier a été vérifié, pas seulement son nom)."
)
UNREADABLE_PDF = (
    "Ce PDF est endommagé, protégé par un mot de passe ou d'une forme que le portail ne sait pas vérifier. "
    "Enregistrez-le à nouveau (Imprimer › Enregistrer au format PDF) puis déposez la copie."
)
ACTIVE_PDF = (
    "Ce PDF contient du contenu actif ({what}) : il est refusé pour la sécurité des personnes qui "
    "l'ouvriront. Enregistrez-le à nouveau (Imprimer › Enregistrer au format PDF) puis déposez la copie."
)
HTML_FILE = "Ce fichier contient du code de page web (HTML, script) : il est refusé."

# --- PDF -------------------------------------------------------------------------------------
# Accepted PDFs are kept as sent (their hash is the sender's); a PDF with anything a reader
# could run, submit, launch or open by itself is refused, never silently rewritten.
#
# Action types refused wherever they appear (link, field, page, document, chained /Next).
_ACTIVE_ACTIONS = {
    "JavaScript": "script",
    "Launch": "lancement d'un programme ou d'un fichier",
    "SubmitForm": "envoi de formulaire",
    "ImportData": "import de données",
    "GoToR": "lien vers un autre fichier",
    "GoToE": "lien vers un fichier joint",
    "GoTo3DView": "contenu 3D",
    "RichMediaExecute": "contenu multimédia",
    "Movie": "contenu multimédia",
    "Sound": "contenu multimédia",
    "Rendition": "contenu multimédia",
}
# Dictionary keys that carry scripts, embedded files, XFA forms, rich media or automatic
# actions (/AA: on opening a page, focusing a field, printing, closing…).
_ACTIVE_KEYS = {
    "JS": "script",
    "JavaScript": "script",
    "AA": "action automatique",
    "EmbeddedFiles": "fichier joint",
    "EF": "fichier joint",
    "XFA": "formulaire XFA",
    "RichMediaContent": "contenu multimédia",
    "RichMediaSettings": "contenu multimédia",
}
_ACTIVE_SUBTYPES = {
    "FileAttachment": "fichier joint",
    "Movie": "contenu multimédia",
    "Sound": "contenu multimédia",
    "Screen": "contenu multimédia",
    "RichMedia": "contenu multimédia",
    "3D": "contenu 3D",
    "PS": "code PostScript",
}
_ACTIVE_TYPES = {"EmbeddedFile": "fichier joint", "Filespec": "fichier joint"}
# What the document may do by itself on opening (/OpenAction): show a page.
_AUTOMATIC_ALLOWED = {"GoTo", "Named"}
# Object streams are decompressed to be checked; their total is bounded (zip bombs).
MAX_OBJECT_STREAM_BYTES = 64 * 1024 * 1024
_MAX_NODES = 2_000_000

# Markup a browser would render if the file were opened as a page. Long enough (6+ bytes)
# not to occur by chance in compressed data; the portal's own PDFs escape "<" in text.
_HTML_MARKERS = re.compile(
    rb"<(?:script|html[\s>]|body[\s>]|iframe|object[\s>]|embed[\s>]|meta[\s>]|svg[\s>]|!doctype\s+html)|javascript:",
    re.IGNORECASE,
)
# WHATWG MIME sniffing: what makes a browser treat a file as HTML when it begins with it.
HTML_SNIFF = re.compile(
    rb"<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]",
    re.IGNORECASE,
)


class _Refused(Exception):
    def __init__(self, message: str):
        self.message = message


# The child process: at most this much more memory than the worker it forks from, this
# much CPU time, this long in all. A clean 10 MB PDF needs a few tens of megabytes.
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
CHILD_CPU_SECONDS = 20
CHILD_TIMEOUT_SECONDS = 30


def check(raw: bytes) -> str | None:
    """The French reason to refuse this PDF, or None when it is safe."""
    try:
        _check_pdf(raw)
    except _Refused as refused:
        return refused.message
    return None


def check_isolated(raw: bytes) -> str | None:
    """`check`, in a forked child bounded in memory and CPU time: a file that makes qpdf
    exhaust them is refused as unverifiable, and the web worker is untouched. (A fork,
    not a new interpreter: no second import of Django and pikepdf per upload. The child
    only parses and writes its answer to a pipe, then leaves with os._exit.)"""
    if not hasattr(os, "fork"):
        return check(raw)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read_end)
            # Room to grow beyond what the fork already maps (the worker's own memory).
            limit = _mapped_bytes() + CHILD_MEMORY_BYTES
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))
            os.write(write_end, json.dumps({"refused": check(raw)}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks))["refused"]
    except (ValueError, KeyError):
        return UNREADABLE_PDF  # killed (memory, CPU, time) or crashed


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _check_pdf(raw: bytes) -> None:
    """Refuse a PDF that qpdf cannot open strictly (no repair of a damaged or truncated
    file, no password), that carries HTML, or any of whose objects — every object of the
    cross-reference table, those inside compressed object streams included, with names
    already decoded (`/J#61vaScript` is `/JavaScript`) — holds a script, an action other
    than following a link or showing a page, an automatic action, an embedded file, an XFA
    form or rich media. Scanning every object rather than walking from the catalogue
    means nothing can hide in a part a walk would not reach."""
    if not raw.startswith(b"%PDF-"):
        raise _Refused(UNREADABLE_PDF)
    if _HTML_MARKERS.search(raw):
        raise _Refused(HTML_FILE)
    try:
        pdf = pikepdf.open(io.BytesIO(raw), attempt_recovery=False, suppress_warnings=True)
    except pikepdf.PasswordError:
        raise _Refused(UNREADABLE_PDF) from None
    except (pikepdf.PdfError, ValueError, RuntimeError, OverflowError, RecursionError):
        raise _Refused(UNREADABLE_PDF) from None
    try:
        with pdf:
            _check_objects(pdf)
            if pdf.get_warnings():
                # qpdf had to work around damage while reading: not a file we can vouch for.
                raise _Refused(UNREADABLE_PDF)
    except _Refused:
        raise
    except (pikepdf.PdfError, ValueError, RuntimeError, OverflowError, RecursionError, TypeError, KeyError):
        raise _Refused(UNREADABLE_PDF) from None


def _check_objects(pdf: pikepdf.Pdf) -> None:
    xref = pdf.get_xref_table()
    _check_object_streams(pdf, xref)
    budget = [_MAX_NODES]
    for objgen, entry in xref.items():
        if entry.type == 0:
            continue
        _check_node(pdf.get_object(objgen), budget)
    open_action = pdf.Root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):
        _check_automatic(open_action)


def _check_object_streams(pdf: pikepdf.Pdf, xref: dict) -> None:
    """Decompress the object streams ourselves, bounded, before qpdf reads what they hold."""
    numbers = {entry.obj_stream_number for entry in xref.values() if entry.type == 2}
    total = 0
    for number in numbers:
        stream = pdf.get_object((number, 0))
        if not isinstance(stream, pikepdf.Stream):
            raise _Refused(UNREADABLE_PDF)
        filters = stream.stream_dict.get("/Filter")
        if filters is None:
            total += len(stream.read_raw_bytes())
        elif filters == pikepdf.Name.FlateDecode or (
            isinstance(filters, pikepdf.Array) and list(filters) == [pikepdf.Name.FlateDecode]
        ):
            inflater = zlib.decompressobj()
            try:
                out = inflater.decompress(stream.read_raw_bytes(), MAX_OBJECT_STREAM_BYTES - total + 1)
            except zlib.error:
                raise _Refused(UNREADABLE_PDF) from None
            total += len(out)
        else:
            raise _Refused(UNREADABLE_PDF)
        if total > MAX_OBJECT_STREAM_BYTES:
            raise _Refused(UNREADABLE_PDF)


def _name(value) -> str:
    if isinstance(value, pikepdf.Name | pikepdf.String):
        return str(value).lstrip("/")
    return ""


def _check_node(root, budget: list[int]) -> None:
    """Check one indirect object and the direct objects inside it (indirect ones are
    checked on their own turn, which also stops reference cycles)."""
    stack = [root]
    first = True
    while stack:
        node = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(UNREADABLE_PDF)
        if not isinstance(node, pikepdf.Object) or (not first and node.is_indirect):
            continue
        first = False
        if isinstance(node, pikepdf.Stream):
            node = node.stream_dict
        if isinstance(node, pikepdf.Dictionary):
            for key in node.keys():
                what = _ACTIVE_KEYS.get(key.lstrip("/"))
                if what:
                    raise _Refused(ACTIVE_PDF.format(what=what))
            action = _name(node.get("/S"))
            if action in _ACTIVE_ACTIONS:
                raise _Refused(ACTIVE_PDF.format(what=_ACTIVE_ACTIONS[action]))
            subtype = _name(node.get("/Subtype"))
            if subtype in _ACTIVE_SUBTYPES:
                raise _Refused(ACTIVE_PDF.format(what=_ACTIVE_SUBTYPES[subtype]))
            kind = _name(node.get("/Type"))
            if kind in _ACTIVE_TYPES:
                raise _Refused(ACTIVE_PDF.format(what=_ACTIVE_TYPES[kind]))
            stack.extend(node.values())
        elif isinstance(node, pikepdf.Array):
            stack.extend(node)


def _check_automatic(action: pikepdf.Dictionary) -> None:
    """The opening action and the actions chained to it (/Next) may only show a page:
    no address opened, no form sent, nothing run."""
    chain, seen = [action], 0
    while chain:
        seen += 1
        if seen > 1000:
            raise _Refused(UNREADABLE_PDF)
        current = chain.pop()
        if not isinstance(current, pikepdf.Dictionary):
            continue
        if _name(current.get("/S")) not in _AUTOMATIC_ALLOWED:
            raise _Refused(ACTIVE_PDF.format(what="action automatique à l'ouverture"))
        following = current.get("/Next")
        if isinstance(following, pikepdf.Array):
            chain.extend(following)
        elif following is not None:
            chain.append(following)
