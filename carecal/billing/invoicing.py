"""Billing runs, gapless invoice numbers, month close and credit notes.

One invoice per client, payer and funding source and month: the relief amount (§45b) and
the conversion budget (§45a(4)) are billed separately, and whatever no budget covers goes
to the client privately. The payer of budget-funded invoices is the insurer when the
client signed an assignment of benefits (Abtretungserklärung), else the client, who
claims the money back (Kostenerstattung).

Concurrency: a run locks its month's row, then the year's counter row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite has one writer at a time anyway) and keeps both locks until
its transaction ends. So two runs of one month cannot bill a visit twice, and invoice
numbers are handed out without gaps: a failed run rolls its numbers back with it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carecal import audit, clock, db, lifecycle, lookup, organisation
from carecal.billing import billed, budgets, issued
from carecal.billing.billed import FUNDING_ORDER
from carecal.billing.ledger import (
    CONVERSION,
    PRIVATE,
    RELIEF,
    Share,
    allocate,
    eligible,
    month_bounds,
    parse_month,
)
from carecal.billing.money import visit_price
from carecal.billing.rates import RateBook
from carecal.billing.reconcile import reconcile
from carecal.errors import Conflict, InputError, NotFound
from carecal.models import (
    BillingMonth,
    Client,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    VisitRecord,
)

_OFFER = "Leistungen eines nach Landesrecht anerkannten Angebots zur Unterstützung im Alltag nach § 45a SGB XI"
STATEMENTS = {
    RELIEF: f"{_OFFER}, abgerechnet über den Entlastungsbetrag nach § 45b SGB XI.",
    CONVERSION: f"{_OFFER}, abgerechnet über den Umwandlungsanspruch nach § 45a Abs. 4 SGB XI.",
    PRIVATE: f"{_OFFER}. Privat zu zahlen: nicht durch den Entlastungsbetrag (§ 45b SGB XI) oder "
    "den Umwandlungsanspruch (§ 45a Abs. 4 SGB XI) gedeckt.",
}


def lock_month(session: Session, month: str) -> BillingMonth:
    return db.locked_row(session, BillingMonth, month=month, runs=0)


def next_number(session: Session, year: int) -> tuple[int, str]:
    """The next invoice number of `year`, e.g. (7, '2026-0007'); the counter row stays
    locked until the caller's transaction ends."""
    counter = db.locked_row(session, InvoiceCounter, year=year, last_number=0)
    counter.last_number += 1
    session.flush()
    return counter.last_number, f"{year}-{counter.last_number:04d}"


def payer_of(client: Client, funding: str, month_end: date) -> tuple[str, str, str | None]:
    """(payer kind, name, IK) for an invoice."""
    if funding != PRIVATE and client.benefits_assigned_on and client.benefits_assigned_on <= month_end:
        if not client.insurer_name:
            raise InputError(f"client {client.external_id} assigned benefits but has no insurer on file")
        return "insurer", client.insurer_name, client.insurer_ik
    return "client", client.name, None


def visit_lines(
    record: VisitRecord, category: str, hourly: int, price: int, shares: list[Share], client: Client, actor: str
) -> list[tuple[str, tuple[InvoiceLine, list[LedgerEntry]]]]:
    """A visit's invoice lines: one per funding source, each with the ledger spends of its
    money (one per vintage: last year's carry-over and this year's amount are two spends
    of one line). A visit paid from two sources has two lines, on two invoices, each
    holding its part of the one price."""
    parts: dict[str, list[Share]] = defaultdict(list)
    for share in shares:
        parts[share.funding].append(share)
    result = []
    for funding, funded in parts.items():
        line = InvoiceLine(
            visit_id=record.visit_id,
            record=record,
            day=record.day,
            minutes=record.minutes,
            category=category,
            unit_price_cents=hourly,
            amount_cents=sum(share.amount_cents for share in funded),
            visit_price_cents=price,
        )
        spends = [
            LedgerEntry(
                client_id=client.id,
                budget=funding,
                kind="spend",
                day=record.day,
                vintage=share.vintage,
                amount_cents=-share.amount_cents,
                actor=actor,
                reason=f"visit {record.visit_id}",
            )
            for share in funded
            if funding != PRIVATE
        ]
        result.append((funding, (line, spends)))
    return result


@dataclass
class RunResult:
    month: str
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(i.total_cents for i in self.invoices)


