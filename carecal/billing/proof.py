"""The Leistungsnachweis (proof of service): one PDF per client and month, in German,
one line per delivered visit, with the header fields insurers ask for, the §45a/§45b
statement and room for signatures.

Names in any script are shown as written: the PDF embeds a Unicode font (`carecal.pdf`).
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import lookup
from carecal.billing.exports import FUNDING_LABELS, live_lines
from carecal.billing.invoicing import parse_month
from carecal.billing.ledger import month_bounds
from carecal.billing.money import euros
from carecal.billing.records import organisation
from carecal.errors import NotFound
from carecal.models import Client, Organisation, Visit, VisitRecord
from carecal.pdf import FONT, document
from carecal.weeks import to_local

STATEMENT = (
    "Die aufgeführten Leistungen sind Leistungen eines nach Landesrecht anerkannten Angebots zur "
    "Unterstützung im Alltag nach § 45a SGB XI. Sie werden über den Entlastungsbetrag nach § 45b SGB XI "
    "bzw. den Umwandlungsanspruch nach § 45a Abs. 4 SGB XI abgerechnet; nicht gedeckte Beträge privat."
)
SIGNATURES = {"client": "Klient/in", "representative": "Vertretung"}


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
    funding: str
    signature: str


def proof_lines(session: Session, client: Client, month: str, tz: str) -> list[ProofLine]:
    first, last = month_bounds(month)
    records = session.scalars(
        select(VisitRecord)
        .join(Visit, VisitRecord.visit_id == Visit.id)
        .where(Visit.client_id == client.id, VisitRecord.status == "delivered", VisitRecord.day.between(first, last))
        .order_by(VisitRecord.started_at)
    ).all()
    lines = live_lines(session, [r.visit_id for r in records])
    result = []
    for record in records:
        visit_lines = lines.get(record.visit_id, [])
        signature = SIGNATURES.get(record.signature, f"keine: {record.signature_reason}")
        result.append(
            ProofLine(
                record.day,
                to_local(record.started_at, tz).strftime("%H:%M"),
                to_local(record.ended_at, tz).strftime("%H:%M"),
                record.minutes,
                record.visit.volunteer.name,
                record.activity,
                record.visit.care_request.category,
                visit_lines[0].unit_price_cents if visit_lines else None,
                sum(line.amount_cents for line in visit_lines) if visit_lines else None,
                " + ".join(f"{FUNDING_LABELS[line.invoice.funding]} {euros(line.amount_cents)}" for line in visit_lines)
                or "nicht abgerechnet",
                signature,
            )
        )
    return result


class _ProofPDF(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.cell(0, 5, f"Seite {self.page_no()}/{{nb}}", align="R")


# (title, width in mm) of the visit table on A4 landscape (277 mm usable)
_COLUMNS = [
    ("Datum", 20),
    ("Beginn", 14),
    ("Ende", 14),
    ("Min.", 12),
    ("Ehrenamtliche/r", 38),
    ("Tätigkeit", 56),
    ("Kategorie", 24),
    ("Preis/Std.", 20),
    ("Betrag", 19),
    ("Kostenträger", 34),
    ("Unterschrift", 26),
]


def render(org: Organisation, client: Client, month: str, lines: list[ProofLine]) -> bytes:
    first, last = month_bounds(month)
    pdf = document(_ProofPDF, orientation="L")
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_margins(10, 10, 10)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, f"Leistungsnachweis {first:%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    grade = client.care_grade_on(last)
    header = [
        ("Anbieter", f"{org.name}, {org.street}, {org.postcode} {org.city}"),
        ("IK", org.ik),
        ("Anerkennung", org.recognition or ""),
        ("Klient/in", client.name),
        ("Geburtsdatum", f"{client.date_of_birth:%d.%m.%Y}"),
        ("Versichertennummer", client.insurance_number or ""),
        ("Pflegekasse", f"{client.insurer_name or ''} (IK {client.insurer_ik or '-'})"),
        ("Pflegegrad", str(grade) if grade else "-"),
        ("Zeitraum", f"{first:%d.%m.%Y} bis {last:%d.%m.%Y}"),
    ]
    for label, value in header:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(40, 5, label + ":")
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=[width for _, width in _COLUMNS],
        width=sum(w for _, w in _COLUMNS),
        line_height=4.5,
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for title, _ in _COLUMNS:
            heading.cell(title)
        for line in lines:
            row = table.row()
            for value in (
                f"{line.day:%d.%m.%Y}",
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
    pdf.set_font(FONT, "B", 8)
    total_minutes = sum(line.minutes for line in lines)
    total = sum(line.amount_cents or 0 for line in lines)
    pdf.cell(
        0,
        6,
        f"Summe: {len(lines)} Besuche, {total_minutes // 60} Std. {total_minutes % 60} Min., {euros(total)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(0, 4, STATEMENT, new_x="LMARGIN", new_y="NEXT")
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(14)
    y = pdf.get_y()
    pdf.line(10, y, 120, y)
    pdf.line(160, y, 270, y)
    pdf.set_font(FONT, size=8)
    pdf.cell(150, 5, "Datum, Unterschrift Klient/in bzw. Vertreter/in")
    pdf.cell(0, 5, f"Datum, Unterschrift {org.name}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_proofs(session: Session, month: str, out: Path, client_ref: str | None = None) -> list[Path]:
    """One PDF per client with delivered visits in the month (or only `client_ref`)."""

    month = parse_month(month)
    org = organisation(session)
    first, last = month_bounds(month)
    if client_ref:
        clients = [lookup.client(session, client_ref)]
    else:
        client_ids = (
            select(Visit.client_id)
            .join(VisitRecord, VisitRecord.visit_id == Visit.id)
            .where(VisitRecord.status == "delivered", VisitRecord.day.between(first, last))
        )
        clients = session.scalars(select(Client).where(Client.id.in_(client_ids)).order_by(Client.external_id)).all()
    written = []
    for client in clients:
        lines = proof_lines(session, client, month, org.timezone)
        if not lines:
            if client_ref:
                raise NotFound(f"client {client.external_id} has no delivered visit in {month}")
            continue
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"leistungsnachweis_{month}_{client.external_id}.pdf"
        path.write_bytes(render(org, client, month, lines))
        written.append(path)
    return written
