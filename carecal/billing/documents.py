"""Invoice documents: one PDF per invoice or credit note, and the collective invoice
(Sammelrechnung) per care insurer and month, in German, as a payer expects them.

An invoice names the provider (address, IK, tax number), the VAT exemption (§ 4 Nr. 16
UStG), the payer (the Pflegekasse with its IK, or the client), the client (with the
insurance number and the assignment of benefits when the insurer pays), its number and
date, the service period, one line per visit with the funding source, the total, the bank
details and the payment term. A credit note names the invoice it corrects and why. A
collective invoice gathers one insurer's invoices and credit notes of a month, one section
per client.

`invoice_views` / `collective_views` turn the stored invoices into plain data (tested on
their own); `render_*` draw them; `write_invoices` does both for the CLI and the demo.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import catalogue, private_files
from carecal import organisation as org_lookup
from carecal.billing import billed, paper
from carecal.billing.billed import Part
from carecal.billing.invoicing import find_invoice
from carecal.billing.ledger import month_bounds, parse_month
from carecal.billing.money import euros
from carecal.catalogue import Catalogue
from carecal.errors import InputError, NotFound
from carecal.models import Invoice, Organisation
from carecal.pdf import FONT
from carecal.weeks import to_local

REQUIRED = {"tax_number": "tax number", "iban": "IBAN", "payment_term_days": "payment term"}
PAYERS = ("insurer", "client")


@dataclass
class Line:
    day: date
    time: str
    minutes: int
    activity: str
    category: str
    unit_price_cents: int
    amount_cents: int
    visit_price_cents: int
    funding: str  # the source, and last year's carry-over where some of it is that

    @property
    def part(self) -> bool:
        """Only part of the visit's price is on this invoice (the rest on another)."""
        return abs(self.amount_cents) != self.visit_price_cents


@dataclass
class InvoiceView:
    number: str
    credit_note: bool
    issued_on: date
    due_on: date
    month: str
    period: tuple[date, date]
    payer: str  # insurer | client
    payer_lines: list[str]
    payer_ik: str | None
    client_name: str
    client_address: str
    insurance_number: str | None  # only when the insurer pays
    assigned_on: date | None  # the assignment of benefits, when the insurer pays
    funding: str
    statement: str
    lines: list[Line]
    total_cents: int
    corrects: tuple[str, date] | None = None
    reason: str | None = None
    supplements: tuple[str, date] | None = None  # a correction invoice: the original it adds to

    @property
    def title(self) -> str:
        if self.credit_note:
            return f"Rechnungskorrektur (Gutschrift) {self.number}"
        return f"{'Korrekturrechnung' if self.supplements else 'Rechnung'} {self.number}"

    @property
    def file_name(self) -> str:
        kind = "rechnungskorrektur" if self.credit_note else "korrekturrechnung" if self.supplements else "rechnung"
        return f"{kind}_{self.number}.pdf"


@dataclass
class CollectiveView:
    insurer: str
    insurer_ik: str | None
    month: str
    period: tuple[date, date]
    issued_on: date
    due_on: date
    sections: list[list[InvoiceView]] = field(default_factory=list)  # one per client, its invoices

    @property
    def number(self) -> str:
        return f"S-{self.month}-{self.insurer_ik or _slug(self.insurer)}"

    @property
    def total_cents(self) -> int:
        return sum(view.total_cents for section in self.sections for view in section)

    @property
    def file_name(self) -> str:
        return f"sammelrechnung_{self.month}_{self.insurer_ik or _slug(self.insurer)}.pdf"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "kasse"


def require_invoice_details(org: Organisation) -> None:
    missing = [label for name, label in REQUIRED.items() if getattr(org, name) in (None, "")]
    if missing:
        raise InputError(
            f"an invoice needs the association's {', '.join(missing)}: add them to the organisation file "
            "(data/README.md: organisation.json) and run `carecal import organisation FILE`"
        )


