"""What is billed of each visit: its live invoice lines (those no credit note reversed) and
the parts they pay, per funding source and vintage.

A visit is billed once, at its one price, but may be paid from several sources: last
year's carry-over and this year's relief amount (one line, two ledger spends), a budget
used up in the middle of the visit and the next budget, or a budget and the private
remainder (one line per source, on that source's invoice). The invoice, the proof of
service and the exports all show a visit's parts as `parts` gives them.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from carecal import clock, lifecycle
from carecal.billing.ledger import CONVERSION, PRIVATE, RELIEF, month_bounds
from carecal.models import InvoiceLine, LedgerEntry, VisitRecord

FUNDING_ORDER = (RELIEF, CONVERSION, PRIVATE)


@dataclass(frozen=True)
class Part:
    """The share of a visit's price one source pays: relief money of a year (`vintage`
    "2026"), the conversion budget of a month ("2026-11"), or private (no vintage)."""

    funding: str
    vintage: str | None
    amount_cents: int

    def carried_over(self, day: date) -> bool:
        """Relief money from a year before the visit's: last year's carry-over."""
        return self.funding == RELIEF and self.vintage is not None and int(self.vintage) < day.year


def live_lines(session: Session, visit_ids: list[int]) -> dict[int, list[InvoiceLine]]:
    """Per visit, its invoice lines that no credit note reversed, in funding order."""
    if not visit_ids:
        return {}
    lines = session.scalars(
        select(InvoiceLine).where(InvoiceLine.visit_id.in_(visit_ids)).options(joinedload(InvoiceLine.invoice))
    ).all()
    reversed_ids = {line.corrects_line_id for line in lines if line.corrects_line_id}
    by_visit: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in sorted(lines, key=lambda x: (FUNDING_ORDER.index(x.invoice.funding), x.id)):
        if line.corrects_line_id is None and line.id not in reversed_ids:
            by_visit[line.visit_id].append(line)
    return by_visit


def line_parts(session: Session, lines: list[InvoiceLine]) -> dict[int, list[Part]]:
    """Per invoice line, the parts it pays: its ledger movements by vintage (a private line:
    its whole amount). A credit-note line's parts are negative, like its amount."""
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.invoice_line_id.in_([line.id for line in lines]))
        .order_by(LedgerEntry.vintage, LedgerEntry.id)
    ).all()
    moved: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.invoice_line_id is not None:
            moved[entry.invoice_line_id].append(entry)
    result = {}
    for line in lines:
        funding = line.invoice.funding
        if funding == PRIVATE or not moved[line.id]:
            result[line.id] = [Part(funding, None, line.amount_cents)]
        else:
            result[line.id] = [Part(funding, e.vintage, -e.amount_cents) for e in moved[line.id]]
    return result


def visit_parts(session: Session, lines: dict[int, list[InvoiceLine]]) -> dict[int, list[Part]]:
    """Per visit, the parts of its live lines, in funding order, oldest money first."""
    by_line = line_parts(session, [line for visit_lines in lines.values() for line in visit_lines])
    return {visit_id: [p for line in visit_lines for p in by_line[line.id]] for visit_id, visit_lines in lines.items()}


def unbilled(session: Session, month: str) -> list[VisitRecord]:
    """Delivered visits of the month that have ended and have no live invoice line: what a
    billing run bills (a visit whose lines a credit note reversed is billed again)."""
    first, last = month_bounds(month)
    records = session.scalars(
        select(VisitRecord)
        .where(VisitRecord.day.between(first, last), VisitRecord.status == "delivered")
        .order_by(VisitRecord.started_at, VisitRecord.id)
    ).all()
    now = clock.now()
    billed = live_lines(session, [r.visit_id for r in records])
    return [r for r in records if lifecycle.billable(r, now) and r.visit_id not in billed]
