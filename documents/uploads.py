"""Uploaded files: checked by content (never by name), size-limited, stripped of image
metadata, stored privately under a random name. Used by every block that takes files.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zlib
from dataclasses import dataclass

import filetype
import pikepdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_TYPES = {"image/jpeg": ("JPEG", "jpg"), "image/png": ("PNG", "png"), "image/webp": ("WEBP", "webp")}
PDF_TYPE = "application/pdf"
DEFAULT_ALLOWED = frozenset({*IMAGE_TYPES, PDF_TYPE})
THUMBNAIL_SIZE = (320, 320)

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
_MAX_OBJECT_STREAM_BYTES = 64 * 1024 * 1024
_MAX_NODES = 2_000_000

# Markup a browser would render if the file were opened as a page. Long enough (6+ bytes)
# not to occur by chance in compressed data; the portal's own PDFs escape "<" in text.
_HTML_MARKERS = re.compile(
    rb"<(?:script|html[\s>]|body[\s>]|iframe|object[\s>]|embed[\s>]|meta[\s>]|svg[\s>]|!doctype\s+html)|javascript:",
    re.IGNORECASE,
)
# WHATWG MIME sniffing: what makes a browser treat a file as HTML when it begins with it.
_HTML_SNIFF = re.compile(
    rb"<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]",
    re.IGNORECASE,
)


class _Refused(Exception):
    def __init__(self, message: str):
        self.message = message


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str
    thumbnail: bytes | None


def _human_limit() -> str:
    return f"{settings.UPLOAD_MAX_BYTES // (1024 * 1024)} Mo"


def check_upload(upload, *, field: str = "file", allowed: frozenset[str] = DEFAULT_ALLOWED) -> CheckedFile:
    """Read and check an uploaded file. Raises a French ValidationError naming `field`.

    PDFs are parsed (pikepdf/qpdf) and refused if unreadable or active (see `_check_pdf`);
    images are decoded and re-encoded from their pixels; anything else is refused."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({field: f"Fichier trop volumineux : {_human_limit()} au maximum."})
    raw = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    if len(raw) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({field: f"Fichier trop volumineux : {_human_limit()} au maximum."})
    if not raw:
        raise ValidationError({field: "Le fichier est vide."})
    if _HTML_SNIFF.match(raw.lstrip(b"\t\n\x0c\r ")[:512]):
        raise ValidationError({field: HTML_FILE})
    guessed = filetype.guess(raw)
    content_type = guessed.mime if guessed else ""
    if content_type not in allowed:
        raise ValidationError({field: REFUSED_TYPE})
    if content_type == PDF_TYPE:
        try:
            _check_pdf(raw)
        except _Refused as refused:
            raise ValidationError({field: refused.message}) from None
        return CheckedFile(raw, PDF_TYPE, "pdf", hashlib.sha256(raw).hexdigest(), None)
    return _clean_image(raw, content_type, field)


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
                out = inflater.decompress(stream.read_raw_bytes(), _MAX_OBJECT_STREAM_BYTES - total + 1)
            except zlib.error:
                raise _Refused(UNREADABLE_PDF) from None
            total += len(out)
        else:
            raise _Refused(UNREADABLE_PDF)
        if total > _MAX_OBJECT_STREAM_BYTES:
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


# --- Images ------------------------------------------------------------------------------------


def _clean_image(raw: bytes, content_type: str, field: str) -> CheckedFile:
    image_format, extension = IMAGE_TYPES[content_type]
    millions = f"{settings.UPLOAD_IMAGE_MAX_PIXELS / 1_000_000:.1f}".removesuffix(".0").replace(".", ",")
    unit = "millions" if settings.UPLOAD_IMAGE_MAX_PIXELS >= 2_000_000 else "million"
    too_large = ValidationError({field: f"Image trop grande : {millions} {unit} de pixels au maximum."})
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            # Refused from the header, before decoding (decompression bombs).
            if probe.width * probe.height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                raise too_large
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            # Apply the EXIF orientation, then rebuild the picture from its pixels only:
            # EXIF (GPS, device), XMP, comments and text chunks are left behind.
            upright = ImageOps.exif_transpose(image)
            mode = upright.mode if upright.mode in ("RGB", "RGBA", "L", "LA") else "RGBA"
            pixels = upright.convert(mode)
            clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({field: "Cette image est illisible ou endommagée."}) from None
    if image_format == "JPEG" and clean.mode != "RGB":
        clean = clean.convert("RGB")
    content = _encode(clean, image_format)
    thumb = clean.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumbnail = _encode(thumb.convert("RGB"), "JPEG")
    return CheckedFile(content, content_type, extension, hashlib.sha256(content).hexdigest(), thumbnail)


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 88} if image_format in ("JPEG", "WEBP") else {"optimize": True}
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def store(content: bytes, *, folder: str, extension: str) -> str:
    """Save under a random name in private storage; returns the storage name."""
    name = f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"
    return default_storage.save(name, ContentFile(content))


def private_file_response(stored, *, content_type: str, filename: str):
    """Serve a stored private file (the caller has passed the gate): images inline, PDFs
    as downloads (browsers do not render them under the sandbox CSP), never cached, in a
    sandbox. The file name is reduced to safe characters."""
    from django.http import FileResponse

    response = FileResponse(stored.open("rb"), content_type=content_type)
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename)[:100] or "fichier"
    # The saved file's extension always says what it is: a PDF saved as "x.html" would
    # open in a browser as a page.
    extension = {PDF_TYPE: "pdf", **{mime: ext for mime, (_format, ext) in IMAGE_TYPES.items()}}.get(content_type)
    if extension and not safe.lower().endswith(f".{extension}"):
        safe = f"{safe}.{extension}"
    response["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response
