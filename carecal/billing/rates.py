"""Dated rates: prices, allowances and legal amounts looked up by the day they apply to."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from carecal.errors import CarecalError

RATE_KINDS = (
    "price_per_hour",
    "allowance_per_hour",
    "relief_amount_month",
    "conversion_max_month",
    "tax_free_limit_year",
)


class MissingRate(CarecalError):
    """No rate (or more than one) covers the day asked for: the price list needs fixing."""


@dataclass(frozen=True)
class RateValue:
    kind: str
    key: str | None
    amount_cents: int
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class RateBook:
    """All rates of an organisation. `amount(kind, day, key)` is the one valid that day."""

    def __init__(self, rates: Iterable[RateValue]):
        self._rates = list(rates)

    def find(self, kind: str, day: date, key: str | None = None) -> int | None:
        matches = [r for r in self._rates if r.kind == kind and r.key == key and r.valid_on(day)]
        if len(matches) > 1:
            raise MissingRate(f"{len(matches)} rates {_label(kind, key)} overlap on {day}: fix their validity dates")
        return matches[0].amount_cents if matches else None

    def amount(self, kind: str, day: date, key: str | None = None) -> int:
        found = self.find(kind, day, key)
        if found is None:
            raise MissingRate(f"no rate {_label(kind, key)} valid on {day}: add one to the rate table")
        return found


def _label(kind: str, key: str | None) -> str:
    return kind if key is None else f"{kind}/{key}"
