"""What the billing papers (proofs of service, invoices, credit notes, collective invoices)
share: readable German labels, the provider's letterhead, addresses, and the page with its
footer. Pure: it reads the objects it is given, never the database.

Funding sources are named here, as a payer reads them; activities and service categories
are named by the organisation's catalogue (carecal.catalogue).
"""

from datetime import date

from fpdf import FPDF

from carecal.billing.billed import FUNDING_ORDER, Part
from carecal.billing.money import euros
from carecal.models import Client, Organisation
from carecal.pdf import FONT, document

# The funding source of an invoice line, as the statement names it and as a table cell.
FUNDING_TEXT = {
    "relief": "Entlastungsbetrag nach § 45b SGB XI",
    "conversion": "Umwandlungsanspruch nach § 45a Abs. 4 SGB XI",
    "private": "privat (nicht durch die Pflegeversicherung gedeckt)",
}
FUNDING_SHORT = {"relief": "§ 45b SGB XI", "conversion": "§ 45a Abs. 4 SGB XI", "private": "privat"}
OFFER = (
    "Die aufgeführten Leistungen sind Leistungen eines nach Landesrecht anerkannten Angebots zur "
    "Unterstützung im Alltag nach § 45a SGB XI."
)
VAT_EXEMPT = "Die Leistungen sind nach § 4 Nr. 16 UStG von der Umsatzsteuer befreit."


def funding_text(parts: list[Part], visit_day: date, *, amounts: bool = True) -> str:
    """How a visit (or one invoice line of it) is paid, one source a line, e.g.
    "§ 45b SGB XI 52,50 € (4,50 € Übertrag aus 2026, 48,00 € aus 2027)" and "privat 27,50 €":
    each source with its amount (`amounts`), and relief money from last year named as the
    carry-over it is."""
    lines = []
    for funding in FUNDING_ORDER:
        mine = [part for part in parts if part.funding == funding]
        if not mine:
            continue
        text = FUNDING_SHORT[funding] + (f" {euros(sum(p.amount_cents for p in mine))}" if amounts else "")
        if any(part.carried_over(visit_day) for part in mine):
            text += " (" + ", ".join(_vintage(part, visit_day) for part in mine) + ")"
        lines.append(text)
    return "\n".join(lines)


def _vintage(part: Part, visit_day: date) -> str:
    if part.carried_over(visit_day):
        return f"{euros(part.amount_cents)} Übertrag aus {part.vintage}"
    return f"{euros(part.amount_cents)} aus {part.vintage}"


def day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def provider_lines(org: Organisation) -> list[str]:
    contact = " · ".join(x for x in (org.phone and f"Tel. {org.phone}", org.email) if x)
    ids = " · ".join(x for x in (f"IK {org.ik}", org.tax_number and f"Steuernummer {org.tax_number}") if x)
    return [x for x in (f"{org.street}, {org.postcode} {org.city}", contact, ids) if x]


def client_address(client: Client, org: Organisation) -> str:
    """Street, postcode and town of the client's home (clients live in the association's town)."""
    town = " ".join(x for x in (client.postcode, org.city) if x)
    return ", ".join(x for x in (client.street, town) if x)


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


def paper(org: Organisation, *, orientation: str = "P") -> Paper:
    pdf = document(Paper, orientation=orientation)
    pdf.footer_text = " · ".join([org.name, *provider_lines(org)[-1:]])
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.set_margins(15, 12, 15)
    pdf.add_page()
    return pdf


def letterhead(pdf: FPDF, org: Organisation) -> None:
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
