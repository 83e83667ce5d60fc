"""The volunteers' allowance: which visits earn it, what a visit earns, and how a month's
allowance is split against the yearly tax-free limit. Pure: no database, no clock.

- A visit earns the allowance when it was delivered and signed, or delivered with a
  recorded reason why nobody signed (the proof of service's rule).
- It earns minutes × the `allowance_per_hour` valid on its day, rounded half up to the
  cent per visit (`carecal.billing.money.visit_price`).
- The allowance is tax-free up to a yearly limit per volunteer: § 3 Nr. 26 EStG (care of
  older, ill or disabled people; 3,000 € to 2025, 3,300 € from 2026) or § 3 Nr. 26a (the
  general volunteering allowance; 840 € / 960 €), the rate valid on 31 December of the year.
  A payout counts towards the calendar year of the month it pays for. What would cross the
  limit is named, and the organisation decides once (`payout_over_limit`): pay it as
  taxable, or hold it back until the treasurer decides otherwise.
"""

from dataclasses import dataclass
from datetime import date

from carecal.billing.money import visit_price

HOLD, TAXABLE = "hold", "taxable"
LIMITS = {"3_26": "§ 3 Nr. 26 EStG", "3_26a": "§ 3 Nr. 26a EStG"}


def unpaid_reason(status: str, signature: str | None, signature_reason: str | None) -> str | None:
    """Why a recorded visit earns no allowance, or None when it does."""
    if status != "delivered":
        return f"recorded as {status}"
    if signature in ("client", "representative"):
        return None
    if signature == "none" and (signature_reason or "").strip():
        return None
    return "delivered, but neither signed nor with a reason why nobody signed"


def limit_day(year: int) -> date:
    """The day whose `tax_free_limit_year` rate is the year's limit: 31 December."""
    return date(year, 12, 31)


def visit_allowance(minutes: int, cents_per_hour: int) -> int:
    """What one visit earns: minutes × the hourly allowance, rounded half up to the cent."""
    return visit_price(minutes, cents_per_hour)


@dataclass(frozen=True)
class Split:
    """A month's allowance (or a change to it) in its three parts."""

    tax_free_cents: int = 0
    taxable_cents: int = 0
    held_cents: int = 0

    @property
    def earned_cents(self) -> int:
        return self.tax_free_cents + self.taxable_cents + self.held_cents

    @property
    def paid_cents(self) -> int:
        """What is transferred (negative: overpaid)."""
        return self.tax_free_cents + self.taxable_cents

    @property
    def above_limit_cents(self) -> int:
        return self.taxable_cents + self.held_cents

    def __add__(self, other: "Split") -> "Split":
        return Split(
            self.tax_free_cents + other.tax_free_cents,
            self.taxable_cents + other.taxable_cents,
            self.held_cents + other.held_cents,
        )

    def __sub__(self, other: "Split") -> "Split":
        return Split(
            self.tax_free_cents - other.tax_free_cents,
            self.taxable_cents - other.taxable_cents,
            self.held_cents - other.held_cents,
        )


def month_split(earned_cents: int, tax_free_elsewhere_cents: int, limit_cents: int, over_limit: str) -> Split:
    """How a volunteer's whole allowance for one month divides: tax-free as far as the
    year's limit reaches after what the other months of the year paid tax-free; the rest
    taxable or held, as the organisation decides."""
    if over_limit not in (HOLD, TAXABLE):
        raise ValueError(f"payout_over_limit {over_limit!r}: hold or taxable")
    room = max(0, limit_cents - tax_free_elsewhere_cents)
    tax_free = max(0, min(earned_cents, room))
    rest = earned_cents - tax_free
    return Split(tax_free, rest, 0) if over_limit == TAXABLE else Split(tax_free, 0, rest)


def next_payout(
    earned_cents: int, so_far: Split, tax_free_elsewhere_cents: int, limit_cents: int, over_limit: str
) -> Split:
    """The payout that brings a month from what was paid `so_far` to what it earns now:
    the difference of the two splits. Taxable money already paid stays paid under `hold`
    (only a smaller allowance takes it back), so a change of setting never claws back."""
    target = month_split(earned_cents, tax_free_elsewhere_cents, limit_cents, over_limit)
    if over_limit == HOLD and so_far.taxable_cents:
        keep = min(so_far.taxable_cents, target.held_cents)
        target = Split(target.tax_free_cents, keep, target.held_cents - keep)
    return target - so_far
