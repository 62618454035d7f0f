"""The portal's printable documents (A4, French), written with fpdf2.

A document is a title and a flow of blocks — headings, paragraphs (with a bold
"Label : "), bullet lists and tables — laid out on A4 pages under a header with the
portal's logo (drawn in vector, no image file) and above a footer "title — page N sur M".
Long text wraps, a long word is cut, a heading never ends a page, a table repeats its
heading row on each page, and a table whose rows could not fit on one page is printed as a
list of labelled records instead (fpdf2 cannot split a row).

The file is PDF/A-2U (fpdf2's compliance mode: fonts embedded, an sRGB output intent, text
extractable through ToUnicode maps; our own XMP metadata). The font is DejaVu Sans, shipped in
`common/fonts` (a Latin, Greek, Cyrillic and symbols subset; see its README): any name
of the French civil status prints as written (Łukasz, Nguyễn, Ørsted, Zoë…). A character
the font lacks prints as its base letter, else "?".

Nothing active: no script, action, form, annotation, link or attached file, so the
file passes `documents.uploads.check_upload`; content streams are compressed and the
XMP metadata escapes every sign, so a person's text never shows in the raw file as markup
or as a PDF name.

    doc = PdfDocument("Projet personnalisé")
    doc.heading("Objectifs", 2)
    doc.paragraph("Garder ses repères.", label="Souhait")
    doc.bullets(["Atelier mémoire", "Promenade"])
    doc.table(["Objectif", "Échéance"], [["Garder ses repères", "01/06/2027"]])
    data = doc.render()
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import cast

from django.utils import timezone
from fpdf import FPDF, FontFace, ViewerPreferences
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import TTFFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "dejavu"
PRODUCER = "Portail de coordination"
COMPLIANCE = "PDF/A-2U"

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4 in points
MARGIN = 56.7  # 2 cm
TOP = 70.0  # below the header band
BOTTOM = 52.0  # above the footer
FOOTER_Y = 30.0  # footer baseline band, from the bottom edge
BODY_SIZE = 10.0
TABLE_SIZE = 9.0
LEADING = 1.35
TABLE_LEADING = 1.3
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN

PRIMARY = (31, 78, 140)  # --color-primary of the portal's style sheet
PRIMARY_LIGHT = (232, 240, 250)
TEXT = (27, 27, 31)
MUTED = (74, 79, 87)
RULE = (213, 217, 224)

HEADING_SIZES = {1: 16.0, 2: 12.5}
HEADING_SPACE = {1: 2.0, 2: 10.0}
# The total page count is written where this alias stands once the last page is known.
# Private-use characters, which `clean` removes from any text given to the document, so
# that no person's text can contain it.
_TOTAL_PAGES = "\ue000\ue001"
# A table row taller than this share of the page body is not drawn as a table row.
_MAX_ROW_SHARE = 0.6


@cache
def _font_codepoints() -> frozenset[int]:
    """Code points the shipped font draws (regular and bold cover the same)."""
    font = _measurer().fonts[FONT_FAMILY]
    return frozenset(font.cmap) if isinstance(font, TTFFont) else frozenset()


def clean(text: object) -> str:
    """`text` as the document prints it: NFC, line breaks as "\\n", tabs as spaces,
    control, format and private-use characters dropped, any character the font lacks
    replaced by its base letters (compatibility decomposition) or "?"."""
    text = unicodedata.normalize("NFC", str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    covered = _font_codepoints()
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ch == "\u00ad":  # soft hyphen: a line-break opportunity fpdf2 understands
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn"):
            continue
        elif ord(ch) in covered:
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in covered)
            out.append(base.strip() or "?")
    return "".join(out)


def _xml_text(text: str) -> str:
    """`text` for the XMP packet, which PDF/A keeps uncompressed: letters, digits, spaces
    and a few marks as they are, anything else (/, :, <, &…) as a character reference,
    so that no text of a person reads as markup or a PDF name in the raw file."""
    return "".join(ch if ch.isalnum() or ch in " .,;'’-()" else f"&#{ord(ch)};" for ch in text)


def _xmp(*, title: str, created: datetime, producer: str) -> str:
    """The XMP metadata: title, dates, producer, language of the title and the PDF/A-2U
    identification, as COMPLIANCE says (no Info dictionary: fpdf2 writes none in PDF/A
    mode)."""
    stamp = created.astimezone(UTC).isoformat(timespec="seconds")
    return "\n".join(
        [
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
            '  <rdf:Description rdf:about=""',
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
            '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"',
            '    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">',
            "   <pdfaid:part>2</pdfaid:part>",
            "   <pdfaid:conformance>U</pdfaid:conformance>",
            f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml_text(title)}</rdf:li></rdf:Alt></dc:title>',
            "   <dc:language><rdf:Bag><rdf:li>fr-FR</rdf:li></rdf:Bag></dc:language>",
            f"   <xmp:CreateDate>{stamp}</xmp:CreateDate>",
            f"   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>",
            f"   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>",
            f"   <xmp:CreatorTool>{_xml_text(producer)}</xmp:CreatorTool>",
            f"   <pdf:Producer>{_xml_text(producer)}</pdf:Producer>",
            "  </rdf:Description>",
            " </rdf:RDF>",
            "</x:xmpmeta>",
        ]
    )


def _lines(result) -> list[str]:
    """multi_cell(output="LINES") answers the lines (fpdf2 types every output mode as one union)."""
    return cast(list[str], result)


@dataclass
class _Heading:
    text: str
    level: int


@dataclass
class _Table:
    headings: list[str]
    rows: list[list[str]]
    widths: list[float]
    empty: str
    too_tall: bool | None = None  # worked out once, at render time


@dataclass
class _Paragraph:
    text: str
    bold: bool = False
    label: str = ""
    indent: float = 0.0


@dataclass
class _Bullets:
    items: list[str] = field(default_factory=list)


@dataclass
class _Spacer:
    height: float


class _Writer(FPDF):
    """fpdf2 with the portal's header and footer."""

    def __init__(self, footer: str) -> None:
        super().__init__(orientation="portrait", unit="pt", format="A4", enforce_compliance=COMPLIANCE)
        self.footer_text = footer
        self.add_font(FONT_FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT_FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.alias_nb_pages(_TOTAL_PAGES, align="L")
        self.c_margin = 0

    def header(self) -> None:
        _draw_logo(self, MARGIN, 22.0, 24.0)
        self.set_xy(MARGIN + 32, 24.0)
        self.set_font(FONT_FAMILY, "B", 11)
        self.set_text_color(*PRIMARY)
        self.cell(0, 12, "Portail de coordination", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(MARGIN + 32)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 10, "Coordination du parcours de la personne", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.6)
        self.line(MARGIN, 56.0, PAGE_WIDTH - MARGIN, 56.0)
        self.set_xy(MARGIN, TOP)
        self.set_text_color(*TEXT)

    def footer(self) -> None:
        self.set_y(-FOOTER_Y - 6)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        pages = f" — page {self.page_no()} sur {_TOTAL_PAGES}"
        title, room = self.footer_text, self.epw - self.get_string_width(pages + "00")
        if self.get_string_width(title) > room:  # one line: a very long title is shortened
            title = title[:240]  # more than a line holds of the narrowest letters
            while title and self.get_string_width(title + "…") > room:
                title = title[:-1]
            title = title.rstrip() + "…"
        self.cell(0, 10, title + pages, align="C")
        self.set_text_color(*TEXT)


def _draw_logo(pdf: FPDF, x: float, y: float, size: float) -> None:
    """The portal's mark: a person (the dot) at the centre of their circle of care (the
    ring and three members), white on a rounded blue square."""
    pdf.set_fill_color(*PRIMARY)
    pdf.rect(x, y, size, size, style="F", round_corners=True, corner_radius=size * 0.22)
    cx, cy, ring = x + size / 2, y + size / 2, size * 0.30
    pdf.set_draw_color(255, 255, 255)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(size * 0.06)
    pdf.circle(cx, cy, ring, style="D")
    pdf.circle(cx, cy, size * 0.10, style="F")
    for angle in (-90, 30, 150):
        rad = math.radians(angle)
        pdf.circle(cx + ring * math.cos(rad), cy + ring * math.sin(rad), size * 0.075, style="F")


def text_width(text: str, *, bold: bool = False, size: float = BODY_SIZE) -> float:
    """Width in points of one line of `text` in the document's font."""
    pdf = _measurer()
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    return pdf.get_string_width(clean(text))


@cache
def _measurer() -> _Writer:
    return _Writer("")


class PdfDocument:
    """A text document laid out on A4 pages. Add blocks, then `render()` the bytes."""

    def __init__(self, title: str, *, size: float = BODY_SIZE, created_at: datetime | None = None) -> None:
        self.title = " ".join(clean(title).split())
        self.size = size
        self.created_at = created_at or timezone.now()
        self._blocks: list[_Heading | _Paragraph | _Bullets | _Table | _Spacer] = []

    # --- Blocks ---------------------------------------------------------------------------

    def heading(self, text: str, level: int = 1) -> None:
        self._blocks.append(_Heading(" ".join(clean(text).split()), level))

    def paragraph(self, text: str, *, bold: bool = False, label: str = "", indent: float = 0) -> None:
        """A paragraph; `label` is printed in bold before the text ("Label : text")."""
        self._blocks.append(_Paragraph(clean(text), bold, " ".join(clean(label).split()), indent))

    def bullets(self, items: Sequence[str]) -> None:
        self._blocks.append(_Bullets([" ".join(clean(item).split()) for item in items]))

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
        empty: str = "Aucun",
    ) -> None:
        """A table with a heading row; `widths` are relative column widths. No rows:
        the `empty` sentence instead."""
        if widths is not None and len(widths) != len(headings):
            raise ValueError("One width per column.")
        if any(len(row) != len(headings) for row in rows):
            raise ValueError("Each row has one cell per column.")
        self._blocks.append(
            _Table(
                headings=[" ".join(clean(h).split()) for h in headings],
                rows=[[clean(cell).strip() for cell in row] for row in rows],
                widths=list(widths or [1] * len(headings)),
                empty=clean(empty),
            )
        )

    def spacer(self, height: float = 8) -> None:
        self._blocks.append(_Spacer(height))

    # --- Output ---------------------------------------------------------------------------

    def render(self) -> bytes:
        """The PDF/A-2U file."""
        pdf = _Writer(self.title)
        created = self.created_at if timezone.is_aware(self.created_at) else timezone.make_aware(self.created_at)
        pdf.set_creation_date(created)
        pdf.set_lang("fr-FR")
        pdf.set_xmp_metadata(_xmp(title=self.title, created=created, producer=PRODUCER))
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        pdf.add_page()
        pending: list[_Heading] = []
        for block in self._blocks:
            if isinstance(block, _Heading):
                pending.append(block)
                continue
            self._keep_together(pdf, pending, block)
            for heading in pending:
                self._draw_heading(pdf, heading)
            pending = []
            self._draw(pdf, block)
        for heading in pending:
            self._draw_heading(pdf, heading)
        return bytes(pdf.output())

    def _line(self, size: float | None = None) -> float:
        return (size or self.size) * LEADING

    def _keep_together(self, pdf: _Writer, headings: list[_Heading], block) -> None:
        """Start a new page when the pending headings and the start of `block` (two lines,
        a bullet, a table's heading row and first row) would not fit on this one."""
        if not headings:
            return
        needed = sum(self._heading_height(pdf, h) for h in headings)
        if isinstance(block, _Table) and block.rows and not self._too_tall(pdf, block):
            needed += self._row_height(pdf, block, block.headings, bold=True)
            needed += self._row_height(pdf, block, block.rows[0])
        elif isinstance(block, _Paragraph | _Bullets):
            needed += 2 * self._line() + 4
        else:
            needed += self._line()
        if pdf.will_page_break(needed) and pdf.y > TOP + 1:
            pdf.add_page()

    def _heading_height(self, pdf: _Writer, heading: _Heading) -> float:
        size = HEADING_SIZES.get(heading.level, 11.5)
        pdf.set_font(FONT_FAMILY, "B", size)
        lines = _lines(pdf.multi_cell(BODY_WIDTH, size * 1.25, heading.text, dry_run=True, output="LINES"))
        return HEADING_SPACE.get(heading.level, 8.0) + len(lines) * size * 1.25 + 2

    def _draw_heading(self, pdf: _Writer, heading: _Heading) -> None:
        size = HEADING_SIZES.get(heading.level, 11.5)
        if pdf.y > TOP + 1:
            pdf.ln(HEADING_SPACE.get(heading.level, 8.0))
        pdf.set_font(FONT_FAMILY, "B", size)
        pdf.set_text_color(*PRIMARY)
        pdf.multi_cell(0, size * 1.25, heading.text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*TEXT)
        pdf.ln(2)

    def _draw(self, pdf: _Writer, block) -> None:
        if isinstance(block, _Paragraph):
            self._draw_paragraph(pdf, block)
        elif isinstance(block, _Bullets):
            self._draw_bullets(pdf, block.items)
        elif isinstance(block, _Table):
            self._draw_table(pdf, block)
        elif isinstance(block, _Spacer):
            pdf.ln(block.height)

    def _draw_paragraph(self, pdf: _Writer, paragraph: _Paragraph) -> None:
        pdf.ln(3)
        pdf.set_left_margin(MARGIN + paragraph.indent)
        pdf.set_x(MARGIN + paragraph.indent)
        if paragraph.label:
            pdf.set_font(FONT_FAMILY, "B", self.size)
            pdf.write(self._line(), f"{paragraph.label} : ")
        pdf.set_font(FONT_FAMILY, "B" if paragraph.bold else "", self.size)
        pdf.write(self._line(), paragraph.text)
        pdf.ln(self._line())
        pdf.set_left_margin(MARGIN)
        pdf.set_x(MARGIN)

    def _draw_bullets(self, pdf: _Writer, items: list[str]) -> None:
        for item in items:
            pdf.ln(2)
            if pdf.will_page_break(self._line()):
                pdf.add_page()
            y = pdf.y
            pdf.set_font(FONT_FAMILY, "", self.size)
            pdf.set_xy(MARGIN + 3, y)
            pdf.cell(11, self._line(), "•")
            pdf.set_xy(MARGIN + 14, y)
            pdf.multi_cell(BODY_WIDTH - 14, self._line(), item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # --- Tables ---------------------------------------------------------------------------

    PADDING = (2.5, 4.0)  # vertical, horizontal

    def _column_widths(self, table: _Table) -> list[float]:
        total = sum(table.widths)
        return [BODY_WIDTH * w / total for w in table.widths]

    def _row_height(self, pdf: _Writer, table: _Table, cells: Sequence[str], *, bold: bool = False) -> float:
        pdf.set_font(FONT_FAMILY, "B" if bold else "", TABLE_SIZE)
        vertical, horizontal = self.PADDING
        tallest = 1
        for width, text in zip(self._column_widths(table), cells, strict=True):
            lines = _lines(
                pdf.multi_cell(width - 2 * horizontal, TABLE_SIZE * TABLE_LEADING, text, dry_run=True, output="LINES")
            )
            tallest = max(tallest, len(lines))
        return tallest * TABLE_SIZE * TABLE_LEADING + 2 * vertical

    def _row_height_bound(self, pdf: _Writer, table: _Table, cells: Sequence[str]) -> float:
        """An upper bound of `_row_height`, from string widths only (no line breaking):
        two consecutive wrapped lines hold more than the cell's width."""
        pdf.set_font(FONT_FAMILY, "", TABLE_SIZE)
        vertical, horizontal = self.PADDING
        tallest = 1
        for width, text in zip(self._column_widths(table), cells, strict=True):
            inner = width - 2 * horizontal
            lines = sum(2 * math.ceil(pdf.get_string_width(part) / inner) + 1 for part in text.split("\n"))
            tallest = max(tallest, lines)
        return tallest * TABLE_SIZE * TABLE_LEADING + 2 * vertical

    def _too_tall(self, pdf: _Writer, table: _Table) -> bool:
        if table.too_tall is None:
            limit = (PAGE_HEIGHT - TOP - BOTTOM) * _MAX_ROW_SHARE
            table.too_tall = any(
                self._row_height_bound(pdf, table, row) > limit and self._row_height(pdf, table, row) > limit
                for row in table.rows
            )
        return table.too_tall

    def _draw_table(self, pdf: _Writer, table: _Table) -> None:
        if not table.rows:
            self._draw_paragraph(pdf, _Paragraph(table.empty))
            return
        if self._too_tall(pdf, table):
            self._draw_records(pdf, table)
            return
        pdf.ln(4)
        pdf.set_font(FONT_FAMILY, "", TABLE_SIZE)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.5)
        vertical, horizontal = self.PADDING
        total = sum(table.widths)
        with pdf.table(
            col_widths=[w / total for w in table.widths],
            align="L",
            text_align="LEFT",
            v_align="TOP",
            line_height=TABLE_SIZE * TABLE_LEADING,
            padding=(vertical, horizontal, vertical, horizontal),
            borders_layout=TableBordersLayout.ALL,
            headings_style=FontFace(emphasis="BOLD", color=PRIMARY, fill_color=PRIMARY_LIGHT),
            repeat_headings=1,
        ) as drawn:
            drawn.row(table.headings)
            for cells in table.rows:
                drawn.row(cells)
        pdf.set_x(MARGIN)
        pdf.ln(2)

    def _draw_records(self, pdf: _Writer, table: _Table) -> None:
        """The table as records, one labelled paragraph per cell: for rows too tall to
        fit on a page as a table row."""
        for cells in table.rows:
            pdf.ln(4)
            pdf.set_draw_color(*RULE)
            pdf.set_line_width(0.5)
            pdf.line(MARGIN, pdf.y, PAGE_WIDTH - MARGIN, pdf.y)
            for heading, text in zip(table.headings, cells, strict=True):
                if text:
                    self._draw_paragraph(pdf, _Paragraph(text, label=heading))
