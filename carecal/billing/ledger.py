"""The budget rules, as a ledger replayed in date order. Pure: no database, no clock.

Relief amount (Entlastungsbetrag, §45b SGB XI)
  - accrues on the 1st of every month in which the client has a care grade (any grade,
    on any day of that month: the month's amount is not prorated) and lives at home;
    the amount is the `relief_amount_month` rate valid on that 1st;
  - money accrued in year Y (its *vintage*) stays spendable until 30 June of Y+1 and
    lapses on 1 July of Y+1;
  - a spend takes the oldest live vintage first.

Conversion budget (Umwandlungsanspruch, §45a(4) SGB XI)
  - only for clients who opted in, with care grade 2 or higher;
  - each month gets at most the `conversion_max_month` rate for the grade; when the grade
    changes within the month, the month's budget is prorated by calendar days (rounded
    down to the cent), like the in-kind benefit it is converted from;
  - it does not carry over: what is left at the month's end lapses on the 1st of the next.

A visit is paid from the relief amount first (it carries over, but it is the client's
first-line entitlement), then from the conversion budget of the visit's month, and what
no budget covers is billed privately (`eligible`, `allocate`). A visit can so be paid from
several sources: last year's carry-over and this year's money, a budget used up in the
middle of the visit and the next one, or a budget and the private remainder.

`Ledger` walks forward through time (what `budget show` prints); `Funds` places the spends
of a billing run on their days, also before spends already made (a late record).
"""

import calendar
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from carecal.errors import InputError

RELIEF, CONVERSION, PRIVATE = "relief", "conversion", "private"

# Within one day: accruals first, then corrections, refunds, spends. Lapses happen when
# the day they take effect is reached, before anything else on that day.
_KIND_ORDER = {"lapse": 0, "accrual": 1, "correction": 2, "refund": 3, "spend": 4}


@dataclass(frozen=True)
class Movement:
    day: date
    budget: str  # relief | conversion
    kind: str  # accrual | lapse | spend | refund | correction
    vintage: str  # relief: accrual year "2026"; conversion: month "2026-11"
    amount_cents: int  # + adds to the budget, - takes from it
    note: str = ""
    ref: int | None = None  # e.g. the invoice line or ledger entry it stems from

    @property
    def sort_key(self) -> tuple:
        return (self.day, _KIND_ORDER[self.kind])


@dataclass(frozen=True)
class Share:
    """The part of a visit's price one funding source pays."""

    funding: str  # relief | conversion | private
    vintage: str | None
    amount_cents: int


@dataclass(frozen=True)
class LedgerLine:
    movement: Movement
    relief_balance: int
    conversion_balance: int


GradePeriods = list[tuple[date, int]]  # (valid_from, grade), sorted; each lasts until the next


def relief_last_day(vintage: str) -> date:
    """The last day money accrued in `vintage` can be spent: 30 June of the next year."""
    return date(int(vintage) + 1, 6, 30)


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def parse_month(text: str) -> str:
    """'2026-11' (or ' 2026-1') as a month key; a clear error for anything else."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        date(year, month, 1)
    except ValueError:
        raise InputError(f"month {text!r} is not a month like 2026-11") from None
    return f"{year}-{month:02d}"


def month_bounds(key: str) -> tuple[date, date]:
    year, month = (int(part) for part in key.split("-"))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def months_between(first: date, last: date) -> Iterator[date]:
    """The first day of every month from `first`'s month to `last`'s month."""
    current = first.replace(day=1)
    while current <= last:
        yield current
        current = (current + timedelta(days=32)).replace(day=1)


def grade_on(periods: GradePeriods, day: date) -> int | None:
    grade = None
    for valid_from, value in periods:
        if valid_from <= day:
            grade = value
    return grade


def relief_accruals(
    periods: GradePeriods, relief_amount: Callable[[date], int], first: date, last: date, at_home: bool = True
) -> list[Movement]:
    """One accrual on the 1st of each month in [first, last] with a care grade."""
    if not at_home or not periods:
        return []
    # Grades never end (a period lasts until the next), so every month from the first
    # grade's month on has one; that first month counts in full.
    return [
        Movement(month_start, RELIEF, "accrual", str(month_start.year), relief_amount(month_start), "§45b")
        for month_start in months_between(max(first, periods[0][0]), last)
    ]


def conversion_allowance(periods: GradePeriods, max_for_grade: Callable[[int, date], int], month: str) -> int:
    """The month's §45a(4) budget: prorated by days when the grade changes in the month."""
    first, last = month_bounds(month)
    days = (last - first).days + 1
    total = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        grade = grade_on(periods, day)
        if grade is not None and grade >= 2:
            total += max_for_grade(grade, first)
    return total // days


