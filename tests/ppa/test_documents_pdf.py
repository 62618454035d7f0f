"""The small PDF writer (coordination.pdf): structure, accents, page breaks, upload check.

`read_pdf` is a tiny reader of what the writer produces (uncompressed streams, literal
strings): it checks the cross-reference table and extracts the text of each page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile

from coordination.pdf import PdfDocument
from documents.uploads import check_upload

ACCENTS = "Élodie a ré-écrit à côté : « ça coûte » l’œuvre, âge, garçon, Noël, où, Œdipe — fin…"


@dataclass
class ReadPdf:
    objects: dict[int, bytes]
    pages: list[str]
    info: bytes


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x5C:  # backslash
            nxt = raw[i + 1 : i + 2]
            if nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1 :]).group()
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(nxt, nxt)
            i += 2
            continue
        out.append(byte)
        i += 1
    return bytes(out)


def read_pdf(data: bytes) -> ReadPdf:
    """Parse the file through its xref table (every offset must open its object) and
    return the text of each page, in order, decoded from WinAnsi (cp1252)."""
    assert data.startswith(b"%PDF-1.4\n")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    assert data[startxref : startxref + 4] == b"xref"
    header = re.match(rb"xref\n0 (\d+)\n", data[startxref:])
    count = int(header.group(1))
    table = data[startxref + header.end() :]
    objects = {}
    for number in range(1, count):
        entry = table[20 * number : 20 * number + 20]
        assert len(entry) == 20 and entry.endswith(b" n \n"), entry
        offset = int(entry[:10])
        match = re.match(rb"(\d+) 0 obj\n(.*?)\nendobj\n", data[offset:], re.S)
        assert match and int(match.group(1)) == number, f"xref offset of object {number} is wrong"
        objects[number] = match.group(2)
    trailer = re.search(rb"trailer\n<< /Size (\d+) /Root (\d+) 0 R /Info (\d+) 0 R >>", data)
    assert int(trailer.group(1)) == count
    root = objects[int(trailer.group(2))]
    pages_id = int(re.search(rb"/Pages (\d+) 0 R", root).group(1))
    tree = objects[pages_id]
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", tree).group(1))]
    assert int(re.search(rb"/Count (\d+)", tree).group(1)) == len(kids)
    pages = []
    for kid in kids:
        page = objects[kid]
        assert b"/Type /Page " in page and b"/MediaBox [0 0 595.28 841.89]" in page
        content = objects[int(re.search(rb"/Contents (\d+) 0 R", page).group(1))]
        length = int(re.search(rb"/Length (\d+)", content).group(1))
        stream = content.split(b"stream\n", 1)[1]
        assert stream[length:] == b"\nendstream", "stream /Length is wrong"
        lines = []
        for block in re.findall(rb"BT(.*?)ET", stream[:length], re.S):
            strings = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", block, re.S)
            lines.append("".join(_unescape(s).decode("cp1252") for s in strings))
        pages.append("\n".join(lines))
    return ReadPdf(objects=objects, pages=pages, info=objects[int(trailer.group(3))])


def _info_text(info: bytes, key: str) -> str:
    hexa = re.search(rb"/" + key.encode() + rb" <FEFF([0-9A-F]*)>", info).group(1)
    return bytes.fromhex(hexa.decode()).decode("utf-16-be")


def test_it_writes_a_valid_pdf_with_metadata_and_one_page():
    doc = PdfDocument("Projet personnalisé d'Élodie")
    doc.heading("Attentes")
    doc.paragraph("Aime le café.", label="Goûts")
    doc.bullets(["Atelier mémoire", "Promenade"])
    pdf = read_pdf(doc.render())
    assert len(pdf.pages) == 1
    assert "Attentes" in pdf.pages[0] and "Goûts : Aime le café." in pdf.pages[0]
    assert "•\nAtelier mémoire" in pdf.pages[0]
    assert "page 1 sur 1" in pdf.pages[0]
    assert _info_text(pdf.info, "Title") == "Projet personnalisé d'Élodie"
    assert _info_text(pdf.info, "Producer") == "Portail de coordination"
    assert re.search(rb"/CreationDate \(D:\d{14}[+-]\d\d'\d\d'\)", pdf.info)
    assert b"/BaseFont /Helvetica /Encoding /WinAnsiEncoding" in pdf.objects[3]
    assert b"/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding" in pdf.objects[4]


def test_it_renders_french_accents_in_winansi():
    doc = PdfDocument("Accents")
    doc.paragraph(ACCENTS)
    data = doc.render()
    assert ACCENTS.encode("cp1252")[:20] in data  # raw cp1252 bytes in the content stream
    text = read_pdf(data).pages[0].replace("\n", " ")
    for word in ("Élodie", "ré-écrit", "à", "côté", "« ça coûte »", "l’œuvre", "garçon", "Noël", "Œdipe", "fin…"):
        assert word in text


def test_it_wraps_long_paragraphs_inside_the_margins():
    doc = PdfDocument("Long")
    doc.paragraph("Mot " * 300 + "x" * 400)
    page = read_pdf(doc.render()).pages[0]
    lines = [line for line in page.split("\n") if line.startswith("Mot") or line.startswith("x")]
    assert len(lines) > 10
    from coordination.pdf import MARGIN, PAGE_WIDTH, REGULAR, text_width

    assert all(text_width(line, REGULAR, 10.5) <= PAGE_WIDTH - 2 * MARGIN + 0.01 for line in lines)
    assert "".join(line for line in lines if line.startswith("x")) == "x" * 400  # a long word is cut


def test_it_breaks_pages_and_numbers_them():
    doc = PdfDocument("Plan très long")
    for n in range(30):
        doc.heading(f"Objectif {n}", 2)
        doc.paragraph("Une phrase d'explication qui occupe de la place sur la page. " * 4)
        doc.bullets([f"Modalité {n}.{i}" for i in range(4)])
    pdf = read_pdf(doc.render())
    assert len(pdf.pages) >= 4
    for number, page in enumerate(pdf.pages, start=1):
        assert f"Plan très long — page {number} sur {len(pdf.pages)}" in page
    everything = "\n".join(pdf.pages)
    assert all(f"Objectif {n}\n" in everything for n in range(30))
    for page in pdf.pages:  # a heading is never the last line of a page
        body = page.split("\n")[:-1]
        assert not body[-1].startswith("Objectif ")


def test_it_passes_the_upload_check_even_with_pdf_keywords_in_the_text():
    doc = PdfDocument("Mots piégés")
    doc.paragraph("/JavaScript /JS /Launch /EmbeddedFile (parenthèses) et \\ barre")
    data = doc.render()
    checked = check_upload(ContentFile(data, name="x.pdf"))
    assert checked.content_type == "application/pdf" and checked.extension == "pdf"
    assert "/JavaScript /JS /Launch /EmbeddedFile (parenthèses) et \\ barre" in read_pdf(data).pages[0]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_it_writes_a_page_even_for_empty_text(text):
    doc = PdfDocument("Vide")
    doc.paragraph(text)
    assert len(read_pdf(doc.render()).pages) == 1