def invoice_view(
    invoice: Invoice, org: Organisation, activities: Catalogue, parts: dict[int, list[Part]]
) -> InvoiceView:
    """The invoice as printed; `parts` holds each of its lines' parts (`billed.line_parts`)."""
    client = invoice.client
    insurer_pays = invoice.payer == "insurer"
    if insurer_pays:
        payer_lines = [invoice.payer_name, "Pflegekasse" + (f", IK {invoice.payer_ik}" if invoice.payer_ik else "")]
    else:
        payer_lines = [invoice.payer_name, *paper.client_address(client, org).split(", ")]
        if client.representative_name:
            payer_lines.insert(1, f"vertreten durch {client.representative_name}")
    lines = []
    for line in invoice.lines:
        record = line.record
        start, end = to_local(record.started_at, org.timezone), to_local(record.ended_at, org.timezone)
        lines.append(
            Line(
                day=line.day,
                time=f"{start:%H:%M}–{end:%H:%M}",
                minutes=line.minutes,
                activity=activities.label(record.activity_key),
                category=activities.category_label(line.category),
                unit_price_cents=line.unit_price_cents,
                amount_cents=line.amount_cents,
                visit_price_cents=line.visit_price_cents,
                funding=paper.funding_text(parts[line.id], line.day, amounts=False),
            )
        )
    corrects = invoice.corrects
    return InvoiceView(
        number=invoice.number,
        credit_note=invoice.kind == "credit_note",
        issued_on=invoice.issued_on,
        due_on=invoice.issued_on + timedelta(days=org.payment_term_days or 0),
        month=invoice.month,
        period=month_bounds(invoice.month),
        payer=invoice.payer,
        payer_lines=payer_lines,
        payer_ik=invoice.payer_ik,
        client_name=client.name,
        client_address=paper.client_address(client, org),
        insurance_number=client.insurance_number if insurer_pays else None,
        assigned_on=client.benefits_assigned_on if insurer_pays else None,
        funding=invoice.funding,
        statement=invoice.statement,
        lines=sorted(lines, key=lambda x: (x.day, x.time)),
        total_cents=invoice.total_cents,
        corrects=(corrects.number, corrects.issued_on) if corrects else None,
        reason=invoice.reason,
        supplements=(invoice.supplements.number, invoice.supplements.issued_on) if invoice.supplements else None,
    )


def select_invoices(
    session: Session, month: str | None = None, number: str | None = None, payer: str | None = None
) -> list[Invoice]:
    """Invoices and credit notes of a month (or the one numbered), optionally only those of a
    payer: `insurer`, `client`, or an insurer's 9-digit IK."""
    if number:
        invoices = [find_invoice(session, number)]
    elif month:
        invoices = list(
            session.scalars(
                select(Invoice).where(Invoice.month == parse_month(month)).order_by(Invoice.year, Invoice.sequence)
            ).all()
        )
    else:
        raise InputError("say which invoices: --month YYYY-MM or --number NUMBER")
    if payer:
        if payer in PAYERS:
            invoices = [i for i in invoices if i.payer == payer]
        elif re.fullmatch(r"\d{9}", payer):
            invoices = [i for i in invoices if i.payer_ik == payer]
        else:
            raise InputError(f"--payer {payer!r}: use insurer, client or an insurer's 9-digit IK")
    return invoices


def collective_views(
    invoices: list[Invoice], org: Organisation, activities: Catalogue, parts: dict[int, list[Part]]
) -> list[CollectiveView]:
    """One collective invoice per insurer and month: its clients' invoices and credit notes."""
    groups: dict[tuple[str, str], list[Invoice]] = {}
    for invoice in invoices:
        if invoice.payer == "insurer":
            groups.setdefault((invoice.month, invoice.payer_ik or invoice.payer_name), []).append(invoice)
    result = []
    for (month, _), group in sorted(groups.items()):
        issued = max(i.issued_on for i in group)
        view = CollectiveView(
            insurer=group[0].payer_name,
            insurer_ik=group[0].payer_ik,
            month=month,
            period=month_bounds(month),
            issued_on=issued,
            due_on=issued + timedelta(days=org.payment_term_days or 0),
        )
        by_client: dict[str, list[InvoiceView]] = {}
        for invoice in sorted(group, key=lambda i: (i.client.last_name, i.client.first_name, i.year, i.sequence)):
            by_client.setdefault(invoice.client.external_id, []).append(invoice_view(invoice, org, activities, parts))
        view.sections = list(by_client.values())
        result.append(view)
    return result


# --- drawing ---------------------------------------------------------------------------------

_COLUMNS = [  # (title, width mm, align) on A4 portrait (180 mm between the margins)
    ("Datum", 19, "LEFT"),
    ("Zeit", 21, "LEFT"),
    ("Min.", 10, "RIGHT"),
    ("Tätigkeit", 45, "LEFT"),
    ("Kategorie", 23, "LEFT"),
    ("Preis/Std.", 18, "RIGHT"),
    ("Betrag", 20, "RIGHT"),
    ("Finanzierung", 24, "LEFT"),
]