def conversion_accruals(
    periods: GradePeriods,
    max_for_grade: Callable[[int, date], int],
    first: date,
    last: date,
    opted_in: bool,
    at_home: bool = True,
) -> list[Movement]:
    if not opted_in or not at_home or not periods:
        return []
    accruals = []
    for month_start in months_between(max(first, periods[0][0]), last):
        amount = conversion_allowance(periods, max_for_grade, month_key(month_start))
        if amount:
            accruals.append(Movement(month_start, CONVERSION, "accrual", month_key(month_start), amount, "§45a(4)"))
    return accruals


@dataclass
class Ledger:
    """A client's budgets, replayed movement by movement in date order.

    `relief` and `conversion` hold the live money per vintage; `lines` every movement
    with the balances after it (what `budget show` prints). Apply movements in date
    order; `spend` and `correct` compute new movements from the current state.
    """

    relief: dict[str, int] = field(default_factory=dict)
    conversion: dict[str, int] = field(default_factory=dict)
    lines: list[LedgerLine] = field(default_factory=list)
    day: date | None = None

    @classmethod
    def replay(cls, movements: Iterable[Movement], until: date | None = None) -> "Ledger":
        ledger = cls()
        for movement in sorted(movements, key=lambda m: m.sort_key):
            if until is not None and movement.day > until:
                break
            ledger.apply(movement)
        if until is not None:
            ledger.advance(until)
        return ledger

    # -- reading

    def relief_balance(self) -> int:
        return sum(self.relief.values())

    def conversion_balance(self, month: str | None = None) -> int:
        if month is None:
            return sum(self.conversion.values())
        return self.conversion.get(month, 0)

    # -- moving money

    def advance(self, day: date) -> None:
        """Let time pass until `day`: lapse relief vintages past 30 June of the next year
        and conversion months that have ended. Time never goes back: a movement dated
        before the latest one (a visit recorded late within a month already billed) is
        applied to the state of that latest day; lapses fall on month starts, so within
        one month that state is the same."""
        if self.day is None or day > self.day:
            self.day = day
        day = self.day
        for vintage in sorted(self.relief):
            lapse_day = relief_last_day(vintage) + timedelta(days=1)
            if lapse_day <= day and self.relief[vintage] > 0:
                self._record(
                    Movement(
                        lapse_day,
                        RELIEF,
                        "lapse",
                        vintage,
                        -self.relief[vintage],
                        f"not spent by 30.06.{int(vintage) + 1}",
                    )
                )
        for month in sorted(self.conversion):
            lapse_day = month_bounds(month)[1] + timedelta(days=1)
            if lapse_day <= day and self.conversion[month] > 0:
                self._record(Movement(lapse_day, CONVERSION, "lapse", month, -self.conversion[month], "no carry-over"))

    def apply(self, movement: Movement) -> None:
        self.advance(movement.day)
        self._record(movement)
        # Money that arrives for a vintage already past its end (a refund after the lapse)
        # lapses at once: the law does not revive it.
        self.advance(movement.day)

    def _record(self, movement: Movement) -> None:
        pots = self.relief if movement.budget == RELIEF else self.conversion
        pots[movement.vintage] = pots.get(movement.vintage, 0) + movement.amount_cents
        self.lines.append(LedgerLine(movement, self.relief_balance(), self.conversion_balance()))

    def spend(self, budget: str, day: date, amount_cents: int, note: str = "") -> list[Movement]:
        """Take up to `amount_cents` from `budget` on `day`, oldest money first; returns the
        spend movements (already applied). Their sum may be less than asked: the rest is
        not covered by this budget."""
        self.advance(day)
        pots = self.relief if budget == RELIEF else self.conversion
        live = [
            v
            for v in sorted(pots)
            if pots[v] > 0 and vintage_started(budget, v, day) and day <= last_spendable_day(budget, v)
        ]
        movements, wanted = [], amount_cents
        for vintage in live:
            take = min(wanted, pots[vintage])
            if take <= 0:
                break
            movement = Movement(day, budget, "spend", vintage, -take, note)
            self.apply(movement)
            movements.append(movement)
            wanted -= take
        return movements

    def correct(self, budget: str, day: date, reported_cents: int, note: str) -> list[Movement]:
        """Movements that make the live balance on `day` equal what the insurer reports:
        a shortfall is taken oldest money first, a surplus is added to the current
        vintage (the day's year, or its month for the conversion budget)."""
        if reported_cents < 0:
            raise ValueError("a remaining budget cannot be negative")
        self.advance(day)
        current = self.relief_balance() if budget == RELIEF else self.conversion_balance(month_key(day))
        delta = reported_cents - current
        if delta == 0:
            return []
        if delta > 0:
            vintage = str(day.year) if budget == RELIEF else month_key(day)
            movement = Movement(day, budget, "correction", vintage, delta, note)
            self.apply(movement)
            return [movement]
        taken = self.spend(budget, day, -delta, note)
        corrections = [Movement(m.day, m.budget, "correction", m.vintage, m.amount_cents, note) for m in taken]
        # re-label the applied spends as corrections in the printed lines
        self.lines[-len(taken) :] = [
            LedgerLine(c, line.relief_balance, line.conversion_balance)
            for c, line in zip(corrections, self.lines[-len(taken) :], strict=True)
        ]
        return corrections


