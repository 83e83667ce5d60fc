"""Invoice documents: one PDF per invoice, credit note or correction invoice, and the
collective invoice (Sammelrechnung) per care insurer and month, in German, as a payer
expects them.

An invoice names the provider (address, IK, tax number), the VAT exemption (§ 4 Nr. 16
UStG), the payer (the Pflegekasse with its IK and postal address, or the client), the
client (with the insurance number and the assignment of benefits when the insurer pays),
its number and date, the service period, one line per visit with the funding source, the
total, the bank details and the payment term. A credit note names the invoice it corrects
and why; a correction invoice the original it adds to. A collective invoice gathers one
insurer's invoices and credit notes of a month, one section per client.

Every document is drawn from what the invoice stored when it was issued
(`carecal.billing.issued`), never from the records as they are now: a reprint is the
document that was sent, byte for byte. `select_invoices` / `collective_views` choose and
group them; `render_*` draw them; `write_invoices` does both for the CLI and the demo.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import lookup, private_files
from carecal.billing import issued, paper, wording
from carecal.billing.invoicing import find_invoice
from carecal.billing.issued import IssuedInvoice, IssuedLine
from carecal.billing.ledger import month_bounds, parse_month
from carecal.billing.money import euros
from carecal.errors import InputError, NotFound
from carecal.models import Invoice
from carecal.pdf import FONT

PAYERS = ("insurer", "client")


@dataclass
class CollectiveView:
    insurer: str
    insurer_ik: str | None
    month: str
    period: tuple[date, date]
    issued_on: date
    due_on: date
    sections: list[list[IssuedInvoice]] = field(default_factory=list)  # one per client, its invoices

    @property
    def number(self) -> str:
        return f"S-{self.month}-{self.insurer_ik or _slug(self.insurer)}"

    @property
    def total_cents(self) -> int:
        return sum(view.total_cents for section in self.sections for view in section)

    @property
    def file_name(self) -> str:
        return f"sammelrechnung_{self.month}_{self.insurer_ik or _slug(self.insurer)}.pdf"

    @property
    def provider(self) -> wording.Provider:
        return self.sections[0][0].provider

    @property
    def insurer_lines(self) -> tuple[str, ...]:
        """The insurer's name and postal address as its latest invoice of the month printed them."""
        latest = max((view for section in self.sections for view in section), key=lambda v: v.issued_on)
        return latest.payer_lines


def _by_client(invoice: Invoice) -> tuple:
    return invoice.client.last_name, invoice.client.first_name, invoice.year, invoice.sequence


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "kasse"


def select_invoices(
    session: Session,
    month: str | None = None,
    number: str | None = None,
    payer: str | None = None,
    client: str | None = None,
) -> list[Invoice]:
    """Invoices and credit notes of a month (or the one numbered, or all of a client's),
    optionally only those of a payer: `insurer`, `client`, or an insurer's 9-digit IK."""
    if number:
        invoices = [find_invoice(session, number)]
    elif month or client:
        query = select(Invoice).order_by(Invoice.year, Invoice.sequence)
        if month:
            query = query.where(Invoice.month == parse_month(month))
        if client:
            query = query.where(Invoice.client_id == lookup.client(session, client).id)
        invoices = list(session.scalars(query).all())
    else:
        raise InputError("say which invoices: --month YYYY-MM, --client ID or --number NUMBER")
    if payer:
        if payer in PAYERS:
            invoices = [i for i in invoices if i.payer == payer]
        elif re.fullmatch(r"\d{9}", payer):
            invoices = [i for i in invoices if i.payer_ik == payer]
        else:
            raise InputError(f"--payer {payer!r}: use insurer, client or an insurer's 9-digit IK")
    return invoices


