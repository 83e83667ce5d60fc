"""Paying the volunteers' allowances: a month's payouts, made once; corrections; and the
check that what was paid equals delivered, signed hours × rate (part of `billing reconcile`).

A month is paid once it is over and every published visit of it that took place has a
record. Each volunteer's payout holds one line per visit that earns the allowance
(`carecal.billing.allowance`) and is split against the yearly tax-free limit. Running the
month again is refused; `correct` pays (or takes back) what changed since, as new payouts
that reference the month's first one, with lines that add visits or reverse earlier lines.

Concurrency: a run locks the month's row (SELECT ... FOR UPDATE on PostgreSQL) until it
commits, so two treasurers cannot pay a month twice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit, clock, db, lookup, organisation
from carecal.billing import budgets, exports, records
from carecal.billing.allowance import LIMITS, Split, limit_day, next_payout, unpaid_reason, visit_allowance
from carecal.billing.ledger import month_bounds, parse_month
from carecal.billing.money import euros
from carecal.billing.rates import RateBook
from carecal.errors import Conflict, InputError, NotFound
from carecal.models import Organisation, Payout, PayoutLine, PayoutMonth, VisitRecord, Volunteer
from carecal.privacy import mask_iban


@dataclass(frozen=True)
class Earned:
    """One visit's allowance, computed afresh from its record and the rate table."""

    record: VisitRecord
    rate_cents: int
    amount_cents: int

    @property
    def visit_id(self) -> int:
        return self.record.visit_id


@dataclass
class MonthAllowances:
    """Per volunteer id the visits of a month that earn the allowance; the visits delivered
    that earn none (and why); the visits no rate covers."""

    by_volunteer: dict[int, list[Earned]] = field(default_factory=dict)
    unpaid: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def month_allowances(session: Session, month: str, book: RateBook) -> MonthAllowances:
    first, last = month_bounds(month)
    result = MonthAllowances()
    delivered = session.scalars(
        select(VisitRecord)
        .where(VisitRecord.day.between(first, last), VisitRecord.status == "delivered")
        .order_by(VisitRecord.started_at, VisitRecord.id)
    ).all()
    by_volunteer: dict[int, list[Earned]] = defaultdict(list)
    for record in delivered:
        why = unpaid_reason(record.status, record.signature, record.signature_reason)
        if why:
            result.unpaid.append(f"visit {record.visit_id} on {record.day}: {why}")
            continue
        rate = book.find("allowance_per_hour", record.day)
        if rate is None:
            result.problems.append(f"visit {record.visit_id} on {record.day}: no allowance_per_hour valid that day")
            continue
        by_volunteer[record.visit.volunteer_id].append(Earned(record, rate, visit_allowance(record.minutes, rate)))
    result.by_volunteer = dict(by_volunteer)
    return result


def unrecorded_visits(session: Session, month: str) -> list[str]:
    """Published visits of the month that took place (or should have) but have no record:
    paying before they are recorded would leave them out."""
    now = clock.now()
    missing = []
    for visit in exports.month_visits(session, month):
        if visit.status == "planned" and visit.ends_at <= now and records.record_of(session, visit) is None:
            missing.append(f"visit {visit.id} ({visit.version.roster_week.week}, {visit.volunteer.external_id})")
    return missing


