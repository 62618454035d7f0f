"""The portal's PDF writer (common.pdf, on fpdf2): what a reader copies out of the file —
names outside cp1252, accents, wrapping, tables, page breaks and numbers —, PDF/A-2U
metadata and fonts, and nothing active, so the upload check accepts it."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.core.files.base import ContentFile
from pypdf.generic import ArrayObject, NameObject

from common.pdf import BODY_WIDTH, PAGE_HEIGHT, PAGE_WIDTH, PdfDocument, text_width
from common.timezone import PARIS
from documents.uploads import check_upload
from tests.pdf_reader import read_pdf

ACCENTS = "Élodie a ré-écrit à côté : « ça coûte » l’œuvre, âge, garçon, Noël, où, Œdipe — fin…"
# Names of the civil status that cp1252 (the old writer's Helvetica) printed as "?".
NAMES = ["Łukasz", "Nguyễn", "Ørsted", "Zoë", "Şükrü", "Đặng", "Anaïs-Žaneta", "Σοφία", "Светлана"]
SIGNS = ["œ", "’", "—", "≥", "≤", "€", "½", "✓"]


def test_it_writes_one_a4_page_with_its_metadata():
    created = datetime(2026, 11, 3, 14, 30, tzinfo=PARIS)
    doc = PdfDocument("Projet personnalisé d'Élodie", created_at=created)
    doc.heading("Attentes")
    doc.paragraph("Aime le café.", label="Goûts")
    doc.bullets(["Atelier mémoire", "Promenade"])
    pdf = read_pdf(doc.render())
    [page] = pdf.pages
    assert "Attentes" in page and "Goûts : Aime le café." in page
    assert "• Atelier mémoire\n• Promenade" in page
    assert page.startswith("Portail de coordination\n")  # the header, on every page
    assert "Projet personnalisé d'Élodie — page 1 sur 1" in page
    box = pdf.reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (PAGE_WIDTH, PAGE_HEIGHT)
    xmp = pdf.reader.xmp_metadata
    assert pdf.title == "Projet personnalisé d'Élodie"
    assert xmp.pdf_producer == "Portail de coordination"
    assert xmp.xmp_create_date.strftime("%Y-%m-%d %H:%M") == "2026-11-03 13:30"  # UTC
    assert pdf.reader.trailer["/Root"]["/Lang"] == "fr-FR"


def test_it_declares_pdf_a_2u_and_embeds_every_font():
    doc = PdfDocument("Archivage")
    doc.heading("Titre")
    doc.paragraph("Texte courant et **gras**.", label="Libellé")
    doc.table(["A", "B"], [["un", "deux"]])
    pdf = read_pdf(doc.render())
    xmp = pdf.reader.xmp_metadata
    part = xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "part")
    conformance = xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "conformance")
    assert [node.firstChild.data for node in part] == ["2"]
    assert [node.firstChild.data for node in conformance] == ["U"]
    [intent] = pdf.reader.trailer["/Root"]["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and intent["/OutputConditionIdentifier"] == "sRGB"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and len(profile.get_data()) > 1000  # an ICC profile
    assert "/ID" in pdf.reader.trailer and "/Encrypt" not in pdf.reader.trailer
    fonts = [d for d in pdf.dictionaries() if d.get("/Type") == "/Font"]
    assert {f["/Subtype"] for f in fonts} == {"/Type0", "/CIDFontType2"}  # no standard-14 font
    descriptors = [d for d in pdf.dictionaries() if d.get("/Type") == "/FontDescriptor"]
    assert len(descriptors) == 2  # regular and bold
    for descriptor in descriptors:
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(Book|Bold)", descriptor["/FontName"])
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000  # the subset, embedded
    assert all("/ToUnicode" in f for f in fonts if f["/Subtype"] == "/Type0")


def test_it_prints_names_outside_cp1252_as_written_everywhere():
    title = f"Projet de {NAMES[0]} {NAMES[1]} ≥ 2"
    doc = PdfDocument(title)
    doc.heading(" ".join(NAMES[:4]))
    doc.paragraph(" ".join(NAMES), label=NAMES[2])
    doc.bullets(NAMES)
    doc.table(["Nom", "Signes"], [[name, " ".join(SIGNS)] for name in NAMES])
    pdf = read_pdf(doc.render())
    text = pdf.text
    assert " ".join(NAMES[:4]) in text
    assert f"{NAMES[2]} : {' '.join(NAMES)}" in text
    assert "\n".join(f"• {name}" for name in NAMES) in pdf.pages[0]
    for name in NAMES:
        assert f"{name} {' '.join(SIGNS)}" in text  # a table row, cell after cell
    assert f"{title} — page 1 sur 1" in text
    assert pdf.title == title
    assert "?" not in text


def test_it_renders_french_accents():
    doc = PdfDocument("Accents")
    doc.paragraph(ACCENTS)
    assert ACCENTS in read_pdf(doc.render()).text


def test_it_prints_what_the_font_lacks_as_its_base_letters_or_a_question_mark():
    doc = PdfDocument("Caractères")
    # Full-width letters and the square kilogram sign decompose; CJK and emoji are not in
    # the font; control, zero-width and private-use characters are dropped.
    doc.paragraph("Ｍａｒｉｅ 5 ㎏ 李 😀 a\x00b\x0bc\u200bd\ue000\ue001e")
    assert "Marie 5 kg ? ? abcde" in read_pdf(doc.render()).text


def test_it_wraps_long_paragraphs_inside_the_margins():
    doc = PdfDocument("Long")
    doc.paragraph("Mot " * 300 + "x" * 400)
    page = read_pdf(doc.render()).pages[0]
    lines = [line.strip() for line in page.split("\n") if line.startswith(("Mot", "x"))]
    assert len(lines) > 10
    assert all(text_width(line) <= BODY_WIDTH + 0.01 for line in lines)
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
        assert page.startswith("Portail de coordination\n")
        assert page.rstrip().endswith(f"Plan très long — page {number} sur {len(pdf.pages)}")
    everything = "\n".join(pdf.pages)
    assert all(f"\nObjectif {n}\n" in everything for n in range(30))
    assert [int(n) for n in re.findall(r"\nObjectif (\d+)\n", everything)] == list(range(30))
    for page in pdf.pages:  # a heading is never the last line of a page
        body = page.rstrip().split("\n")[:-1]
        assert not body[-1].startswith("Objectif ")


def test_it_repeats_the_heading_row_of_a_table_on_each_page():
    doc = PdfDocument("Tableau")
    doc.heading("Besoins", 2)
    doc.table(
        ["Code", "Besoin", "Précisions"],
        [[f"1.{n}", f"Besoin {n}", "Une précision qui prend un peu de place. " * 3] for n in range(80)],
        widths=[1, 2, 5],
    )
    pdf = read_pdf(doc.render())
    assert len(pdf.pages) >= 3
    for page in pdf.pages:
        assert "Code Besoin Précisions" in page
    rows = [int(n) for n in re.findall(r"\b1\.(\d+) Besoin \1\b", pdf.text)]
    assert rows == list(range(80))  # every row, once, in order


def test_it_prints_rows_too_tall_for_a_page_as_labelled_records():
    long = "Une observation très détaillée de la journée. " * 250  # about four pages
    doc = PdfDocument("Rangée géante")
    doc.table(["Code", "Précisions"], [["1.1", "Courte"], ["1.2", long]])
    pdf = read_pdf(doc.render())
    assert len(pdf.pages) >= 3
    assert "Code : 1.1 Précisions : Courte Code : 1.2 Précisions : Une observation" in pdf.text
    assert " ".join(long.split()) in pdf.body


def test_it_says_so_when_a_table_has_no_rows():
    doc = PdfDocument("Vide")
    doc.heading("Objectifs", 2)
    doc.table(["Objectif", "État"], [], empty="Aucun objectif")
    text = read_pdf(doc.render()).text
    assert "Objectifs Aucun objectif" in text and "État" not in text


def test_it_refuses_a_row_with_the_wrong_number_of_cells():
    with pytest.raises(ValueError, match="one cell per column"):
        PdfDocument("x").table(["A", "B"], [["seul"]])


HOSTILE = "/JavaScript /JS /Launch /EmbeddedFile /OpenAction (parenthèses) et \\ barre <script>alert(1)</script>"


def test_it_passes_the_upload_check_with_pdf_keywords_and_markup_in_the_text():
    doc = PdfDocument(f"Mots piégés {HOSTILE} javascript:alert(1)")
    doc.paragraph(HOSTILE, label="<b>Libellé</b>")
    doc.table(["/JS", "<iframe>"], [[HOSTILE, "javascript:alert(1)"]])
    data = doc.render()
    checked = check_upload(ContentFile(data, name="x.pdf"))
    assert checked.content_type == "application/pdf" and checked.extension == "pdf"
    assert b"<script" not in data and b"javascript:" not in data.lower()  # text compressed, XMP escaped
    pdf = read_pdf(data)
    assert f"<b>Libellé</b> : {HOSTILE}" in pdf.text and f"{HOSTILE} javascript:alert(1)" in pdf.text


def test_it_holds_no_script_action_form_annotation_or_attachment():
    doc = PdfDocument("Rien d'actif")
    doc.paragraph("https://exemple.fr/ et mailto:x@exemple.fr restent du texte.")
    pdf = read_pdf(doc.render())
    active = {"/JS", "/JavaScript", "/AA", "/A", "/URI", "/Launch", "/EmbeddedFiles", "/EF", "/AcroForm"}
    active |= {"/XFA", "/Annots", "/Names", "/RichMediaContent"}
    for dictionary in pdf.dictionaries():
        assert not active & set(dictionary.keys()), dictionary
        assert dictionary.get("/Type") not in ("/Filespec", "/EmbeddedFile", "/Action", "/Annot")
    # The opening view is a destination (first page, fit width), not an action.
    open_action = pdf.reader.trailer["/Root"]["/OpenAction"]
    assert isinstance(open_action, ArrayObject) and isinstance(open_action[1], NameObject)
    assert open_action[0].idnum == pdf.reader.trailer["/Root"]["/Pages"]["/Kids"][0].idnum


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_it_writes_a_page_even_for_empty_text(text):
    doc = PdfDocument("Vide")
    doc.paragraph(text)
    assert len(read_pdf(doc.render()).pages) == 1


def test_it_shortens_a_title_too_long_for_the_footer_line():
    title = "Projet personnalisé de " + "Marie-" * 2000 + "Claire"
    doc = PdfDocument(title)
    doc.paragraph("Texte.")
    pdf = read_pdf(doc.render())
    footer = pdf.pages[0].rstrip().split("\n")[-1]
    assert footer.startswith("Projet personnalisé de Marie-Marie-") and footer.endswith("… — page 1 sur 1")
    assert text_width(footer, size=8) <= BODY_WIDTH
    assert pdf.title == title  # the metadata keeps it whole
