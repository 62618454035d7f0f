"""A minimal PDF 1.4 writer for the portal's text documents (no PDF library needed).

A4 pages, the built-in Helvetica and Helvetica-Bold fonts in WinAnsiEncoding (cp1252:
French accents, « », ’, œ…), headings, word-wrapped paragraphs, bullet lists, automatic
page breaks, page numbers and document metadata (Title, Producer, CreationDate).

Content streams are left uncompressed and every "/" and "<" inside text is written as an
octal escape: the text of a person's plan can never look like a PDF name such as
/JavaScript nor like HTML markup (`<script`), so the generated file always passes
`documents.uploads.check_upload`.

    doc = PdfDocument("Projet personnalisé")
    doc.heading("Objectifs")
    doc.paragraph("Garder ses repères.")
    doc.bullets(["Atelier mémoire", "Promenade"])
    data = doc.render()
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4 in points
MARGIN = 56.7  # 2 cm
FOOTER_Y = 30.0
PRODUCER = "Portail de coordination"

REGULAR, BOLD = "F1", "F2"

# Advance widths (1/1000 em) of the printable ASCII characters 32..126, from the Adobe
# core-font metrics. Accented letters take the width of their base letter.
_ASCII_WIDTHS = {
    REGULAR: [
        278,
        278,
        355,
        556,
        556,
        889,
        667,
        191,
        333,
        333,
        389,
        584,
        278,
        333,
        278,
        278,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        278,
        278,
        584,
        584,
        584,
        556,
        1015,
        667,
        667,
        722,
        722,
        667,
        611,
        778,
        722,
        278,
        500,
        667,
        556,
        833,
        722,
        778,
        667,
        778,
        722,
        667,
        611,
        722,
        667,
        944,
        667,
        667,
        611,
        278,
        278,
        278,
        469,
        556,
        333,
        556,
        556,
        500,
        556,
        556,
        278,
        556,
        556,
        222,
        222,
        500,
        222,
        833,
        556,
        556,
        556,
        556,
        333,
        500,
        278,
        556,
        500,
        722,
        500,
        500,
        500,
        334,
        260,
        334,
        584,
    ],
    BOLD: [
        278,
        333,
        474,
        556,
        556,
        889,
        722,
        238,
        333,
        333,
        389,
        584,
        278,
        333,
        278,
        278,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        556,
        333,
        333,
        584,
        584,
        584,
        611,
        975,
        722,
        722,
        722,
        722,
        667,
        611,
        778,
        722,
        278,
        556,
        722,
        611,
        833,
        722,
        778,
        667,
        778,
        722,
        667,
        611,
        722,
        667,
        944,
        667,
        667,
        611,
        333,
        278,
        333,
        584,
        556,
        333,
        556,
        611,
        556,
        611,
        556,
        333,
        611,
        611,
        278,
        278,
        556,
        278,
        889,
        611,
        611,
        611,
        611,
        389,
        556,
        333,
        611,
        556,
        778,
        556,
        556,
        500,
        389,
        280,
        389,
        584,
    ],
}
_SPECIAL_WIDTHS = {
    "œ": (944, 944),
    "Œ": (1000, 1000),
    "æ": (889, 889),
    "Æ": (1000, 1000),
    "«": (556, 556),
    "»": (556, 556),
    "’": (222, 278),
    "‘": (222, 278),
    "“": (333, 500),
    "”": (333, 500),
    "–": (556, 556),
    "—": (1000, 1000),
    "…": (1000, 1000),
    "€": (556, 556),
    "°": (400, 400),
    "•": (350, 350),
    "\xa0": (278, 278),
    "ß": (611, 611),
}
# Characters outside cp1252 that French text often carries, and what to print instead.
_SUBSTITUTES = {"\u202f": "\xa0", "\u2009": " ", "\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2019": "’"}


def _clean(text: str) -> str:
    text = "".join(_SUBSTITUTES.get(ch, ch) for ch in str(text))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


def encode(text: str) -> bytes:
    """cp1252 (WinAnsiEncoding) bytes of `text`; a character it lacks loses its accent,
    else becomes "?"."""
    out = bytearray()
    for ch in _clean(text):
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("cp1252", errors="ignore")
            out += base or b"?"
    return bytes(out)


def char_width(ch: str, font: str = REGULAR) -> int:
    index = 0 if font == REGULAR else 1
    if ch in _SPECIAL_WIDTHS:
        return _SPECIAL_WIDTHS[ch][index]
    code = ord(ch)
    if 32 <= code <= 126:
        return _ASCII_WIDTHS[font][code - 32]
    base = unicodedata.normalize("NFD", ch)[:1]
    if base and 32 <= ord(base) <= 126:
        return _ASCII_WIDTHS[font][ord(base) - 32]
    return 556


def text_width(text: str, font: str, size: float) -> float:
    return sum(char_width(ch, font) for ch in _clean(text)) * size / 1000


def _literal(data: bytes) -> bytes:
    """A PDF literal string; "/" and "<" escaped too (see the module docstring)."""
    out = bytearray(b"(")
    for byte in data:
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif byte in (0x2F, 0x3C) or byte < 32:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def _info_string(text: str) -> bytes:
    """A metadata string in UTF-16BE with its byte order mark (any character)."""
    return b"<FEFF" + _clean(text).encode("utf-16-be").hex().upper().encode() + b">"


def _pdf_date(moment: datetime) -> bytes:
    moment = moment.astimezone(timezone.get_current_timezone()) if timezone.is_aware(moment) else moment
    offset = moment.utcoffset()
    if offset is None:
        zone = ""
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        zone = f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    return f"(D:{moment:%Y%m%d%H%M%S}{zone})".encode()


@dataclass
class _Line:
    runs: list[tuple[str, str]]  # (font, text)
    size: float
    indent: float
    space_before: float = 0.0
    leading: float = 0.0
    bullet: bool = False
    keep_with_next: int = 0


class PdfDocument:
    """A text document laid out on A4 pages. Add blocks, then `render()` the bytes."""

    def __init__(self, title: str, *, size: float = 10.5, created_at: datetime | None = None) -> None:
        self.title = title
        self.size = size
        self.created_at = created_at or timezone.now()
        self._lines: list[_Line] = []

    # --- Blocks ---------------------------------------------------------------------------

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 17.0, 2: 13.0}.get(level, 11.5)
        space = {1: 6.0, 2: 12.0}.get(level, 8.0)
        lines = self._wrap([(BOLD, text)], size, 0)
        for i, line in enumerate(lines):
            line.space_before = space if i == 0 else 0
            line.keep_with_next = 2  # never alone at the bottom of a page
        self._lines += lines

    def paragraph(self, text: str, *, bold: bool = False, label: str = "", indent: float = 0) -> None:
        """A paragraph; `label` is printed in bold before the text ("Label : text")."""
        for i, block in enumerate(_clean(text).split("\n") or [""]):
            runs = [(BOLD, f"{label} : ")] if label and i == 0 else []
            runs.append((BOLD if bold else REGULAR, block))
            lines = self._wrap(runs, self.size, indent)
            if lines and i == 0:
                lines[0].space_before = 4
            self._lines += lines

    def bullets(self, items: list[str]) -> None:
        for item in items:
            lines = self._wrap([(REGULAR, _clean(item).replace("\n", " "))], self.size, 14)
            if lines:
                lines[0].bullet = True
                lines[0].space_before = 2
            self._lines += lines

    def spacer(self, height: float = 8) -> None:
        self._lines.append(_Line(runs=[], size=self.size, indent=0, space_before=height))

    # --- Layout ---------------------------------------------------------------------------

    def _wrap(self, runs: list[tuple[str, str]], size: float, indent: float) -> list[_Line]:
        width = PAGE_WIDTH - 2 * MARGIN - indent
        words: list[tuple[str, str]] = []
        for font, text in runs:
            for word in text.split(" "):
                if word:
                    words.append((font, word))
        lines: list[_Line] = []
        current: list[tuple[str, str]] = []
        used = 0.0
        for font, word in words:
            for piece in self._split_long(word, font, size, width):
                piece_width = text_width(piece, font, size)
                space = text_width(" ", font, size) if current else 0.0
                if current and used + space + piece_width > width:
                    lines.append(self._line(current, size, indent))
                    current, used, space = [], 0.0, 0.0
                current.append((font, piece))
                used += space + piece_width
        if current or not lines:
            lines.append(self._line(current, size, indent))
        return lines

    @staticmethod
    def _split_long(word: str, font: str, size: float, width: float) -> list[str]:
        if text_width(word, font, size) <= width:
            return [word]
        pieces, piece = [], ""
        for ch in word:
            if piece and text_width(piece + ch, font, size) > width:
                pieces.append(piece)
                piece = ""
            piece += ch
        return [*pieces, piece]

    @staticmethod
    def _line(words: list[tuple[str, str]], size: float, indent: float) -> _Line:
        runs: list[tuple[str, str]] = []
        for font, word in words:
            if runs and runs[-1][0] == font:
                runs[-1] = (font, f"{runs[-1][1]} {word}")
            elif runs:
                runs[-1] = (runs[-1][0], runs[-1][1] + " ")
                runs.append((font, word))
            else:
                runs.append((font, word))
        return _Line(runs=runs, size=size, indent=indent, leading=size * 1.35)

    def _pages(self) -> list[list[tuple[_Line, float]]]:
        """Lines placed on pages: (line, baseline y)."""
        top, bottom = PAGE_HEIGHT - MARGIN, MARGIN + 12
        pages: list[list[tuple[_Line, float]]] = [[]]
        y = top
        lines = self._lines
        for index, line in enumerate(lines):
            step = line.space_before + (line.leading or line.size * 1.35)
            needed = step + sum(
                (nxt.leading or 0) + nxt.space_before for nxt in lines[index + 1 : index + 1 + line.keep_with_next]
            )
            if pages[-1] and y - needed < bottom:
                pages.append([])
                y = top
                step = line.leading or line.size * 1.35
            y -= step
            pages[-1].append((line, y))
        return pages

    # --- Output ---------------------------------------------------------------------------

    def _page_stream(self, placed: list[tuple[_Line, float]], number: int, total: int) -> bytes:
        out = bytearray()
        for line, y in placed:
            if not line.runs:
                continue
            x = MARGIN + line.indent
            if line.bullet:
                out += b"BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n" % (line.size, x - 10, y, _literal(encode("•")))
            out += b"BT %.2f %.2f Td" % (x, y)
            for font, text in line.runs:
                out += b" /%s %.2f Tf %s Tj" % (font.encode(), line.size, _literal(encode(text)))
            out += b" ET\n"
        footer = f"{self.title} — page {number} sur {total}"
        width = text_width(footer, REGULAR, 8)
        out += b"0.35 g BT /F1 8 Tf %.2f %.2f Td %s Tj ET 0 g\n" % (
            (PAGE_WIDTH - width) / 2,
            FOOTER_Y,
            _literal(encode(footer)),
        )
        return bytes(out)

    def render(self) -> bytes:
        """The PDF file. Objects: 1 catalog, 2 page tree, 3–4 fonts, 5 metadata, then a
        page and its content stream for each page."""
        pages = self._pages()
        objects: list[bytes] = []
        page_ids = [6 + 2 * i for i in range(len(pages))]
        objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
        objects.append(
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % pid for pid in page_ids), len(pages))
        )
        for name in ("Helvetica", "Helvetica-Bold"):
            objects.append(
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % name.encode()
            )
        objects.append(
            b"<< /Title %s /Producer %s /CreationDate %s >>"
            % (_info_string(self.title), _info_string(PRODUCER), _pdf_date(self.created_at))
        )
        for number, placed in enumerate(pages, start=1):
            stream = self._page_stream(placed, number, len(pages))
            objects.append(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << "
                b"/F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT, page_ids[number - 1] + 1)
            )
            objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        return bytes(out)
