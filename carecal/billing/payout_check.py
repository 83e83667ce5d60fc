"""Proof that a month's payouts add up: what stands as paid to each volunteer equals what
their delivered, signed visits of the month earn (minutes × the allowance valid that day),
each visit paid once, every payout's parts adding up, corrections pointing at what they
correct, and no year's tax-free allowance above the limit. Recomputed from the visit
records and the rate table, never from what the payout run stored; part of
`carecal billing reconcile` (the hash chains of payouts and their lines are checked there too).
"""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import organisation
from carecal.billing import budgets
from carecal.billing.ledger import parse_month
from carecal.billing.money import euros
from carecal.billing.payouts import live_lines, month_allowances, month_payouts
from carecal.models import Payout, PayoutLine, PayoutMonth


def check(session: Session, month: str) -> list[str]:
    """Every problem with the month's payouts; none when they were not made yet."""
    month = parse_month(month)
    payouts = month_payouts(session, month)
    payout_month = session.get(PayoutMonth, month)
    made = payout_month is not None and payout_month.made
    if not payouts and not made:
        return []
    problems = [] if made else [f"payouts of {month} exist, but the month's payout run is not recorded"]
    problems += _each_payout(payouts)
    problems += _paid_as_earned(session, month, payouts)
    problems += _within_the_limit(session, payouts)
    return problems


def _who(payout: Payout) -> str:
    return f"payout {payout.id} ({payout.volunteer.external_id}, batch {payout.batch})"


def _each_payout(payouts: list[Payout]) -> list[str]:
    problems = []
    lines_by_id = {line.id: line for payout in payouts for line in payout.lines}
    first: dict[int, Payout] = {}
    for payout in payouts:
        who = _who(payout)
        lines_total = sum(line.amount_cents for line in payout.lines)
        if lines_total != payout.earned_cents:
            problems.append(f"{who}: earned {euros(payout.earned_cents)}, but its lines add up to {euros(lines_total)}")
        parts = payout.tax_free_cents + payout.taxable_cents + payout.held_cents
        if parts != payout.earned_cents:
            problems.append(f"{who}: tax-free, taxable and held add up to {euros(parts)}, not {euros(lines_total)}")
        if payout.kind == "payout":
            if payout.volunteer_id in first:
                problems.append(f"{who}: a second payout (not a correction) of the month for this volunteer")
            first.setdefault(payout.volunteer_id, payout)
        elif payout.corrects is None or payout.corrects is not first.get(payout.volunteer_id):
            problems.append(f"{who}: a correction that does not reference this volunteer's payout of the month")
        if payout.paid_cents > 0 and not payout.iban:
            problems.append(f"{who}: transfers {euros(payout.paid_cents)} to no account")
        for line in payout.lines:
            problems += _line_problems(payout, line, lines_by_id)
    return problems


def _line_problems(payout: Payout, line: PayoutLine, lines_by_id: dict[int, PayoutLine]) -> list[str]:
    who = _who(payout)
    if line.record.visit_id != line.visit_id or line.record.visit.volunteer_id != payout.volunteer_id:
        return [f"{who}: pays visit {line.visit_id}, which is not this volunteer's"]
    if line.corrects_line_id is None:
        return []
    original = lines_by_id.get(line.corrects_line_id)
    if original is None or original.visit_id != line.visit_id or original.payout.volunteer_id != payout.volunteer_id:
        return [f"{who}: line for visit {line.visit_id} reverses no line of this volunteer's month"]
    if line.amount_cents != -original.amount_cents:
        reversed_part, whole = euros(-line.amount_cents), euros(original.amount_cents)
        return [f"{who}: reverses {reversed_part} of a {whole} line (visit {line.visit_id})"]
    return []


def _paid_as_earned(session: Session, month: str, payouts: list[Payout]) -> list[str]:
    """Per volunteer: the visits that stand as paid are those that earn the allowance, at
    what they earn."""
    book = budgets.rate_book(session, organisation.require(session))
    allowances = month_allowances(session, month, book)
    paid: dict[int, dict[int, list[PayoutLine]]] = defaultdict(lambda: defaultdict(list))
    for line in live_lines(payouts):
        paid[line.payout.volunteer_id][line.visit_id].append(line)
    names = {p.volunteer_id: p.volunteer.external_id for p in payouts}
    problems = []
    for volunteer_id in sorted(set(paid) | set(allowances.by_volunteer)):
        earned = {e.visit_id: e for e in allowances.by_volunteer.get(volunteer_id, [])}
        lines = paid[volunteer_id]
        who = names.get(volunteer_id) or f"volunteer #{volunteer_id}"
        for visit_id, visit_lines in sorted(lines.items()):
            e = earned.get(visit_id)
            if len(visit_lines) > 1:
                problems.append(f"{who}: visit {visit_id} is paid {len(visit_lines)} times")
            line = visit_lines[0]
            if e is None:
                problems.append(f"{who}: visit {visit_id} is paid {euros(line.amount_cents)} but earns no allowance")
            elif (line.minutes, line.rate_cents, line.amount_cents) != (e.record.minutes, e.rate_cents, e.amount_cents):
                problems.append(
                    f"{who}: visit {visit_id} is paid {line.minutes} min at {euros(line.rate_cents)}/h = "
                    f"{euros(line.amount_cents)}, but its record earns {e.record.minutes} min at "
                    f"{euros(e.rate_cents)}/h = {euros(e.amount_cents)}"
                )
        for visit_id in sorted(set(earned) - set(lines)):
            e = earned[visit_id]
            problems.append(
                f"{who}: visit {visit_id} on {e.record.day} earns {euros(e.amount_cents)} "
                f"but is not paid (`carecal payout correct --month {month}`)"
            )
        paid_total = sum(line.amount_cents for visit_lines in lines.values() for line in visit_lines)
        earned_total = sum(e.amount_cents for e in earned.values())
        if paid_total != earned_total:
            problems.append(
                f"{who}: paid {euros(paid_total)} for {month}, "
                f"but the delivered, signed visits earn {euros(earned_total)}"
            )
    return problems


def _within_the_limit(session: Session, payouts: list[Payout]) -> list[str]:
    problems = []
    for volunteer_id, year in sorted({(p.volunteer_id, p.month[:4]) for p in payouts}):
        of_year = session.scalars(
            select(Payout)
            .where(Payout.volunteer_id == volunteer_id, Payout.month.like(f"{year}-%"))
            .order_by(Payout.id)
        ).all()
        tax_free = sum(p.tax_free_cents for p in of_year)
        limit = of_year[-1].limit_cents
        if tax_free > limit:
            problems.append(
                f"{of_year[-1].volunteer.external_id}: {euros(tax_free)} paid tax-free in {year}, above the "
                f"limit of {euros(limit)}"
            )
    return problems