@dataclass
class Draft:
    """One invoice a run is about to issue: a client's visits of one funding source."""

    client: Client
    funding: str
    lines: list[tuple[InvoiceLine, list[LedgerEntry]]]


def run_month(
    session: Session, month: str, actor: str, issued_on: date | None = None, *, partial: bool = False
) -> RunResult:
    """Bill the month's delivered visits that are not billed yet, in any order of months.

    A month is billed once it is over; `partial` bills what of a month in progress has
    taken place so far. Running a month again bills only visits recorded (or credited)
    since: after the month's first run once it was over, each new invoice is a correction
    invoice (Korrekturrechnung) that names the client's original invoice of the month. A
    closed month is refused."""
    month = parse_month(month)
    org = organisation.require(session)
    issued_on = issued_on or clock.today(org.timezone)
    billing_month = lock_month(session, month)
    if billing_month.closed:
        raise Conflict(f"month {month} is closed; correct it with a credit note")
    over = lifecycle.month_over(month_bounds(month)[1], org.timezone)
    if not over and not partial:
        raise InputError(
            f"month {month} is not over yet (it ends {month_bounds(month)[1]:%d.%m.%Y}): bill it once it is over, "
            f"or bill what has taken place so far with `carecal billing run --month {month} --partial`"
        )
    head = issued.Letterhead.of(session)
    drafts = draft_invoices(session, month, budgets.rate_book(session, org), actor)
    _check_payers(drafts, head, month)
    late = billing_month.completed_at is not None
    result = RunResult(month, [issue(session, draft, month, issued_on, actor, late, head) for draft in drafts])
    billing_month.runs += 1
    billing_month.last_run_at = clock.now()
    if over and billing_month.completed_at is None:
        billing_month.completed_at = billing_month.last_run_at
    audit.record(
        session,
        actor,
        "billing.run",
        object_type="billing_month",
        object_id=month,
        invoices=[i.number for i in result.invoices],
        total_cents=result.total_cents,
        partial=not over,
    )
    session.flush()
    return result


def draft_invoices(session: Session, month: str, book: RateBook, actor: str) -> list[Draft]:
    """The month's unbilled visits as invoices to issue: per client and funding source,
    each visit priced on its day and paid from the budgets it may use, oldest money first."""
    first, _ = month_bounds(month)
    by_client: dict[int, list[VisitRecord]] = defaultdict(list)
    for record in billed.unbilled(session, month):
        by_client[record.visit.client_id].append(record)
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(list(by_client))))}
    drafts, problems = [], []
    for client_id in sorted(by_client, key=lambda cid: clients[cid].external_id):
        client = clients[client_id]
        funds = budgets.client_funds(session, client, first, book)
        entitled = budgets.entitlement(client)
        lines_by_funding: dict[str, list] = defaultdict(list)
        for record in by_client[client_id]:
            category = record.visit.care_request.category
            hourly = book.find("price_per_hour", record.day, category)
            if hourly is None:
                problems.append(f"visit {record.visit_id} on {record.day}: no price_per_hour/{category} valid that day")
                continue
            price = visit_price(record.minutes, hourly)
            shares = allocate(funds, record.day, price, eligible(entitled, record.day), note=f"visit {record.visit_id}")
            for funding, drafted in visit_lines(record, category, hourly, price, shares, client, actor):
                lines_by_funding[funding].append(drafted)
        drafts += [Draft(client, f, lines_by_funding[f]) for f in FUNDING_ORDER if lines_by_funding.get(f)]
    if problems:
        raise InputError(f"cannot bill {month}", problems)
    return drafts


def _check_payers(drafts: list[Draft], head: issued.Letterhead, month: str) -> None:
    """Every insurer to be billed has its postal address on file (an issued invoice keeps it)."""
    problems = []
    for draft in drafts:
        if payer_of(draft.client, draft.funding, month_bounds(month)[1])[0] == "insurer":
            try:
                issued.insurer_of(draft.client, head)
            except InputError as error:
                problems.append(str(error))
    if problems:
        raise InputError(f"cannot bill {month}", sorted(set(problems)))


