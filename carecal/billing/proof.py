"""The Leistungsnachweis (proof of service): one PDF per client and month, in German,
one line per delivered visit, with the header fields insurers ask for (the client's
address and representative, the invoices that bill the visits), readable activity and
category labels, the funding source actually applied per line, the §45a statement naming
those sources, and room for signatures.

Names in any script are shown as written: the PDF embeds a Unicode font (`carecal.pdf`).
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import catalogue, lookup, organisation, private_files
from carecal.billing import paper, wording
from carecal.billing.billed import live_lines, visit_parts
from carecal.billing.ledger import month_bounds, parse_month
from carecal.billing.money import euros
from carecal.errors import NotFound
from carecal.models import Client, Organisation, Visit, VisitRecord
from carecal.pdf import FONT
from carecal.weeks import to_local

SIGNED_BY = {"client": "Klient/in", "representative": "Vertreter/in"}


@dataclass
class ProofLine:
    day: date
    start: str
    end: str
    minutes: int
    volunteer: str
    activity: str
    category: str
    unit_price_cents: int | None
    amount_cents: int | None
    funding: str  # the sources actually applied, e.g. "§ 45b SGB XI 36,00 €" (`wording.funding_text`)
    signature: str
    invoices: list[tuple[str, date, str]]  # (number, date, funding) of the invoices that bill it


def proof_lines(session: Session, client: Client, month: str, tz: str) -> list[ProofLine]:
    first, last = month_bounds(month)
    records = session.scalars(
        select(VisitRecord)
        .join(Visit, VisitRecord.visit_id == Visit.id)
        .where(Visit.client_id == client.id, VisitRecord.status == "delivered", VisitRecord.day.between(first, last))
        .order_by(VisitRecord.started_at)
    ).all()
    lines = live_lines(session, [r.visit_id for r in records])
    parts = visit_parts(session, lines)
    activities = catalogue.load(session)
    result = []
    for record in records:
        visit_lines = lines.get(record.visit_id, [])
        result.append(
            ProofLine(
                record.day,
                to_local(record.started_at, tz).strftime("%H:%M"),
                to_local(record.ended_at, tz).strftime("%H:%M"),
                record.minutes,
                record.visit.volunteer.name,
                activities.label(record.activity_key),
                activities.category_label(record.visit.care_request.category),
                visit_lines[0].unit_price_cents if visit_lines else None,
                sum(line.amount_cents for line in visit_lines) if visit_lines else None,
                wording.funding_text(parts.get(record.visit_id, []), record.day) or "nicht abgerechnet",
                _signature(record, client),
                [(line.invoice.number, line.invoice.issued_on, line.invoice.funding) for line in visit_lines],
            )
        )
    return result


def _signature(record: VisitRecord, client: Client) -> str:
    if record.signature == "representative":
        return "Vertreter/in" + (f" ({client.representative_name})" if client.representative_name else "")
    if record.signature == "client":
        return "Klient/in"
    return f"keine: {record.signature_reason}"


def statement(lines: list[ProofLine]) -> str:
    """The §45a statement and the funding sources this month's visits were actually billed to."""
    used: dict[str, list[str]] = {}
    for line in lines:
        for number, _, funding in line.invoices:
            numbers = used.setdefault(funding, [])
            if number not in numbers:
                numbers.append(number)
    if not used:
        return wording.OFFER + " Die Besuche sind noch nicht abgerechnet."
    order = list(wording.FUNDING_TEXT)
    sources = "; ".join(
        f"{wording.FUNDING_TEXT[funding]} (Rechnung {', '.join(numbers)})"
        for funding, numbers in sorted(used.items(), key=lambda item: order.index(item[0]))
    )
    return f"{wording.OFFER} Abgerechnet über: {sources}."


# (title, width in mm) of the visit table on A4 landscape (267 mm between the margins)
_COLUMNS = [
    ("Datum", 19),
    ("Beginn", 13),
    ("Ende", 12),
    ("Min.", 10),
    ("Ehrenamtliche/r", 33),
    ("Tätigkeit", 50),
    ("Kategorie", 24),
    ("Preis/Std.", 17),
    ("Betrag", 17),
    ("Kostenträger", 33),
    ("Unterschrift", 39),
]