def _line_table(pdf, lines: list[Line]) -> None:
    pdf.set_font(FONT, size=7.5)
    with pdf.table(
        col_widths=[w for _, w, _ in _COLUMNS],
        width=sum(w for _, w, _ in _COLUMNS),
        line_height=4,
        text_align=[a for _, _, a in _COLUMNS],
        repeat_headings=1,
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for title, _, _ in _COLUMNS:
            heading.cell(title)
        for line in lines:
            row = table.row()
            amount = euros(line.amount_cents) + (f"\n(Teil von {euros(line.visit_price_cents)})" if line.part else "")
            for value in (
                paper.day(line.day),
                line.time,
                str(line.minutes),
                line.activity,
                line.category,
                euros(line.unit_price_cents),
                amount,
                line.funding,
            ):
                row.cell(value)


def _payment(pdf, org: Organisation, total_cents: int, due_on: date, reference: str) -> None:
    pdf.set_font(FONT, size=8.5)
    bank = ", ".join(x for x in (f"IBAN {_spaced(org.iban)}", org.bic and f"BIC {org.bic}", org.bank_name) if x)
    if total_cents < 0:
        text = (
            f"Den Betrag von {euros(-total_cents)} erstatten wir bis zum {paper.day(due_on)} "
            f"bzw. verrechnen ihn mit offenen Beträgen. Verwendungszweck: {reference}."
        )
    else:
        text = (
            f"Zahlbar ohne Abzug bis zum {paper.day(due_on)} ({org.payment_term_days} Tage nach "
            f"Rechnungsdatum) auf das Konto {org.name}, {bank}. Verwendungszweck: {reference}."
        )
    pdf.multi_cell(0, 4.2, text, align="L", new_x="LMARGIN", new_y="NEXT")
    if total_cents < 0:
        pdf.multi_cell(0, 4.2, f"Unsere Bankverbindung: {org.name}, {bank}.", align="L", new_x="LMARGIN", new_y="NEXT")


def _spaced(iban: str | None) -> str:
    return " ".join((iban or "")[i : i + 4] for i in range(0, len(iban or ""), 4))


def _address_block(pdf, lines: list[str], meta: list[tuple[str, str]]) -> None:
    top = pdf.get_y()
    pdf.set_font(FONT, size=10)
    for line in lines:
        pdf.cell(95, 5, line, new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_y(top)
    for label, value in meta:
        pdf.set_x(112)
        pdf.set_font(FONT, size=8.5)
        pdf.cell(38, 4.5, label + ":")
        pdf.set_font(FONT, "B", 8.5)
        pdf.cell(0, 4.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(bottom, pdf.get_y()) + 6)


def _client_fields(pdf, view: InvoiceView) -> None:
    rows = [("Leistungsempfänger/in", f"{view.client_name}, {view.client_address}")]
    if view.insurance_number:
        rows.append(("Versichertennummer", view.insurance_number))
    if view.assigned_on:
        rows.append(
            (
                "Abtretung",
                f"Abrechnung mit der Pflegekasse aufgrund der Abtretungserklärung vom {paper.day(view.assigned_on)}",
            )
        )
    rows.append(("Kostenträger", paper.FUNDING_TEXT[view.funding]))
    paper.fields(pdf, rows, label_width=45, size=8.5)


def render_invoice(view: InvoiceView, org: Organisation) -> bytes:
    pdf = paper.paper(org)
    paper.letterhead(pdf, org)
    meta = [
        ("Rechnungskorrektur-Nr." if view.credit_note else "Rechnungsnummer", view.number),
        ("Datum", paper.day(view.issued_on)),
        ("Leistungszeitraum", f"{paper.day(view.period[0])} – {paper.day(view.period[1])}"),
    ]
    original = view.corrects or view.supplements
    if original:
        meta.append(("zu Rechnung", f"{original[0]} vom {paper.day(original[1])}"))
    if view.payer == "insurer" and view.insurance_number:
        meta.append(("Versichertennr.", view.insurance_number))
    _address_block(pdf, view.payer_lines, meta)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, view.title, new_x="LMARGIN", new_y="NEXT")
    if view.corrects:
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(
            0,
            4.5,
            f"Diese Rechnungskorrektur storniert Leistungen der Rechnung {view.corrects[0]} vom "
            f"{paper.day(view.corrects[1])}. Grund: {view.reason or '-'}",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if view.supplements:
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(
            0,
            4.5,
            f"Diese Korrekturrechnung berechnet Leistungen des Leistungszeitraums nach, die in der Rechnung "
            f"{view.supplements[0]} vom {paper.day(view.supplements[1])} nicht enthalten sind (nachträglich "
            "erfasst oder nach einer Gutschrift neu berechnet).",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(1)
    _client_fields(pdf, view)
    pdf.ln(2)
    _line_table(pdf, view.lines)
    pdf.ln(1)
    pdf.set_font(FONT, "B", 10)
    minutes = sum(line.minutes for line in view.lines)
    label = "Gutschrift" if view.credit_note else "Rechnungsbetrag"
    visits = f"{len(view.lines)} {'Besuch' if len(view.lines) == 1 else 'Besuche'}"
    pdf.cell(
        0,
        6,
        f"{label}: {euros(view.total_cents)}  ({visits}, {minutes // 60} Std. {minutes % 60} Min.)",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(0, 4.2, view.statement, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4.2, paper.VAT_EXEMPT, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _payment(pdf, org, view.total_cents, view.due_on, f"{view.number}, {view.client_name}")
    return bytes(pdf.output())


def render_collective(view: CollectiveView, org: Organisation) -> bytes:
    pdf = paper.paper(org)
    paper.letterhead(pdf, org)
    insurer = [view.insurer, "Pflegekasse" + (f", IK {view.insurer_ik}" if view.insurer_ik else "")]
    meta = [
        ("Sammelrechnung", view.number),
        ("Datum", paper.day(view.issued_on)),
        ("Leistungszeitraum", f"{paper.day(view.period[0])} – {paper.day(view.period[1])}"),
        ("Klient/innen", str(len(view.sections))),
    ]
    _address_block(pdf, insurer, meta)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, f"Sammelrechnung {view.period[0]:%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(
        0,
        4.2,
        "Diese Sammelrechnung fasst die Einzelrechnungen des Monats für Ihre Versicherten zusammen, "
        "je Klient/in ein Abschnitt; jede Einzelrechnung behält ihre Nummer. " + paper.OFFER,
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for number, section in enumerate(view.sections, start=1):
        first = section[0]
        if pdf.will_page_break(40):
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, f"{number}. {first.client_name}", new_x="LMARGIN", new_y="NEXT")
        rows = [("Anschrift", first.client_address)]
        if first.insurance_number:
            rows.append(("Versichertennummer", first.insurance_number))
        if first.assigned_on:
            rows.append(("Abtretungserklärung", f"vom {paper.day(first.assigned_on)}"))
        paper.fields(pdf, rows, label_width=45, size=8.5)
        for invoice in section:
            pdf.ln(1)
            pdf.set_font(FONT, "B", 8.5)
            heading = f"{invoice.title} vom {paper.day(invoice.issued_on)} – {paper.FUNDING_TEXT[invoice.funding]}"
            if invoice.corrects:
                heading += f" – zu Rechnung {invoice.corrects[0]}: {invoice.reason or ''}"
            elif invoice.supplements:
                heading += f" – Nachberechnung zu Rechnung {invoice.supplements[0]}"
            pdf.multi_cell(0, 4.5, heading, align="L", new_x="LMARGIN", new_y="NEXT")
            _line_table(pdf, invoice.lines)
        subtotal = sum(invoice.total_cents for invoice in section)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 6, f"Summe {first.client_name}: {euros(subtotal)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, f"Gesamtbetrag: {euros(view.total_cents)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(0, 4.2, paper.VAT_EXEMPT, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _payment(pdf, org, view.total_cents, view.due_on, view.number)
    return bytes(pdf.output())


def write_invoices(
    session: Session,
    out: Path,
    *,
    month: str | None = None,
    number: str | None = None,
    payer: str | None = None,
    collective: bool = False,
) -> list[Path]:
    """Write the PDFs into `out`: one per invoice and credit note, or with `collective` one
    per insurer and month. Returns the paths written."""
    org = org_lookup.require(session)
    require_invoice_details(org)
    invoices = select_invoices(session, month, number, payer)
    activities = catalogue.load(session)
    parts = billed.line_parts(session, [line for invoice in invoices for line in invoice.lines])
    if collective:
        views = collective_views(invoices, org, activities, parts)
        if not views:
            raise NotFound("no invoice to an insurer among those asked for: a collective invoice has nothing to hold")
        documents = [(v.file_name, render_collective(v, org)) for v in views]
    else:
        if not invoices:
            raise NotFound(f"no invoice{f' of {month}' if month else ''}{f' to {payer}' if payer else ''}")
        documents = []
        for invoice in invoices:
            view = invoice_view(invoice, org, activities, parts)
            documents.append((view.file_name, render_invoice(view, org)))
    return [private_files.write_bytes(out / name, data) for name, data in documents]