def issue(
    session: Session, draft: Draft, month: str, issued_on: date, actor: str, late: bool, head: issued.Letterhead
) -> Invoice:
    """Number and store one drafted invoice with its lines and ledger spends, and what it
    prints. A `late` one (the month was billed once it was over) names the client's
    original invoice of the month for the same funding source, when there is one: it is a
    correction invoice."""
    payer, payer_name, payer_ik = payer_of(draft.client, draft.funding, month_bounds(month)[1])
    sequence, number = next_number(session, issued_on.year)
    invoice = Invoice(
        number=number,
        year=issued_on.year,
        sequence=sequence,
        kind="invoice",
        supplements=original_invoice(session, draft.client, month, draft.funding) if late else None,
        month=month,
        issued_on=issued_on,
        client=draft.client,
        payer=payer,
        payer_name=payer_name,
        payer_ik=payer_ik,
        funding=draft.funding,
        statement=STATEMENTS[draft.funding],
        total_cents=sum(line.amount_cents for line, _ in draft.lines),
        created_by=actor,
    )
    issued.freeze(invoice, [(line, _parts(draft.funding, line, entries)) for line, entries in draft.lines], head)
    session.add(invoice)
    for line, entries in draft.lines:
        invoice.lines.append(line)
        session.flush()
        for entry in entries:
            entry.invoice_line_id = line.id
            session.add(entry)
    return invoice


def _parts(funding: str, line: InvoiceLine, spends: list[LedgerEntry]) -> list[billed.Part]:
    if funding == PRIVATE:
        return [billed.Part(PRIVATE, None, line.amount_cents)]
    return [billed.Part(funding, e.vintage, -e.amount_cents) for e in spends]


def original_invoice(session: Session, client: Client, month: str, funding: str) -> Invoice | None:
    """The client's first invoice of the month for `funding` (not itself a correction)."""
    return session.scalars(
        select(Invoice)
        .where(
            Invoice.client_id == client.id,
            Invoice.month == month,
            Invoice.funding == funding,
            Invoice.kind == "invoice",
            Invoice.supplements_id.is_(None),
        )
        .order_by(Invoice.year, Invoice.sequence)
    ).first()


def kind_label(invoice: Invoice) -> str:
    """'invoice', 'credit' (a credit note) or 'correction' (a correction invoice)."""
    if invoice.kind == "credit_note":
        return "credit"
    return "correction" if invoice.supplements_id else "invoice"


def list_invoices(
    session: Session, *, client: str | None = None, month: str | None = None, year: int | None = None
) -> list[Invoice]:
    """Invoices, credit notes and correction invoices by number, of a client, a billing
    month or a year of numbers (each only if given)."""
    query = select(Invoice).order_by(Invoice.year, Invoice.sequence)
    if client:
        query = query.where(Invoice.client_id == lookup.client(session, client).id)
    if month:
        query = query.where(Invoice.month == parse_month(month))
    if year:
        query = query.where(Invoice.year == year)
    return list(session.scalars(query).all())


def find_invoice(session: Session, number: str) -> Invoice:
    invoice = session.scalars(select(Invoice).where(Invoice.number == number)).first()
    if invoice is None:
        raise NotFound(f"no invoice {number!r}")
    return invoice


def credit_note(
    session: Session,
    number: str,
    actor: str,
    reason: str,
    visit_ids: list[int] | None = None,
    issued_on: date | None = None,
) -> Invoice:
    """The credit note of invoice `number` that `credit` issues (it may issue more)."""
    return credit(session, number, actor, reason, visit_ids, issued_on)[0]


def credit(
    session: Session,
    number: str,
    actor: str,
    reason: str,
    visit_ids: list[int] | None = None,
    issued_on: date | None = None,
) -> list[Invoice]:
    """Credit notes that reverse the invoice (or only its lines of `visit_ids`) and give the
    budget money back to where it came from, the credit note of `number` first. A visit is
    credited whole: where it is paid from several sources (a budget and the private
    remainder), its parts on the other invoices are reversed too, each by a credit note of
    its own invoice. Allowed in closed months: that is how they are corrected."""
    if not reason or not reason.strip():
        raise InputError("a credit note needs a reason (--reason)")
    invoice = find_invoice(session, number)
    if invoice.kind != "invoice":
        raise Conflict(f"{number} is itself a credit note")
    issued_on = issued_on or clock.today(organisation.require(session).timezone)
    lock_month(session, invoice.month)
    if visit_ids is not None and {line.visit_id for line in invoice.lines}.isdisjoint(visit_ids):
        raise InputError(f"invoice {number} has no line for visit(s) {', '.join(map(str, visit_ids))}")
    live = billed.live_lines(session, sorted({line.visit_id for line in invoice.lines}))
    lines = [
        line
        for line in invoice.lines
        if line in live.get(line.visit_id, []) and (visit_ids is None or line.visit_id in visit_ids)
    ]
    if not lines:
        raise Conflict(f"invoice {number} is already fully credited")
    others: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        for part in live[line.visit_id]:
            if part.invoice_id != invoice.id:
                others[part.invoice_id].append(part)
    head = issued.Letterhead.of(session)
    credits = [_reverse(session, invoice, lines, actor, reason, issued_on, head)]
    for invoice_id in sorted(others):
        other = others[invoice_id][0].invoice
        credits.append(_reverse(session, other, others[invoice_id], actor, reason, issued_on, head))
    return credits