def render(org: Organisation, client: Client, month: str, lines: list[ProofLine]) -> bytes:
    first, last = month_bounds(month)
    pdf = paper.paper(wording.provider_of(org), orientation="L")
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, f"Leistungsnachweis {first:%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    grade = client.care_grade_on(last)
    invoices = sorted({(number, issued) for line in lines for number, issued, _ in line.invoices})
    representative = ", ".join(x for x in (client.representative_name, client.representative_contact) if x)
    top = pdf.get_y()
    pdf.set_left_margin(150)
    pdf.set_y(top)
    paper.fields(
        pdf,
        [
            ("Anbieter", org.name),
            ("Anschrift", f"{org.street}, {org.postcode} {org.city}"),
            ("IK", org.ik),
            ("Anerkennung", org.recognition or ""),
            ("Rechnung", "; ".join(f"{n} vom {wording.day(d)}" for n, d in invoices) or "noch nicht abgerechnet"),
        ],
        label_width=30,
        size=8.5,
    )
    right_bottom = pdf.get_y()
    pdf.set_left_margin(15)
    pdf.set_y(top)
    pdf.set_right_margin(150)
    paper.fields(
        pdf,
        [
            ("Klient/in", client.name),
            ("Anschrift", wording.client_address(client, org)),
            ("Geburtsdatum", wording.day(client.date_of_birth)),
            ("Versichertennummer", client.insurance_number or ""),
            ("Pflegekasse", f"{client.insurer_name or ''} (IK {client.insurer_ik or '-'})"),
            ("Pflegegrad", str(grade) if grade else "-"),
            ("Vertreten durch", representative or "-"),
            ("Zeitraum", f"{wording.day(first)} bis {wording.day(last)}"),
        ],
        label_width=40,
        size=8.5,
    )
    pdf.set_right_margin(15)
    pdf.set_y(max(pdf.get_y(), right_bottom) + 3)

    pdf.set_font(FONT, size=7.5)
    with pdf.table(
        col_widths=[width for _, width in _COLUMNS],
        width=sum(w for _, w in _COLUMNS),
        line_height=4,
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for title, _ in _COLUMNS:
            heading.cell(title)
        for line in lines:
            row = table.row()
            for value in (
                wording.day(line.day),
                line.start,
                line.end,
                str(line.minutes),
                line.volunteer,
                line.activity,
                line.category,
                euros(line.unit_price_cents) if line.unit_price_cents is not None else "-",
                euros(line.amount_cents) if line.amount_cents is not None else "-",
                line.funding,
                line.signature,
            ):
                row.cell(value)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 8.5)
    total_minutes = sum(line.minutes for line in lines)
    total = sum(line.amount_cents or 0 for line in lines)
    pdf.cell(
        0,
        6,
        f"Summe: {len(lines)} Besuche, {total_minutes // 60} Std. {total_minutes % 60} Min., {euros(total)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(0, 4, statement(lines), align="L", new_x="LMARGIN", new_y="NEXT")
    if pdf.will_page_break(32):
        pdf.add_page()
    pdf.ln(6)
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 4, "Die Richtigkeit der oben aufgeführten Besuche bestätigen:", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    y = pdf.get_y()
    pdf.line(15, y, 130, y)
    pdf.line(160, y, 282, y)
    signer = (
        f"Vertreter/in ({client.representative_name})" if client.representative_name else f"Klient/in ({client.name})"
    )
    pdf.cell(145, 5, f"Ort, Datum, Unterschrift {signer}")
    pdf.cell(0, 5, f"Ort, Datum, Unterschrift {org.name}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_proofs(session: Session, month: str, out: Path, client_ref: str | None = None) -> list[Path]:
    """One PDF per client with delivered visits in the month (or only `client_ref`)."""

    month = parse_month(month)
    org = organisation.require(session)
    first, last = month_bounds(month)
    if client_ref:
        clients = [lookup.client(session, client_ref)]
    else:
        client_ids = (
            select(Visit.client_id)
            .join(VisitRecord, VisitRecord.visit_id == Visit.id)
            .where(VisitRecord.status == "delivered", VisitRecord.day.between(first, last))
        )
        clients = list(session.scalars(select(Client).where(Client.id.in_(client_ids)).order_by(Client.external_id)))
    written = []
    for client in clients:
        lines = proof_lines(session, client, month, org.timezone)
        if not lines:
            if client_ref:
                raise NotFound(f"client {client.external_id} has no delivered visit in {month}")
            continue
        path = out / f"leistungsnachweis_{month}_{client.external_id}.pdf"
        written.append(private_files.write_bytes(path, render(org, client, month, lines)))
    return written
