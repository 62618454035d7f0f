"""Uploaded files: checked by content (never by name), size-limited, stripped of image
metadata, stored privately under a random name. Used by every block that takes files.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import io
import logging
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from documents import pdf_safety
from documents.pdf_safety import HTML_FILE, HTML_SNIFF, REFUSED_TYPE

logger = logging.getLogger(__name__)

IMAGE_TYPES = {"image/jpeg": ("JPEG", "jpg"), "image/png": ("PNG", "png"), "image/webp": ("WEBP", "webp")}
PDF_TYPE = "application/pdf"
DEFAULT_ALLOWED = frozenset({*IMAGE_TYPES, PDF_TYPE})
THUMBNAIL_SIZE = (320, 320)


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

    PDFs are parsed (pikepdf/qpdf, in a child process with limits) and refused if
    unreadable or active (`documents.pdf_safety`); images are decoded and re-encoded from
    their pixels; anything else is refused."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({field: f"Fichier trop volumineux : {_human_limit()} au maximum."})
    raw = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    if len(raw) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError({field: f"Fichier trop volumineux : {_human_limit()} au maximum."})
    if not raw:
        raise ValidationError({field: "Le fichier est vide."})
    if HTML_SNIFF.match(raw.lstrip(b"\t\n\x0c\r ")[:512]):
        raise ValidationError({field: HTML_FILE})
    guessed = filetype.guess(raw)
    content_type = guessed.mime if guessed else ""
    if content_type not in allowed:
        raise ValidationError({field: REFUSED_TYPE})
    if content_type == PDF_TYPE:
        refusal = pdf_safety.check_isolated(raw)
        if refusal:
            raise ValidationError({field: refusal})
        return CheckedFile(raw, PDF_TYPE, "pdf", hashlib.sha256(raw).hexdigest(), None)
    return _clean_image(raw, content_type, field)


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


STORAGE_ERROR = (
    "Le fichier n'a pas pu être enregistré (espace de stockage indisponible). "
    "Rien n'a été enregistré : réessayez dans un instant."
)
_stored_in_call: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("stored_in_call", default=None)


def store(content: bytes, *, folder: str, extension: str, field: str = "file") -> str:
    """Save under a random name in private storage; returns the storage name.

    A storage failure (disk full, permission, object store down) is a ValidationError
    on `field` with a plain message; inside `removes_files_on_failure`, a file stored
    here is removed again when the change fails (no orphan file)."""
    name = f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"
    try:
        saved = default_storage.save(name, ContentFile(content))
    except OSError as error:
        logger.error("storage write failed for %s: %s", name, error)
        raise ValidationError({field: STORAGE_ERROR}) from error
    stored = _stored_in_call.get()
    if stored is not None:
        stored.append(saved)
    return saved


def store_checked(upload, checked: CheckedFile, *, folder: str, field: str = "file") -> dict:
    """Store a checked upload and its thumbnail under `folder`; returns the fields of the
    attachment row that names them (liaison's and exchanges' attachments)."""
    name = store(checked.content, folder=folder, extension=checked.extension, field=field)
    thumbnail = (
        store(checked.thumbnail, folder=f"{folder}/thumbnails", extension="jpg", field=field)
        if checked.thumbnail
        else ""
    )
    return {
        "file": name,
        "thumbnail": thumbnail,
        "original_name": (getattr(upload, "name", "") or "fichier")[:200],
        "content_type": checked.content_type,
        "size": len(checked.content),
        "sha256": checked.sha256,
    }


def removes_files_on_failure(function):
    """Put it outside `transaction.atomic`: when the service raises (a refusal, a
    database error, the commit itself), the files it stored are deleted, so a refused
    or failed change leaves no orphan file and no half-saved row."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _stored_in_call.get() is not None:  # nested: the outermost call cleans up
            return function(*args, **kwargs)
        stored: list[str] = []
        token = _stored_in_call.set(stored)
        try:
            return function(*args, **kwargs)
        except BaseException:
            for name in stored:
                try:
                    default_storage.delete(name)
                except OSError:
                    logger.exception("could not remove %s after a failed change", name)
            raise
        finally:
            _stored_in_call.reset(token)

    return wrapper


def private_file_response(stored, *, content_type: str, filename: str):
    """Serve a stored private file (the caller has passed the gate): images inline, PDFs
    as downloads (browsers do not render them under the sandbox CSP), never cached, in a
    sandbox. The file name is reduced to safe characters."""

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