def collective_views(invoices: list[tuple[Invoice, IssuedInvoice]]) -> list[CollectiveView]:
    """One collective invoice per insurer and month: its clients' invoices and credit notes."""
    groups: dict[tuple[str, str], list[tuple[Invoice, IssuedInvoice]]] = {}
    for invoice, printed in invoices:
        if invoice.payer == "insurer":
            groups.setdefault((invoice.month, invoice.payer_ik or invoice.payer_name), []).append((invoice, printed))
    result = []
    for (month, _), group in sorted(groups.items()):
        issued_on = max(printed.issued_on for _, printed in group)
        collective = CollectiveView(
            insurer=group[0][0].payer_name,
            insurer_ik=group[0][0].payer_ik,
            month=month,
            period=month_bounds(month),
            issued_on=issued_on,
            due_on=issued_on + timedelta(days=group[0][1].provider.payment_term_days or 0),
        )
        by_client: dict[str, list[IssuedInvoice]] = {}
        for invoice, printed in sorted(group, key=lambda pair: _by_client(pair[0])):
            by_client.setdefault(invoice.client.external_id, []).append(printed)
        collective.sections = list(by_client.values())
        result.append(collective)
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


def _line_table(pdf, lines: list[IssuedLine]) -> None:
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
                wording.day(line.day),
                line.time,
                str(line.minutes),
                line.activity,
                line.category,
                euros(line.unit_price_cents),
                amount,
                line.funding,
            ):
                row.cell(value)


def _payment(pdf, org: wording.Provider, total_cents: int, due_on: date, reference: str) -> None:
    pdf.set_font(FONT, size=8.5)
    bank = ", ".join(x for x in (f"IBAN {_spaced(org.iban)}", org.bic and f"BIC {org.bic}", org.bank_name) if x)
    if total_cents < 0:
        text = (
            f"Den Betrag von {euros(-total_cents)} erstatten wir bis zum {wording.day(due_on)} "
            f"bzw. verrechnen ihn mit offenen Beträgen. Verwendungszweck: {reference}."
        )
    else:
        text = (
            f"Zahlbar ohne Abzug bis zum {wording.day(due_on)} ({org.payment_term_days} Tage nach "
            f"Rechnungsdatum) auf das Konto {org.name}, {bank}. Verwendungszweck: {reference}."
        )
    pdf.multi_cell(0, 4.2, text, align="L", new_x="LMARGIN", new_y="NEXT")
    if total_cents < 0:
        pdf.multi_cell(0, 4.2, f"Unsere Bankverbindung: {org.name}, {bank}.", align="L", new_x="LMARGIN", new_y="NEXT")


def _spaced(iban: str | None) -> str:
    return " ".join((iban or "")[i : i + 4] for i in range(0, len(iban or ""), 4))


def _address_block(pdf, lines: tuple[str, ...], meta: list[tuple[str, str]]) -> None:
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


def _client_fields(pdf, view: IssuedInvoice) -> None:
    rows = [("Leistungsempfänger/in", f"{view.client_name}, {view.client_address}")]
    if view.insurance_number:
        rows.append(("Versichertennummer", view.insurance_number))
    if view.assigned_on:
        rows.append(
            (
                "Abtretung",
                f"Abrechnung mit der Pflegekasse aufgrund der Abtretungserklärung vom {wording.day(view.assigned_on)}",
            )
        )
    rows.append(("Kostenträger", wording.FUNDING_TEXT[view.funding]))
    paper.fields(pdf, rows, label_width=45, size=8.5)


