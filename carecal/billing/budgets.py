"""A client's budget ledger from the database: derived accruals and lapses (from the
care grades and the rates) plus the stored movements (spends, refunds, corrections)."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carecal import audit, organisation, periods
from carecal.billing.ledger import (
    CONVERSION,
    RELIEF,
    Entitlement,
    Funds,
    Ledger,
    Movement,
    conversion_accruals,
    month_bounds,
    month_key,
    relief_accruals,
)
from carecal.billing.rates import RateBook, RateValue
from carecal.errors import InputError
from carecal.models import Client, LedgerEntry, Organisation, Rate


def rate_book(session: Session, org: Organisation) -> RateBook:
    rows = session.scalars(select(Rate).where(Rate.organisation_id == org.id)).all()
    return RateBook(RateValue(r.kind, r.key, r.amount_cents, r.valid_from, r.valid_to) for r in rows)


def grade_periods(client: Client) -> list[tuple[date, int]]:
    return sorted((g.valid_from, g.grade) for g in client.care_grades)


def entitlement(client: Client) -> Entitlement:
    """What decides which budgets may pay for the client's visits (`ledger.eligible`)."""
    return Entitlement(grade_periods(client), client.lives_at_home, client.conversion_budget_opt_in)


def window_start(until: date) -> date:
    """1 January of the year before: all older money has lapsed by `until`, so the ledger
    starts here and stays short however long a client has been with the association."""
    return date(until.year - 1, 1, 1)


def stored_movements(session: Session, client: Client, first: date, until: date) -> list[Movement]:
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.client_id == client.id, LedgerEntry.day <= until)
        .order_by(LedgerEntry.day, LedgerEntry.id)
    ).all()
    return [
        Movement(r.day, r.budget, r.kind, r.vintage, r.amount_cents, r.reason or "", r.id)
        for r in rows
        if r.vintage >= str(first.year)
    ]  # older vintages lapsed before the window


def movements(
    session: Session, client: Client, book: RateBook, until: date, first: date | None = None
) -> list[Movement]:
    first = first or window_start(until)
    periods = grade_periods(client)
    derived = relief_accruals(
        periods, lambda day: book.amount("relief_amount_month", day), first, until, client.lives_at_home
    )
    derived += conversion_accruals(
        periods,
        lambda grade, day: book.find("conversion_max_month", day, str(grade)) or 0,
        first,
        until,
        client.conversion_budget_opt_in,
        client.lives_at_home,
    )
    return derived + stored_movements(session, client, first, until)


def client_ledger(
    session: Session, client: Client, until: date, book: RateBook | None = None, advance: bool = True
) -> Ledger:
    """The ledger on `until`. With advance=False it stops at the last movement, so a
    billing run can still add spends dated earlier in the same month."""
    book = book or rate_book(session, organisation.require(session))
    return Ledger.replay(movements(session, client, book, until), until=until if advance else None)


def client_funds(session: Session, client: Client, month_first: date, book: RateBook) -> Funds:
    """The client's money for billing visits from `month_first` on: every stored movement,
    also those dated later (a month billed after the next one), and the accruals up to the
    latest of them, so a spend placed now leaves no later balance negative."""
    latest = session.scalar(select(func.max(LedgerEntry.day)).where(LedgerEntry.client_id == client.id))
    until = max(latest or month_first, month_bounds(month_key(month_first))[1])
    return Funds(movements(session, client, book, until, first=window_start(month_first)))


def correct(
    session: Session, client: Client, reported_cents: int, reason: str, actor: str, *, budget: str = RELIEF, day: date
) -> list[LedgerEntry]:
    """Set the remaining budget on `day` to what the insurer reports; audited."""
    if not reason or not reason.strip():
        raise InputError("a budget correction needs a reason (--reason)")
    if budget not in (RELIEF, CONVERSION):
        raise InputError(f"--budget {budget!r}: use relief or conversion")
    if reported_cents < 0:
        raise InputError("the remaining budget the insurer reports cannot be negative")
    periods.ensure_open(session, day, f"budget correction on {day}")  # date it in an open month instead
    ledger = client_ledger(session, client, day)
    before = ledger.relief_balance() if budget == RELIEF else ledger.conversion_balance(f"{day:%Y-%m}")
    entries = [
        LedgerEntry(
            client_id=client.id,
            budget=m.budget,
            kind="correction",
            day=m.day,
            vintage=m.vintage,
            amount_cents=m.amount_cents,
            reason=reason,
            actor=actor,
        )
        for m in ledger.correct(budget, day, reported_cents, reason)
    ]
    session.add_all(entries)
    audit.record(
        session,
        actor,
        "budget.correct",
        object_type="client",
        object_id=client.external_id,
        budget=budget,
        day=day,
        before_cents=before,
        reported_cents=reported_cents,
        delta_cents=reported_cents - before,
        reason=reason,
    )
    session.flush()
    return entries
