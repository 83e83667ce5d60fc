"""The page every billing paper (proofs of service, invoices, credit notes, collective
invoices) is printed on: the provider's letterhead, the footer, labelled fields. What the
papers say is in `carecal.billing.wording`.
"""

from datetime import UTC, date, datetime, time

from fpdf import FPDF

from carecal.billing.wording import Provider, provider_lines
from carecal.pdf import FONT, document


class Paper(FPDF):
    """A page with the provider and the page number in its footer."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(90)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Seite {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)


def paper(org: Provider, *, orientation: str = "P", created: date | None = None) -> Paper:
    """A new page of the association's paper. `created` dates the file itself (its
    metadata): the same day gives the same bytes, so a reprint of an issued invoice is
    byte for byte the one sent."""
    pdf = document(Paper, orientation=orientation)
    if created is not None:
        pdf.set_creation_date(datetime.combine(created, time(12), UTC))
    pdf.footer_text = " · ".join([org.name, *provider_lines(org)[-1:]])
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.set_margins(15, 12, 15)
    pdf.add_page()
    return pdf


def letterhead(pdf: FPDF, org: Provider) -> None:
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 6, org.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    for line in provider_lines(org):
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    if org.recognition:
        pdf.multi_cell(0, 4, org.recognition, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def fields(pdf: FPDF, rows: list[tuple[str, str]], label_width: float = 42, size: float = 9) -> None:
    """Label: value lines (bold labels), each value wrapping in its own column."""
    for label, value in rows:
        pdf.set_font(FONT, "B", size)
        pdf.cell(label_width, size * 0.55, label + ":")
        pdf.set_font(FONT, size=size)
        pdf.multi_cell(0, size * 0.55, value, align="L", new_x="LMARGIN", new_y="NEXT")
