"""Reading the portal's PDFs back in tests, with pypdf (an independent reader): the text
of each page as a viewer would copy it, the XMP metadata, and every object of the file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject, StreamObject


@dataclass
class ReadPdf:
    reader: PdfReader
    pages: list[str]

    @property
    def text(self) -> str:
        """All pages, whitespace collapsed to single spaces (line breaks inside a table
        cell or a wrapped line read as spaces)."""
        return " ".join(" ".join(self.pages).split())

    @property
    def body(self) -> str:
        """Like `text`, without each page's header (two lines) and footer (the last line):
        a paragraph or a table cell that runs over a page break reads in one piece."""
        kept = [line for page in self.pages for line in page.rstrip().split("\n")[2:-1]]
        return " ".join(" ".join(kept).split())

    @property
    def title(self) -> str:
        return self.reader.xmp_metadata.dc_title["x-default"]

    def objects(self) -> Iterator[PdfObject]:
        """Every indirect object of the cross-reference table, resolved."""
        for number in range(1, int(self.reader.trailer["/Size"])):
            obj = self.reader.get_object(number)
            if obj is not None:
                yield obj

    def dictionaries(self) -> Iterator[DictionaryObject]:
        """Every dictionary of the file, direct ones nested in objects included (stream
        dictionaries too)."""
        stack: list = list(self.objects())
        while stack:
            node = stack.pop()
            if isinstance(node, IndirectObject):
                continue  # reached on its own through objects()
            if isinstance(node, DictionaryObject | StreamObject):
                yield node
                stack.extend(node.values())
            elif isinstance(node, ArrayObject):
                stack.extend(node)


def read_pdf(data: bytes) -> ReadPdf:
    """Parse `data` strictly (a broken cross-reference table or object raises) and
    extract the text of each page in content order."""
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(data), strict=True)
    return ReadPdf(reader=reader, pages=[page.extract_text() for page in reader.pages])
