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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carecal import audit, clock, lifecycle, organisation
from carecal.billing import budgets
from carecal.billing.ledger import CONVERSION, PRIVATE, RELIEF, allocate, grade_on, month_bounds, parse_month
from carecal.billing.money import visit_price
from carecal.billing.reconcile import reconcile
from carecal.billing.records import billed_line
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

FUNDING_ORDER = (RELIEF, CONVERSION, PRIVATE)

_OFFER = "Leistungen eines nach Landesrecht anerkannten Angebots zur Unterstützung im Alltag nach § 45a SGB XI"
STATEMENTS = {
    RELIEF: f"{_OFFER}, abgerechnet über den Entlastungsbetrag nach § 45b SGB XI.",
    CONVERSION: f"{_OFFER}, abgerechnet über den Umwandlungsanspruch nach § 45a Abs. 4 SGB XI.",
    PRIVATE: f"{_OFFER}. Privat zu zahlen: nicht durch den Entlastungsbetrag (§ 45b SGB XI) oder "
    "den Umwandlungsanspruch (§ 45a Abs. 4 SGB XI) gedeckt.",
}


def _insert_ignore(session: Session, model, **values) -> None:
    """INSERT unless the row exists, without failing when a concurrent run inserts it too."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def lock_month(session: Session, month: str) -> BillingMonth:
    _insert_ignore(session, BillingMonth, month=month, runs=0)
    return session.scalars(
        select(BillingMonth)
        .where(BillingMonth.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def next_number(session: Session, year: int) -> tuple[int, str]:
    """The next invoice number of `year`, e.g. (7, '2026-0007'); the counter row stays
    locked until the caller's transaction ends."""
    _insert_ignore(session, InvoiceCounter, year=year, last_number=0)
    counter = session.scalars(
        select(InvoiceCounter)
        .where(InvoiceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
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


def billable_records(session: Session, month: str) -> list[VisitRecord]:
    """Delivered visits of the month that have ended and are not billed yet. Records are
    made only for published visits and stay facts after a replan, so they are not filtered
    by version."""
    first, last = month_bounds(month)
    records = session.scalars(
        select(VisitRecord)
        .where(VisitRecord.day.between(first, last), VisitRecord.status == "delivered")
        .order_by(VisitRecord.started_at, VisitRecord.id)
    ).all()
    now = clock.now()
    return [r for r in records if lifecycle.billable(r, now) and billed_line(session, r.visit_id) is None]


@dataclass
class RunResult:
    month: str
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(i.total_cents for i in self.invoices)


def run_month(session: Session, month: str, actor: str, issued_on: date | None = None) -> RunResult:
    """Bill the month's delivered, not yet billed visits. Running it again bills only
    visits recorded since; a closed month is refused."""
    month = parse_month(month)
    org = organisation.require(session)
    issued_on = issued_on or clock.today(org.timezone)
    billing_month = lock_month(session, month)
    if billing_month.closed:
        raise Conflict(f"month {month} is closed; correct it with a credit note")
    later = session.scalars(
        select(Invoice.month).where(Invoice.month > month, Invoice.kind == "invoice").order_by(Invoice.month)
    ).first()
    if later:
        raise Conflict(
            f"{later} is already billed: bill months in order, so each budget is spent oldest "
            f"visit first (record late visits of {month} as a correction)"
        )

    book = budgets.rate_book(session, org)
    first, last = month_bounds(month)
    by_client: dict[int, list[VisitRecord]] = defaultdict(list)
    for record in billable_records(session, month):
        by_client[record.visit.client_id].append(record)

    result = RunResult(month)
    problems = []
    drafts: list[tuple[Client, str, list[tuple[InvoiceLine, list[LedgerEntry]]]]] = []
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(list(by_client))))}
    for client_id in sorted(by_client, key=lambda cid: clients[cid].external_id):
        client = clients[client_id]
        ledger = budgets.client_ledger(session, client, last, book, advance=False)
        periods = budgets.grade_periods(client)
        lines_by_funding: dict[str, list] = defaultdict(list)
        for record in by_client[client_id]:
            category = record.visit.care_request.category
            hourly = book.find("price_per_hour", record.day, category)
            if hourly is None:
                problems.append(f"visit {record.visit_id} on {record.day}: no price_per_hour/{category} valid that day")
                continue
            price = visit_price(record.minutes, hourly)
            grade = grade_on(periods, record.day)
            shares = allocate(
                ledger,
                record.day,
                price,
                note=f"visit {record.visit_id}",
                relief=grade is not None and client.lives_at_home,
                conversion=(grade or 0) >= 2 and client.conversion_budget_opt_in and client.lives_at_home,
            )
            for share in shares:
                line = InvoiceLine(
                    visit_id=record.visit_id,
                    record=record,
                    day=record.day,
                    minutes=record.minutes,
                    category=category,
                    unit_price_cents=hourly,
                    amount_cents=share.amount_cents,
                    visit_price_cents=price,
                )
                entries = (
                    []
                    if share.funding == PRIVATE
                    else [
                        LedgerEntry(
                            client_id=client.id,
                            budget=share.funding,
                            kind="spend",
                            day=record.day,
                            vintage=share.vintage,
                            amount_cents=-share.amount_cents,
                            actor=actor,
                            reason=f"visit {record.visit_id}",
                        )
                    ]
                )
                lines_by_funding[share.funding].append((line, entries))
        for funding in FUNDING_ORDER:
            if lines_by_funding.get(funding):
                drafts.append((client, funding, lines_by_funding[funding]))
    if problems:
        raise InputError(f"cannot bill {month}", problems)

    for client, funding, lines in drafts:
        payer, payer_name, payer_ik = payer_of(client, funding, last)
        sequence, number = next_number(session, issued_on.year)
        invoice = Invoice(
            number=number,
            year=issued_on.year,
            sequence=sequence,
            kind="invoice",
            month=month,
            issued_on=issued_on,
            client=client,
            payer=payer,
            payer_name=payer_name,
            payer_ik=payer_ik,
            funding=funding,
            statement=STATEMENTS[funding],
            total_cents=sum(line.amount_cents for line, _ in lines),
            created_by=actor,
        )
        session.add(invoice)
        for line, entries in lines:
            invoice.lines.append(line)
            session.flush()
            for entry in entries:
                entry.invoice_line_id = line.id
                session.add(entry)
        result.invoices.append(invoice)

    billing_month.runs += 1
    billing_month.last_run_at = clock.now()
    audit.record(
        session,
        actor,
        "billing.run",
        object_type="billing_month",
        object_id=month,
        invoices=[i.number for i in result.invoices],
        total_cents=result.total_cents,
    )
    session.flush()
    return result


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
    """A credit note that reverses the invoice (or only the lines of `visit_ids`) and gives
    the budget money back to where it came from. Allowed in closed months: that is how
    they are corrected."""
    if not reason or not reason.strip():
        raise InputError("a credit note needs a reason (--reason)")
    invoice = find_invoice(session, number)
    if invoice.kind != "invoice":
        raise Conflict(f"{number} is itself a credit note")
    org = organisation.require(session)
    issued_on = issued_on or clock.today(org.timezone)
    lock_month(session, invoice.month)
    reversed_ids = set(
        session.scalars(
            select(InvoiceLine.corrects_line_id).where(
                InvoiceLine.corrects_line_id.in_([line.id for line in invoice.lines])
            )
        ).all()
    )
    lines = [
        line
        for line in invoice.lines
        if line.id not in reversed_ids and (visit_ids is None or line.visit_id in visit_ids)
    ]
    if visit_ids is not None and {line.visit_id for line in invoice.lines}.isdisjoint(visit_ids):
        raise InputError(f"invoice {number} has no line for visit(s) {', '.join(map(str, visit_ids))}")
    if not lines:
        raise Conflict(f"invoice {number} is already fully credited")

    sequence, credit_number = next_number(session, issued_on.year)
    credit = Invoice(
        number=credit_number,
        year=issued_on.year,
        sequence=sequence,
        kind="credit_note",
        corrects=invoice,
        month=invoice.month,
        issued_on=issued_on,
        client_id=invoice.client_id,
        payer=invoice.payer,
        payer_name=invoice.payer_name,
        payer_ik=invoice.payer_ik,
        funding=invoice.funding,
        statement=invoice.statement,
        total_cents=-sum(line.amount_cents for line in lines),
        reason=reason,
        created_by=actor,
    )
    session.add(credit)
    for line in lines:
        reversal = InvoiceLine(
            visit_id=line.visit_id,
            record_id=line.record_id,
            corrects_line_id=line.id,
            day=line.day,
            minutes=line.minutes,
            category=line.category,
            unit_price_cents=line.unit_price_cents,
            amount_cents=-line.amount_cents,
            visit_price_cents=line.visit_price_cents,
        )
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
                    reason=f"credit note {credit_number} for {number}",
                    actor=actor,
                )
            )
    audit.record(
        session,
        actor,
        "billing.credit_note",
        object_type="invoice",
        object_id=credit_number,
        corrects=number,
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
    unbilled = billable_records(session, month)
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
