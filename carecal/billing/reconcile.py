"""Proof that a month's visit records, invoices and ledger movements add up.

Everything is recomputed from the records and the rate table, independently of how the
billing run computed it, so a changed row anywhere shows up as a named problem; and the
hash chains of the audit log, invoices, invoice lines, ledger entries and payouts must
hold, so a row rewritten behind the database's back shows even where the sums still add
up. The volunteers' payouts of the month are checked too (`carecal.billing.payout_check`).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import integrity, organisation, periods, typed_json
from carecal.billing import billed, budgets, payout_check
from carecal.billing.issued import IssuedInvoice
from carecal.billing.ledger import PRIVATE, month_bounds, parse_month
from carecal.billing.money import euros, visit_price
from carecal.billing.rates import RateBook
from carecal.models import (
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


@dataclass
class Books:
    """The month's invoices and lines, as the checks read them."""

    month: str
    first: date
    last: date
    book: RateBook
    invoices: list[Invoice]
    lines: list[InvoiceLine]
    lines_by_id: dict[int, InvoiceLine]
    reversed_ids: set[int]
    live_by_visit: dict[int, list[InvoiceLine]]


def reconcile(session: Session, month: str) -> Reconciliation:
    month = parse_month(month)
    books = _books(session, month)
    report = Reconciliation(month)
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.invoice_line_id.in_(list(books.lines_by_id)))).all()
    delivered = session.scalars(
        select(VisitRecord).where(VisitRecord.day.between(books.first, books.last), VisitRecord.status == "delivered")
    ).all()
    for check in (_totals, _credit_notes, _visits, _documents, _unbilled, _overdrawn, _gapless):
        report.problems.extend(check(session, books))
    report.problems.extend(_ledger_moves(session, books, entries))
    # the volunteers' allowances paid equal what their signed visits earn (once paid)
    report.problems.extend(payout_check.check(session, month))
    # nothing recorded was changed, removed or slipped in: every hash chain holds
    report.problems.extend(
        f"hash chain broken: {state.problem}" for state in integrity.verify(session) if state.problem
    )
    report.figures = {
        "delivered_visits": len(delivered),
        "billed_visits": len(books.live_by_visit),
        "invoices": sum(1 for i in books.invoices if i.kind == "invoice"),
        "credit_notes": sum(1 for i in books.invoices if i.kind == "credit_note"),
        "invoiced_cents": sum(i.total_cents for i in books.invoices),
        "ledger_cents": -sum(e.amount_cents for e in entries),
        "private_cents": sum(line.amount_cents for line in books.lines if line.invoice.funding == PRIVATE),
    }
    return report


def _books(session: Session, month: str) -> Books:
    first, last = month_bounds(month)
    invoices = list(
        session.scalars(select(Invoice).where(Invoice.month == month).order_by(Invoice.year, Invoice.sequence)).all()
    )
    lines = [line for invoice in invoices for line in invoice.lines]
    reversed_ids = {line.corrects_line_id for line in lines if line.corrects_line_id}
    live_by_visit: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        if line.corrects_line_id is None and line.id not in reversed_ids:
            live_by_visit[line.visit_id].append(line)
    book = budgets.rate_book(session, organisation.require(session))
    return Books(
        month, first, last, book, invoices, lines, {line.id: line for line in lines}, reversed_ids, live_by_visit
    )


def _totals(session: Session, books: Books) -> list[str]:
    """Every invoice's total is the sum of its lines, and an invoice's lines are positive."""
    problems = []
    for invoice in books.invoices:
        total = sum(line.amount_cents for line in invoice.lines)
        if total != invoice.total_cents:
            problems.append(
                f"invoice {invoice.number}: total {euros(invoice.total_cents)} but lines add up to {euros(total)}"
            )
        if invoice.kind == "invoice":
            problems.extend(
                f"invoice {invoice.number}: line for visit {line.visit_id} is not positive"
                for line in invoice.lines
                if line.amount_cents <= 0
            )
    return problems


def _credit_notes(session: Session, books: Books) -> list[str]:
    """Every credit-note line mirrors a line of the invoice it corrects."""
    problems = []
    for invoice in books.invoices:
        if invoice.kind != "credit_note":
            continue
        for line in invoice.lines:
            original = books.lines_by_id.get(line.corrects_line_id) if line.corrects_line_id else None
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
    return problems