@dataclass(frozen=True)
class Entitlement:
    """What decides which budgets may pay for a client's visit on a day."""

    grades: GradePeriods
    at_home: bool = True
    conversion_opt_in: bool = False


def eligible(entitlement: Entitlement, day: date) -> tuple[str, ...]:
    """The budgets that may pay for a visit on `day`, in the order they pay: the relief
    amount with any care grade that day, then the conversion budget with grade 2 or
    higher when the client opted in; neither for a client who does not live at home.
    What they do not cover is private."""
    grade = grade_on(entitlement.grades, day)
    if grade is None or not entitlement.at_home:
        return ()
    if grade >= 2 and entitlement.conversion_opt_in:
        return (RELIEF, CONVERSION)
    return (RELIEF,)


def last_spendable_day(budget: str, vintage: str) -> date:
    """The last day money of `vintage` can pay for a visit: 30 June of the next year for
    relief money, the month's last day for the conversion budget."""
    return relief_last_day(vintage) if budget == RELIEF else month_bounds(vintage)[1]


class Funds:
    """A client's budget money as a timeline, for billing.

    Unlike the `Ledger`, which walks forward through time, this places a spend on any day,
    also before spends already made (a visit recorded late, a month billed after the next
    one): a spend on day d may take from a vintage only what leaves every later balance of
    that vintage, as long as it is spendable, at zero or above. Lapses are not movements
    here: a vintage simply stops being spendable after its last day, and what it lapses is
    whatever is left then.
    """

    _SPEND = _KIND_ORDER["spend"]

    def __init__(self, movements: Iterable[Movement]):
        self._pots: dict[tuple[str, str], list[Movement]] = {}
        for movement in sorted(movements, key=lambda m: m.sort_key):
            if movement.kind != "lapse":
                self._pots.setdefault((movement.budget, movement.vintage), []).append(movement)

    def available(self, budget: str, vintage: str, day: date) -> int:
        """What a spend of `vintage` money on `day` may take."""
        if not (vintage_started(budget, vintage, day) and day <= last_spendable_day(budget, vintage)):
            return 0
        pot = self._pots.get((budget, vintage), [])
        balance, at = 0, (day, self._SPEND)
        lowest = None
        for movement in pot:
            if movement.sort_key > at:
                if lowest is None:
                    lowest = balance
                if movement.day > last_spendable_day(budget, vintage):
                    break
            balance += movement.amount_cents
            if lowest is not None:
                lowest = min(lowest, balance)
        return max(balance if lowest is None else lowest, 0)

    def spend(self, budget: str, day: date, amount_cents: int, note: str = "") -> list[Movement]:
        """Take up to `amount_cents` from `budget` on `day`, oldest money first; returns the
        spend movements (already placed). Their sum may be less than asked: the rest is
        not covered by this budget."""
        vintages = sorted(v for b, v in self._pots if b == budget)
        movements, wanted = [], amount_cents
        for vintage in vintages:
            take = min(wanted, self.available(budget, vintage, day))
            if take <= 0:
                continue
            movement = Movement(day, budget, "spend", vintage, -take, note)
            pot = self._pots[(budget, vintage)]
            pot.insert(bisect_right([m.sort_key for m in pot], movement.sort_key), movement)
            movements.append(movement)
            wanted -= take
            if not wanted:
                break
        return movements


def vintage_started(budget: str, vintage: str, day: date) -> bool:
    """Money is spent in or after its own year (relief) or only in its month (conversion)."""
    return int(vintage) <= day.year if budget == RELIEF else vintage == month_key(day)


def allocate(funds: Funds, day: date, price_cents: int, budgets: Sequence[str], note: str = "") -> list[Share]:
    """Split a visit's price over the funding sources: `budgets` in their order (see
    `eligible`), each oldest money first, then private. Spends are placed in `funds`, so
    visits allocated one after another see what earlier ones took."""
    shares, remaining = [], price_cents
    for budget in budgets:
        if not remaining:
            break
        for movement in funds.spend(budget, day, remaining, note):
            shares.append(Share(budget, movement.vintage, -movement.amount_cents))
            remaining += movement.amount_cents
    if remaining:
        shares.append(Share(PRIVATE, None, remaining))
    return shares