def render_invoice(view: IssuedInvoice) -> bytes:
    org = view.provider
    pdf = paper.paper(org, created=view.issued_on)
    paper.letterhead(pdf, org)
    meta = [
        ("Rechnungskorrektur-Nr." if view.credit_note else "Rechnungsnummer", view.number),
        ("Datum", wording.day(view.issued_on)),
        ("Leistungszeitraum", f"{wording.day(view.period[0])} – {wording.day(view.period[1])}"),
    ]
    if view.refers_to:
        meta.append(("zu Rechnung", f"{view.refers_to[0]} vom {wording.day(view.refers_to[1])}"))
    if view.payer == "insurer" and view.insurance_number:
        meta.append(("Versichertennr.", view.insurance_number))
    _address_block(pdf, view.payer_lines, meta)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, view.title, new_x="LMARGIN", new_y="NEXT")
    if view.credit_note and view.refers_to:
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(
            0,
            4.5,
            f"Diese Rechnungskorrektur storniert Leistungen der Rechnung {view.refers_to[0]} vom "
            f"{wording.day(view.refers_to[1])}. Grund: {view.reason or '-'}",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if view.kind == "correction" and view.refers_to:
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(
            0,
            4.5,
            f"Diese Korrekturrechnung berechnet Leistungen des Leistungszeitraums nach, die in der Rechnung "
            f"{view.refers_to[0]} vom {wording.day(view.refers_to[1])} nicht enthalten sind (nachträglich "
            "erfasst oder nach einer Gutschrift neu berechnet).",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(1)
    _client_fields(pdf, view)
    pdf.ln(2)
    _line_table(pdf, view.sorted_lines)
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
    pdf.multi_cell(0, 4.2, wording.VAT_EXEMPT, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _payment(pdf, org, view.total_cents, view.due_on, f"{view.number}, {view.client_name}")
    return bytes(pdf.output())


def render_collective(view: CollectiveView) -> bytes:
    org = view.provider
    pdf = paper.paper(org, created=view.issued_on)
    paper.letterhead(pdf, org)
    meta = [
        ("Sammelrechnung", view.number),
        ("Datum", wording.day(view.issued_on)),
        ("Leistungszeitraum", f"{wording.day(view.period[0])} – {wording.day(view.period[1])}"),
        ("Klient/innen", str(len(view.sections))),
    ]
    _address_block(pdf, view.insurer_lines, meta)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, f"Sammelrechnung {view.period[0]:%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(
        0,
        4.2,
        "Diese Sammelrechnung fasst die Einzelrechnungen des Monats für Ihre Versicherten zusammen, "
        "je Klient/in ein Abschnitt; jede Einzelrechnung behält ihre Nummer. " + wording.OFFER,
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
            rows.append(("Abtretungserklärung", f"vom {wording.day(first.assigned_on)}"))
        paper.fields(pdf, rows, label_width=45, size=8.5)
        for invoice in section:
            pdf.ln(1)
            pdf.set_font(FONT, "B", 8.5)
            heading = f"{invoice.title} vom {wording.day(invoice.issued_on)} – {wording.FUNDING_TEXT[invoice.funding]}"
            if invoice.credit_note and invoice.refers_to:
                heading += f" – zu Rechnung {invoice.refers_to[0]}: {invoice.reason or ''}"
            elif invoice.refers_to:
                heading += f" – Nachberechnung zu Rechnung {invoice.refers_to[0]}"
            pdf.multi_cell(0, 4.5, heading, align="L", new_x="LMARGIN", new_y="NEXT")
            _line_table(pdf, invoice.sorted_lines)
        subtotal = sum(invoice.total_cents for invoice in section)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 6, f"Summe {first.client_name}: {euros(subtotal)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, f"Gesamtbetrag: {euros(view.total_cents)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(0, 4.2, wording.VAT_EXEMPT, align="L", new_x="LMARGIN", new_y="NEXT")
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
    client: str | None = None,
    collective: bool = False,
) -> list[Path]:
    """Write the PDFs into `out`: one per invoice and credit note, or with `collective` one
    per insurer and month. Returns the paths written."""
    invoices = select_invoices(session, month, number, payer, client)
    head = issued.Letterhead.of(session) if any(i.document is None for i in invoices) else None
    printed = [(invoice, issued.printed(session, invoice, head)) for invoice in invoices]
    if collective:
        views = collective_views(printed)
        if not views:
            raise NotFound("no invoice to an insurer among those asked for: a collective invoice has nothing to hold")
        documents = [(v.file_name, render_collective(v)) for v in views]
    else:
        if not invoices:
            whose = f" of {month}" if month else f" of client {client}" if client else ""
            raise NotFound(f"no invoice{whose}{f' to {payer}' if payer else ''}")
        documents = [(view.file_name, render_invoice(view)) for _, view in printed]
    return [private_files.write_bytes(out / name, data) for name, data in documents]