def _documents(session: Session, books: Books) -> list[str]:
    """What each invoice printed when it was issued says what its rows say: its number,
    total, and each line's day, minutes and amounts (an invoice issued before carecal kept
    its document has none to compare)."""
    problems = []
    for invoice in books.invoices:
        if invoice.document is None:
            continue
        try:
            printed = typed_json.decode(IssuedInvoice, invoice.document)
        except (ValueError, TypeError) as error:
            problems.append(f"invoice {invoice.number}: its issued document cannot be read ({error})")
            continue
        shown = [(p.day, p.minutes, p.amount_cents, p.visit_price_cents) for p in printed.lines]
        booked = [(ln.day, ln.minutes, ln.amount_cents, ln.visit_price_cents) for ln in invoice.lines]
        if (printed.number, printed.total_cents, shown) != (invoice.number, invoice.total_cents, booked):
            problems.append(f"invoice {invoice.number}: the document it was issued as differs from its lines")
    return problems


def _visits(session: Session, books: Books) -> list[str]:
    """Each billed visit is recorded as delivered in the month, priced from its record and
    the rate valid that day, and billed exactly once: one live line per funding source,
    whose parts add up to the visit's price, and none of it credited while the rest stands."""
    problems = []
    credited = {books.lines_by_id[i].visit_id for i in books.reversed_ids if i in books.lines_by_id}
    for visit_id, visit_lines in sorted(books.live_by_visit.items()):
        record = visit_lines[0].record
        if record.status != "delivered":
            problems.append(f"visit {visit_id} is billed but recorded as {record.status}")
            continue
        if not books.first <= record.day <= books.last:
            problems.append(f"visit {visit_id} on {record.day} is billed in {books.month}")
        hourly = books.book.find("price_per_hour", record.day, visit_lines[0].category)
        expected = visit_price(record.minutes, hourly or 0)
        billed = sum(line.amount_cents for line in visit_lines)
        if billed != expected:
            partly = " (part of it was credited)" if visit_id in credited else ""
            problems.append(
                f"visit {visit_id}: billed {euros(billed)}, but {record.minutes} min at "
                f"{euros(hourly or 0)}/h is {euros(expected)}{partly}"
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
    return problems


def _ledger_moves(session: Session, books: Books, entries: Sequence[LedgerEntry]) -> list[str]:
    """Every budget-funded line has ledger movements of its amount (one per vintage it
    takes), a private line none, and no spend or refund belongs to no line."""
    problems = []
    moved: dict[int, int] = defaultdict(int)
    for entry in entries:
        line_id = entry.invoice_line_id
        assert line_id is not None  # selected by it
        moved[line_id] += entry.amount_cents
        if entry.budget != books.lines_by_id[line_id].invoice.funding:
            problems.append(
                f"ledger entry {entry.id} moves {entry.budget} money for a "
                f"{books.lines_by_id[line_id].invoice.funding} line"
            )
    for line in books.lines:
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
            LedgerEntry.day.between(books.first, books.last),
        )
    ).all()
    problems.extend(f"ledger entry {e.id} ({e.kind}) belongs to no invoice line" for e in orphans)
    return problems


def _unbilled(session: Session, books: Books) -> list[str]:
    """No delivered visit of the month is left unbilled. A visit credited after its month
    was closed stays credited: the credit note is the correction of closed books."""
    closed = periods.is_closed(session, books.first)
    credited = {books.lines_by_id[i].visit_id for i in books.reversed_ids if i in books.lines_by_id}
    return [
        f"visit {record.visit_id} on {record.day} was delivered but is not billed"
        + (" (its invoice was credited: bill it again)" if record.visit_id in credited else "")
        for record in billed.unbilled(session, books.month)
        if not (closed and record.visit_id in credited)
    ]


def _overdrawn(session: Session, books: Books) -> list[str]:
    """Budgets stay within what the client had: no vintage overdrawn at the month's end."""
    problems: list[str] = []
    for client_id in sorted({invoice.client_id for invoice in books.invoices}):
        client = session.get_one(Client, client_id)
        ledger = budgets.client_ledger(session, client, books.last, books.book)
        for budget, pots in (("relief", ledger.relief), ("conversion", ledger.conversion)):
            problems.extend(
                f"client {client.external_id}: {budget} budget {vintage} overdrawn by {euros(-cents)}"
                for vintage, cents in sorted(pots.items())
                if cents < 0
            )
    return problems


def _gapless(session: Session, books: Books) -> list[str]:
    """The invoice numbers of the years the month's invoices touch run 1…n without gaps."""
    problems = []
    for year in sorted({invoice.year for invoice in books.invoices}):
        sequences = sorted(session.scalars(select(Invoice.sequence).where(Invoice.year == year)).all())
        counter = session.get(InvoiceCounter, year)
        expected = list(range(1, (counter.last_number if counter else 0) + 1))
        if sequences != expected:
            missing = sorted(set(expected) - set(sequences))
            problems.append(
                f"invoice numbers {year} are not gapless: missing {missing[:10]}, "
                f"{len(sequences)} invoices for counter {counter.last_number if counter else 0}"
            )
    return problems
