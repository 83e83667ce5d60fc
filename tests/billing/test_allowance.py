"""The allowance rules on their own: which visits earn it, what a visit earns, and the split
of a month's allowance against the yearly tax-free limit (hold or pay as taxable)."""

from datetime import date

import pytest

from carecal.billing.allowance import Split, limit_day, month_split, next_payout, unpaid_reason, visit_allowance


@pytest.mark.parametrize(
    "status, signature, reason, paid",
    [
        ("delivered", "client", None, True),
        ("delivered", "representative", None, True),
        ("delivered", "none", "Vertretung nicht anwesend", True),
        ("delivered", "none", "  ", False),
        ("delivered", "none", None, False),
        ("delivered", None, None, False),
        ("no-show", None, None, False),
        ("cancelled-by-client", None, None, False),
    ],
)
def test_a_visit_earns_the_allowance_when_delivered_and_signed_or_explained(status, signature, reason, paid):
    assert (unpaid_reason(status, signature, reason) is None) is paid


def test_a_visit_earns_its_minutes_at_the_hourly_allowance_rounded_half_up():
    assert visit_allowance(120, 900) == 1800
    assert visit_allowance(95, 850) == 1346  # 1345.83…
    assert visit_allowance(1, 30) == 1  # 0.5 cent rounds up


def test_the_limit_of_a_year_is_read_on_its_last_day():
    assert limit_day(2026) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "earned, elsewhere, limit, over, expected",
    [
        (5000, 0, 330000, "hold", Split(5000, 0, 0)),  # far from the limit
        (5000, 328000, 330000, "hold", Split(2000, 0, 3000)),  # crosses it: the rest held
        (5000, 328000, 330000, "taxable", Split(2000, 3000, 0)),  # or paid as taxable
        (5000, 330000, 330000, "hold", Split(0, 0, 5000)),  # the limit already reached
        (5000, 340000, 330000, "taxable", Split(0, 5000, 0)),  # above it (a lowered limit)
        (2000, 328000, 330000, "hold", Split(2000, 0, 0)),  # exactly up to the limit
        (0, 0, 330000, "hold", Split()),
    ],
)
def test_a_month_is_tax_free_as_far_as_the_years_limit_reaches(earned, elsewhere, limit, over, expected):
    split = month_split(earned, elsewhere, limit, over)
    assert split == expected and split.earned_cents == earned


def test_a_correction_is_the_difference_to_what_was_paid_so_far():
    so_far = Split(2000, 0, 3000)  # the run: 20 € tax-free, 30 € held
    # a visit of 10 € recorded late: it is held back too
    assert next_payout(6000, so_far, 328000, 330000, "hold") == Split(0, 0, 1000)
    # the organisation pays what is above the limit: the held 30 € go out as taxable
    assert next_payout(5000, so_far, 328000, 330000, "taxable") == Split(0, 3000, -3000)
    # back to hold: taxable money already paid is not clawed back
    paid_taxable = Split(2000, 3000, 0)
    assert next_payout(5000, paid_taxable, 328000, 330000, "hold") == Split()
    # a visit of 40 € withdrawn: what was overpaid comes back from the taxable part first
    assert next_payout(1000, paid_taxable, 328000, 330000, "hold") == Split(-1000, -3000, 0)


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="hold or taxable"):
        month_split(100, 0, 1000, "pay")
