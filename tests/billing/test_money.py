from datetime import date

import pytest

from carecal.billing.money import euros, parse_euros, visit_price
from carecal.billing.rates import MissingRate, RateBook, RateValue
from carecal.errors import InputError


@pytest.mark.parametrize(
    "minutes, hourly, cents",
    [
        (120, 1800, 3600),
        (95, 1800, 2850),
        (100, 1750, 2917),
        (45, 1990, 1493),
        (1, 1, 0),
        (30, 1, 1),
        (0, 2000, 0),
    ],
)
def test_visit_price_rounds_half_up_to_the_cent(minutes, hourly, cents):
    assert visit_price(minutes, hourly) == cents


def test_euros_are_written_and_read_the_german_way():
    assert euros(1234567) == "12.345,67 €"
    assert euros(-5) == "-0,05 €"
    assert parse_euros("131") == 13100
    assert parse_euros("1.234,5 €") == 123450
    assert parse_euros("-12.50") == -1250
    with pytest.raises(InputError, match="two decimals"):
        parse_euros("1,005")
    with pytest.raises(InputError, match="not an amount"):
        parse_euros("viel")


def test_rates_are_looked_up_by_day_and_gaps_or_overlaps_are_reported():
    book = RateBook(
        [
            RateValue("price_per_hour", "betreuung", 1800, date(2025, 1, 1), date(2025, 12, 31)),
            RateValue("price_per_hour", "betreuung", 1900, date(2026, 1, 1)),
        ]
    )
    assert book.amount("price_per_hour", date(2025, 12, 31), "betreuung") == 1800
    assert book.amount("price_per_hour", date(2026, 1, 1), "betreuung") == 1900
    with pytest.raises(MissingRate, match="price_per_hour/betreuung valid on 2024-06-01"):
        book.amount("price_per_hour", date(2024, 6, 1), "betreuung")
    overlapping = RateBook(
        [
            RateValue("allowance_per_hour", None, 900, date(2026, 1, 1)),
            RateValue("allowance_per_hour", None, 1000, date(2026, 6, 1)),
        ]
    )
    with pytest.raises(MissingRate, match="overlap"):
        overlapping.amount("allowance_per_hour", date(2026, 7, 1))
