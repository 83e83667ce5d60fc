"""Proof that a month's visit records, invoices and ledger movements add up.

Everything is recomputed from the records and the rate table, independently of how the
billing run computed it, so a changed row anywhere shows up as a named problem; and the
hash chains of the audit log, invoices, invoice lines and ledger entries must hold, so a
row rewritten behind the database's back shows even where the sums still add up.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import integrity, organisation
from carecal.billing import budgets
from carecal.billing.ledger import PRIVATE, month_bounds, parse_month
from carecal.billing.money import euros, visit_price
from carecal.models import (
    BillingMonth,
    Client,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    VisitRecord,
)


@dataclass
class Reconciliation:
    month: str
    problems: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(session: Session, month: str) -> Reconciliation:
    month = parse_month(month)
    report = Reconciliation(month)
    problems = report.problems
    book = budgets.rate_book(session, organisation.require(session))
    first, last = month_bounds(month)

    invoices = session.scalars(
        select(Invoice).where(Invoice.month == month).order_by(Invoice.year, Invoice.sequence)
    ).all()
    lines = [line for invoice in invoices for line in invoice.lines]
    lines_by_id = {line.id: line for line in lines}
    reversed_ids = {line.corrects_line_id for line in lines if line.corrects_line_id}

    # 1. every invoice's total is the sum of its lines; credit notes mirror what they correct
    for invoice in invoices:
        total = sum(line.amount_cents for line in invoice.lines)
        if total != invoice.total_cents:
            problems.append(
                f"invoice {invoice.number}: total {euros(invoice.total_cents)} but lines add up to {euros(total)}"
            )
        for line in invoice.lines:
            if invoice.kind == "invoice" and line.amount_cents <= 0:
                problems.append(f"invoice {invoice.number}: line for visit {line.visit_id} is not positive")
            if invoice.kind == "credit_note":
                original = lines_by_id.get(line.corrects_line_id) if line.corrects_line_id else None
                if original is None or original.invoice_id != invoice.corrects_id:
                    problems.append(
                        f"credit note {invoice.number}: line for visit {line.visit_id} corrects no line "
                        f"of invoice {invoice.corrects.number if invoice.corrects else '?'}"
                    )
                elif line.amount_cents != -original.amount_cents:
                    problems.append(
                        f"credit note {invoice.number}: reverses {euros(-line.amount_cents)} of a "
                        f"{euros(original.amount_cents)} line (visit {line.visit_id})"
                    )

    # 2. each billed visit: recorded as delivered, priced from its record and the rate
    #    valid that day, and billed exactly once in full (its shares add up to the price)
    live_by_visit: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        if line.corrects_line_id is None and line.id not in reversed_ids:
            live_by_visit[line.visit_id].append(line)
    for visit_id, visit_lines in sorted(live_by_visit.items()):
        record = visit_lines[0].record
        if record.status != "delivered":
            problems.append(f"visit {visit_id} is billed but recorded as {record.status}")
            continue
        if not first <= record.day <= last:
            problems.append(f"visit {visit_id} on {record.day} is billed in {month}")
        hourly = book.find("price_per_hour", record.day, visit_lines[0].category)
        expected = visit_price(record.minutes, hourly or 0)
        billed = sum(line.amount_cents for line in visit_lines)
        if billed != expected:
            problems.append(
                f"visit {visit_id}: billed {euros(billed)}, but {record.minutes} min at "
                f"{euros(hourly or 0)}/h is {euros(expected)}"
            )
        for line in visit_lines:
            if line.minutes != record.minutes or line.unit_price_cents != hourly or line.visit_price_cents != expected:
                problems.append(
                    f"visit {visit_id}: invoice line ({line.minutes} min, {euros(line.unit_price_cents)}/h) "
                    f"differs from the record ({record.minutes} min, {euros(hourly or 0)}/h)"
                )
        fundings = [line.invoice.funding for line in visit_lines]
        if len(fundings) != len(set(fundings)):
            problems.append(f"visit {visit_id} is billed twice")

    # 3. every budget-funded line has its ledger movement, and no movement is orphaned
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.invoice_line_id.in_(list(lines_by_id)))).all()
    moved: dict[int, int] = defaultdict(int)
    for entry in entries:
        line_id = entry.invoice_line_id
        assert line_id is not None  # selected by it
        moved[line_id] += entry.amount_cents
        if entry.budget != lines_by_id[line_id].invoice.funding:
            problems.append(
                f"ledger entry {entry.id} moves {entry.budget} money for a {lines_by_id[line_id].invoice.funding} line"
            )
    for line in lines:
        expected = 0 if line.invoice.funding == PRIVATE else -line.amount_cents
        if moved[line.id] != expected:
            problems.append(
                f"invoice {line.invoice.number}, visit {line.visit_id}: ledger moved "
                f"{euros(-moved[line.id])}, the line says {euros(line.amount_cents)}"
            )
    orphans = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.kind.in_(("spend", "refund")),
            LedgerEntry.invoice_line_id.is_(None),
            LedgerEntry.day.between(first, last),
        )
    ).all()
    problems.extend(f"ledger entry {e.id} ({e.kind}) belongs to no invoice line" for e in orphans)

    # 4. no delivered visit left unbilled once the month has been run
    billing_month = session.get(BillingMonth, month)
    delivered = session.scalars(
        select(VisitRecord).where(VisitRecord.day.between(first, last), VisitRecord.status == "delivered")
    ).all()
    credited_visits = {lines_by_id[i].visit_id for i in reversed_ids if i in lines_by_id}
    if billing_month is not None and billing_month.runs:
        for record in delivered:
            if record.visit_id not in live_by_visit and record.visit_id not in credited_visits:
                problems.append(f"visit {record.visit_id} on {record.day} was delivered but is not billed")

    # 5. budgets stay within what the client had: no vintage overdrawn at the month's end
    for client_id in sorted({invoice.client_id for invoice in invoices}):
        client = session.get_one(Client, client_id)
        ledger = budgets.client_ledger(session, client, last, book)
        for budget, pots in (("relief", ledger.relief), ("conversion", ledger.conversion)):
            for vintage, cents in sorted(pots.items()):
                if cents < 0:
                    problems.append(
                        f"client {client.external_id}: {budget} budget {vintage} overdrawn by {euros(-cents)}"
                    )

    # 6. invoice numbers of the years touched run without gaps
    for year in sorted({invoice.year for invoice in invoices}):
        sequences = sorted(session.scalars(select(Invoice.sequence).where(Invoice.year == year)).all())
        counter = session.get(InvoiceCounter, year)
        expected_sequences = list(range(1, (counter.last_number if counter else 0) + 1))
        if sequences != expected_sequences:
            missing = sorted(set(expected_sequences) - set(sequences))
            problems.append(
                f"invoice numbers {year} are not gapless: missing {missing[:10]}, "
                f"{len(sequences)} invoices for counter {counter.last_number if counter else 0}"
            )

    # 7. nothing recorded was changed, removed or slipped in: every hash chain holds
    problems.extend(f"hash chain broken: {state.problem}" for state in integrity.verify(session) if state.problem)

    report.figures = {
        "delivered_visits": len(delivered),
        "billed_visits": len(live_by_visit),
        "invoices": sum(1 for i in invoices if i.kind == "invoice"),
        "credit_notes": sum(1 for i in invoices if i.kind == "credit_note"),
        "invoiced_cents": sum(i.total_cents for i in invoices),
        "ledger_cents": -sum(e.amount_cents for e in entries),
        "private_cents": sum(line.amount_cents for line in lines if line.invoice.funding == PRIVATE),
    }
    return report
