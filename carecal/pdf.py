"""PDF documents that show any script as written.

Every PDF carecal writes (proofs of service, invoices, handouts) starts from `document()`:
an A4 fpdf2 document with the DejaVu Sans font (regular and bold, shipped in
`carecal/fonts/` with its licence) embedded, and text shaping by HarfBuzz (uharfbuzz), so
Cyrillic, Ukrainian, Vietnamese and Arabic names render correctly (Arabic joined and right
to left). Only the glyphs used are embedded, so a one-page PDF stays small.
"""

from pathlib import Path
from typing import TypeVar, overload

from fpdf import FPDF

FONT = "DejaVu"
FONT_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

Document = TypeVar("Document", bound=FPDF)


@overload
def document(*, orientation: str = "P") -> FPDF: ...
@overload
def document(cls: type[Document], *, orientation: str = "P") -> Document: ...


def document(cls: type[FPDF] = FPDF, *, orientation: str = "P") -> FPDF:
    """A new A4 document (`cls`, an FPDF subclass for headers/footers) in portrait ("P")
    or landscape ("L"), with the font `FONT` in styles "" and "B" already selected."""
    pdf = cls(orientation=orientation, unit="mm", format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, FONT_DIR / name)
    pdf.set_text_shaping(True)
    pdf.set_font(FONT, size=10)
    return pdf