def _reverse(
    session: Session,
    invoice: Invoice,
    lines: list[InvoiceLine],
    actor: str,
    reason: str,
    issued_on: date,
    head: issued.Letterhead,
) -> Invoice:
    """One credit note that reverses `lines` of `invoice`, with the refunds of their spends."""
    sequence, credit_number = next_number(session, issued_on.year)
    credit = Invoice(
        number=credit_number,
        year=issued_on.year,
        sequence=sequence,
        kind="credit_note",
        corrects=invoice,
        month=invoice.month,
        issued_on=issued_on,
        client=invoice.client,
        payer=invoice.payer,
        payer_name=invoice.payer_name,
        payer_ik=invoice.payer_ik,
        funding=invoice.funding,
        statement=invoice.statement,
        total_cents=-sum(line.amount_cents for line in lines),
        reason=reason,
        created_by=actor,
    )
    reversals = [
        InvoiceLine(
            visit_id=line.visit_id,
            record=line.record,
            corrects_line_id=line.id,
            day=line.day,
            minutes=line.minutes,
            category=line.category,
            unit_price_cents=line.unit_price_cents,
            amount_cents=-line.amount_cents,
            visit_price_cents=line.visit_price_cents,
        )
        for line in lines
    ]
    parts = billed.line_parts(session, lines)
    printed = [
        (reversal, [billed.Part(p.funding, p.vintage, -p.amount_cents) for p in parts[line.id]])
        for reversal, line in zip(reversals, lines, strict=True)
    ]
    issued.freeze(credit, printed, head)
    session.add(credit)
    for line, reversal in zip(lines, reversals, strict=True):
        credit.lines.append(reversal)
        session.flush()
        spends = session.scalars(select(LedgerEntry).where(LedgerEntry.invoice_line_id == line.id)).all()
        for spend in spends:
            # dated like the spend it reverses: the money is back as if never spent
            session.add(
                LedgerEntry(
                    client_id=spend.client_id,
                    budget=spend.budget,
                    kind="refund",
                    day=spend.day,
                    vintage=spend.vintage,
                    amount_cents=-spend.amount_cents,
                    invoice_line_id=reversal.id,
                    reason=f"credit note {credit_number} for {invoice.number}",
                    actor=actor,
                )
            )
    audit.record(
        session,
        actor,
        "billing.credit_note",
        object_type="invoice",
        object_id=credit_number,
        corrects=invoice.number,
        visits=sorted({line.visit_id for line in lines}),
        total_cents=credit.total_cents,
        reason=reason,
    )
    session.flush()
    return credit


def close_month(session: Session, month: str, actor: str) -> BillingMonth:
    """Make the month immutable. Refused while visits are unbilled or the books do not add up."""
    month = parse_month(month)
    lifecycle.ensure_month_over(month_bounds(month)[1], organisation.timezone(session), month)
    billing_month = lock_month(session, month)
    if billing_month.closed:
        raise Conflict(f"month {month} is already closed")
    unbilled = billed.unbilled(session, month)
    if unbilled:
        raise Conflict(
            f"{len(unbilled)} delivered visit(s) of {month} are not billed yet: "
            f"run `carecal billing run --month {month}` first"
        )
    report = reconcile(session, month)
    if not report.ok:
        raise Conflict(f"month {month} does not reconcile: see `carecal billing reconcile --month {month}`")
    billing_month.closed_at, billing_month.closed_by = clock.now(), actor
    audit.record(
        session,
        actor,
        "billing.close",
        object_type="billing_month",
        object_id=month,
        invoices=session.scalar(select(func.count()).select_from(Invoice).where(Invoice.month == month)),
    )
    session.flush()
    return billing_month