def next_weekday(day: date) -> date:
    """The first Monday to Friday after `day` (the bank moves a holiday on by itself)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def lock_month(session: Session, month: str) -> PayoutMonth:
    return db.locked_row(session, PayoutMonth, month=month, batches=0)


def month_payouts(session: Session, month: str, volunteer_id: int | None = None) -> list[Payout]:
    query = select(Payout).where(Payout.month == month).order_by(Payout.id)
    if volunteer_id is not None:
        query = query.where(Payout.volunteer_id == volunteer_id)
    return list(session.scalars(query))


def live_lines(payouts: list[Payout]) -> list[PayoutLine]:
    """The visit lines no later line reverses (what stands as paid)."""
    lines = [line for payout in payouts for line in payout.lines]
    reversed_ids = {line.corrects_line_id for line in lines if line.corrects_line_id}
    return [line for line in lines if line.corrects_line_id is None and line.id not in reversed_ids]


def split_of(payouts: list[Payout]) -> Split:
    return sum((Split(p.tax_free_cents, p.taxable_cents, p.held_cents) for p in payouts), Split())


def tax_free_of_year(session: Session, volunteer_id: int, year: int, except_month: str | None = None) -> int:
    """The allowance a volunteer was paid tax-free for the months of `year` (but one)."""
    query = select(Payout.tax_free_cents).where(Payout.volunteer_id == volunteer_id, Payout.month.like(f"{year}-%"))
    if except_month:
        query = query.where(Payout.month != except_month)
    return sum(session.scalars(query))


@dataclass
class PayoutResult:
    month: str
    batch: int
    payouts: list[Payout] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)  # who crossed the tax-free limit, and what happened
    unpaid: list[str] = field(default_factory=list)  # delivered visits that earn no allowance

    @property
    def paid_cents(self) -> int:
        return sum(p.paid_cents for p in self.payouts if p.paid_cents > 0)

    @property
    def held_cents(self) -> int:
        return sum(p.held_cents for p in self.payouts)


def run(session: Session, month: str, actor: str, execution_date: date | None = None) -> PayoutResult:
    """Pay the month's allowances: one payout per volunteer with visits that earn it. Refused
    before the month is over, while visits of it have no record, and once it was paid."""
    month = parse_month(month)
    org = organisation.require(session)
    _ensure_over(month, org.timezone)
    payout_month = lock_month(session, month)
    if payout_month.made:
        raise Conflict(
            f"the payouts of {month} were made on {payout_month.made_at:%Y-%m-%d} by {payout_month.made_by}: "
            f"pay what changed since with `carecal payout correct --month {month} --reason ...`"
        )
    missing = unrecorded_visits(session, month)
    if missing:
        raise InputError(
            f"{len(missing)} visit(s) of {month} have no record yet: record them "
            "(`carecal visit confirm --week W`, `carecal visit record`) before paying the month",
            missing[:20] + ([f"... and {len(missing) - 20} more"] if len(missing) > 20 else []),
        )
    payout_month.made_at, payout_month.made_by = clock.now(), actor
    return _pay(session, org, payout_month, actor, execution_date, reason=None, only=None)


def correct(
    session: Session,
    month: str,
    actor: str,
    reason: str,
    volunteer_ref: str | None = None,
    execution_date: date | None = None,
) -> PayoutResult:
    """Pay (or take back) what changed in a paid month: visits recorded, changed or
    withdrawn since, and held money the organisation now pays as taxable."""
    if not reason or not reason.strip():
        raise InputError("a payout correction needs a reason (--reason)")
    month = parse_month(month)
    org = organisation.require(session)
    payout_month = lock_month(session, month)
    if not payout_month.made:
        raise Conflict(f"the payouts of {month} were not made yet: `carecal payout run --month {month}` first")
    only = {lookup.volunteer(session, volunteer_ref).id} if volunteer_ref else None
    return _pay(session, org, payout_month, actor, execution_date, reason=reason, only=only)


def _ensure_over(month: str, tz: str) -> None:
    last = month_bounds(month)[1]
    if clock.today(tz) <= last:
        raise InputError(f"month {month} is not over yet (it ends {last:%d %b %Y}): pay it once its visits are done")


def _pay(
    session: Session,
    org: Organisation,
    payout_month: PayoutMonth,
    actor: str,
    execution_date: date | None,
    *,
    reason: str | None,
    only: set[int] | None,
) -> PayoutResult:
    month = payout_month.month
    book = budgets.rate_book(session, org)
    allowances = month_allowances(session, month, book)
    if allowances.problems:
        raise InputError(f"cannot pay {month}", allowances.problems)
    earlier = defaultdict(list)
    for payout in month_payouts(session, month):
        earlier[payout.volunteer_id].append(payout)
    ids = set(allowances.by_volunteer) | set(earlier)
    volunteers = sorted(
        session.scalars(select(Volunteer).where(Volunteer.id.in_(ids & only if only is not None else ids))),
        key=lambda v: v.external_id,
    )
    batch = payout_month.batches + 1
    result = PayoutResult(month, batch, unpaid=allowances.unpaid)
    execution_date = execution_date or next_weekday(clock.today(org.timezone))
    drafts = [
        draft
        for v in volunteers
        if (draft := _draft(session, org, book, v, allowances.by_volunteer.get(v.id, []), earlier[v.id], month))
    ]
    no_account = [d.volunteer.external_id for d in drafts if d.split.paid_cents > 0 and not d.volunteer.iban]
    if no_account:
        raise InputError(
            f"no IBAN on file for {', '.join(no_account)}: add it (`carecal import volunteers FILE` with an iban "
            "column) before paying them"
        )
    for draft in drafts:
        payout = draft.payout(batch, execution_date, reason, actor)
        session.add(payout)
        result.payouts.append(payout)
        if draft.split.above_limit_cents:
            result.over_limit.append(draft.crossing(org.payout_over_limit))
    if not result.payouts:
        return result  # nothing to pay: no batch is used up
    payout_month.batches = batch
    session.flush()
    audit.record(
        session,
        actor,
        "payout.correct" if reason else "payout.run",
        object_type="payout_month",
        object_id=month,
        batch=batch,
        volunteers=[p.volunteer.external_id for p in result.payouts],
        paid_cents=result.paid_cents,
        held_cents=result.held_cents,
        reason=reason,
    )
    return result


@dataclass
class _Draft:
    volunteer: Volunteer
    month: str
    lines: list[PayoutLine]
    split: Split
    first: Payout | None  # the volunteer's first payout of the month, which a correction references
    limit_key: str
    limit_cents: int
    tax_free_before: int

    def payout(self, batch: int, execution_date: date, reason: str | None, actor: str) -> Payout:
        transfers = self.split.paid_cents > 0
        return Payout(
            month=self.month,
            batch=batch,
            kind="correction" if self.first else "payout",
            corrects=self.first,
            volunteer=self.volunteer,
            earned_cents=self.split.earned_cents,
            tax_free_cents=self.split.tax_free_cents,
            taxable_cents=self.split.taxable_cents,
            held_cents=self.split.held_cents,
            limit_key=self.limit_key,
            limit_cents=self.limit_cents,
            tax_free_before_cents=self.tax_free_before,
            iban=self.volunteer.iban if transfers else None,
            payee=self.volunteer.payee[:70] if transfers else None,
            execution_date=execution_date,
            reason=reason,
            created_by=actor,
            lines=self.lines,
        )

    def crossing(self, over_limit: str) -> str:
        above = euros(self.split.above_limit_cents)
        what = "paid as taxable" if over_limit == "taxable" else "held back (payout_over_limit: hold)"
        return (
            f"{self.volunteer.external_id} {self.volunteer.name}: the {LIMITS[self.limit_key]} limit of "
            f"{euros(self.limit_cents)} is reached; {above} of {self.month} {what}"
        )


def _draft(
    session: Session,
    org: Organisation,
    book: RateBook,
    volunteer: Volunteer,
    earned: list[Earned],
    earlier: list[Payout],
    month: str,
) -> _Draft | None:
    """The payout that brings the volunteer's month from what was paid to what is earned
    now, or None when nothing changes."""
    lines = _changed_lines(earned, live_lines(earlier))
    year = int(month[:4])
    limit = book.amount("tax_free_limit_year", limit_day(year), volunteer.allowance_limit)
    elsewhere = tax_free_of_year(session, volunteer.id, year, except_month=month)
    so_far = split_of(earlier)
    split = next_payout(sum(e.amount_cents for e in earned), so_far, elsewhere, limit, org.payout_over_limit)
    if not lines and split == Split():
        return None
    return _Draft(
        volunteer,
        month,
        lines,
        split,
        earlier[0] if earlier else None,
        volunteer.allowance_limit,
        limit,
        elsewhere + so_far.tax_free_cents,
    )


def _changed_lines(earned: list[Earned], live: list[PayoutLine]) -> list[PayoutLine]:
    """Reversals of paid lines that no longer stand as they are, and new lines for visits
    that earn an allowance not paid yet."""
    now = {e.visit_id: e for e in earned}
    lines, standing = [], set()
    for line in live:
        e = now.get(line.visit_id)
        if e and (line.record_id, line.minutes, line.rate_cents, line.amount_cents) == (
            e.record.id,
            e.record.minutes,
            e.rate_cents,
            e.amount_cents,
        ):
            standing.add(line.visit_id)
            continue
        lines.append(
            PayoutLine(
                visit_id=line.visit_id,
                record_id=line.record_id,
                corrects_line_id=line.id,
                day=line.day,
                minutes=line.minutes,
                rate_cents=line.rate_cents,
                amount_cents=-line.amount_cents,
            )
        )
    for e in earned:
        if e.visit_id not in standing:
            lines.append(
                PayoutLine(
                    visit_id=e.visit_id,
                    record=e.record,
                    day=e.record.day,
                    minutes=e.record.minutes,
                    rate_cents=e.rate_cents,
                    amount_cents=e.amount_cents,
                )
            )
    return lines


def find_month(session: Session, month: str) -> list[Payout]:
    month = parse_month(month)
    payouts = month_payouts(session, month)
    if not payouts:
        raise NotFound(f"no payouts for {month}: `carecal payout run --month {month}` makes them")
    return payouts


def account(payout: Payout) -> str:
    """The account a payout went to, as every screen and paper shows it."""
    return mask_iban(payout.iban) if payout.iban else "-"
