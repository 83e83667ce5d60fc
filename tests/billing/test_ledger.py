"""The budget rules of carecal.billing.ledger, without a database."""

from datetime import date

from carecal.billing.ledger import (
    CONVERSION,
    PRIVATE,
    RELIEF,
    Entitlement,
    Funds,
    Ledger,
    Movement,
    Share,
    allocate,
    conversion_accruals,
    conversion_allowance,
    eligible,
    relief_accruals,
)
from carecal.billing.rates import RateBook, RateValue

RATES = RateBook(
    [
        RateValue("relief_amount_month", None, 12500, date(2017, 1, 1), date(2024, 12, 31)),
        RateValue("relief_amount_month", None, 13100, date(2025, 1, 1)),
        RateValue("conversion_max_month", "2", 31840, date(2025, 1, 1)),
        RateValue("conversion_max_month", "3", 59880, date(2025, 1, 1)),
    ]
)


def relief(day):
    return RATES.amount("relief_amount_month", day)


def conversion_max(grade, day):
    return RATES.amount("conversion_max_month", day, str(grade))


def ledger_for(periods, until, opted_in=False, first=date(2024, 1, 1)):
    movements = relief_accruals(periods, relief, first, until)
    movements += conversion_accruals(periods, conversion_max, first, until, opted_in)
    return Ledger.replay(movements, until=until)


def test_the_relief_amount_is_the_one_valid_that_month():
    ledger = ledger_for([(date(2024, 11, 1), 2)], until=date(2025, 2, 15))
    assert [(m.movement.day, m.movement.amount_cents) for m in ledger.lines if m.movement.kind == "accrual"] == [
        (date(2024, 11, 1), 12500),
        (date(2024, 12, 1), 12500),
        (date(2025, 1, 1), 13100),
        (date(2025, 2, 1), 13100),
    ]
    assert ledger.relief == {"2024": 25000, "2025": 26200}


def test_a_grade_from_mid_month_earns_that_whole_month():
    ledger = ledger_for([(date(2025, 3, 20), 1)], until=date(2025, 4, 30))
    assert ledger.relief_balance() == 2 * 13100


def test_unspent_money_carries_over_and_lapses_on_1_july_of_the_next_year():
    periods = [(date(2025, 1, 1), 2)]
    on_30_june = ledger_for(periods, until=date(2026, 6, 30))
    assert on_30_june.relief == {"2025": 12 * 13100, "2026": 6 * 13100}

    on_1_july = ledger_for(periods, until=date(2026, 7, 1))
    assert on_1_july.relief == {"2025": 0, "2026": 7 * 13100}
    lapse = [line.movement for line in on_1_july.lines if line.movement.kind == "lapse"]
    assert [(m.day, m.vintage, m.amount_cents) for m in lapse] == [(date(2026, 7, 1), "2025", -12 * 13100)]


def test_spending_takes_the_oldest_money_first():
    ledger = ledger_for([(date(2025, 10, 1), 2)], until=date(2026, 2, 10))
    assert ledger.relief == {"2025": 3 * 13100, "2026": 2 * 13100}
    taken = ledger.spend(RELIEF, date(2026, 2, 10), 45000)
    assert [(m.vintage, m.amount_cents) for m in taken] == [("2025", -39300), ("2026", -5700)]
    assert ledger.relief == {"2025": 0, "2026": 26200 - 5700}


def test_what_was_not_spent_before_1_july_is_lost_even_if_spent_after():
    ledger = ledger_for([(date(2025, 12, 1), 2)], until=date(2026, 7, 2))
    taken = ledger.spend(RELIEF, date(2026, 7, 2), 10 * 13100)
    # only 2026's seven months are there; 2025's December lapsed on 1 July
    assert sum(-m.amount_cents for m in taken) == 7 * 13100
    assert {m.vintage for m in taken} == {"2026"}


def test_the_conversion_budget_needs_opt_in_and_grade_two():
    assert ledger_for([(date(2026, 1, 1), 3)], until=date(2026, 1, 31), opted_in=False).conversion == {}
    assert ledger_for([(date(2026, 1, 1), 1)], until=date(2026, 1, 31), opted_in=True).conversion == {}
    assert ledger_for([(date(2026, 1, 1), 3)], until=date(2026, 1, 31), opted_in=True).conversion == {"2026-01": 59880}


def test_the_conversion_budget_does_not_carry_over():
    ledger = ledger_for([(date(2026, 1, 1), 2)], until=date(2026, 3, 15), opted_in=True)
    assert ledger.conversion == {"2026-01": 0, "2026-02": 0, "2026-03": 31840}
    assert ledger.conversion_balance() == 31840
    assert ledger.relief_balance() == 3 * 13100  # and it is separate from the relief amount


def test_a_care_grade_change_mid_month_prorates_the_conversion_budget_by_days():
    # grade 2 for 1-15 November, grade 3 for 16-30 November
    periods = [(date(2025, 1, 1), 2), (date(2026, 11, 16), 3)]
    expected = (15 * 31840 + 15 * 59880) // 30
    assert conversion_allowance(periods, conversion_max, "2026-11") == expected == 45860
    # a first grade 2 from the 21st: ten days' worth; grade 1 days earn nothing
    assert (
        conversion_allowance([(date(2026, 1, 1), 1), (date(2026, 11, 21), 2)], conversion_max, "2026-11")
        == 10 * 31840 // 30
    )
    # the relief amount is not prorated
    ledger = ledger_for(periods, until=date(2026, 11, 30), first=date(2026, 11, 1), opted_in=True)
    assert ledger.relief_balance() == 13100 and ledger.conversion_balance("2026-11") == 45860


def funds_for(periods, until, opted_in=False, first=date(2024, 1, 1), stored=()):
    movements = relief_accruals(periods, relief, first, until)
    movements += conversion_accruals(periods, conversion_max, first, until, opted_in)
    return Funds([*movements, *stored])


def test_a_visit_is_paid_from_relief_then_conversion_then_privately():
    funds = funds_for([(date(2026, 1, 1), 2)], until=date(2026, 1, 31), opted_in=True, first=date(2026, 1, 1))
    shares = allocate(funds, date(2026, 1, 20), 50000, (RELIEF, CONVERSION))
    assert shares == [
        Share(RELIEF, "2026", 13100),
        Share(CONVERSION, "2026-01", 31840),
        Share(PRIVATE, None, 50000 - 13100 - 31840),
    ]
    # the next visit that month finds both budgets empty
    assert allocate(funds, date(2026, 1, 27), 3000, (RELIEF, CONVERSION)) == [Share(PRIVATE, None, 3000)]


def test_a_visit_takes_last_years_carry_over_first_and_this_years_amount_for_the_rest():
    spent = Movement(date(2026, 12, 15), RELIEF, "spend", "2026", -(12 * 13100 - 450))
    funds = funds_for([(date(2026, 1, 1), 2)], until=date(2027, 1, 31), first=date(2026, 1, 1), stored=[spent])
    assert allocate(funds, date(2027, 1, 12), 5250, (RELIEF,)) == [
        Share(RELIEF, "2026", 450),
        Share(RELIEF, "2027", 4800),
    ]


def test_carry_over_is_spendable_up_to_30_june_and_not_on_1_july():
    funds = funds_for([(date(2026, 1, 1), 1)], until=date(2027, 7, 31), first=date(2026, 1, 1))
    assert funds.available(RELIEF, "2026", date(2027, 6, 30)) == 12 * 13100
    assert funds.available(RELIEF, "2026", date(2027, 7, 1)) == 0
    assert allocate(funds, date(2027, 7, 1), 3600, (RELIEF,)) == [Share(RELIEF, "2027", 3600)]


def test_a_late_visit_takes_only_what_later_spends_left():
    # November has 100 € left; December's 131 € arrive; December's visits spend 200 €
    periods = [(date(2026, 11, 1), 2)]
    december = Movement(date(2026, 12, 10), RELIEF, "spend", "2026", -20000)
    correction = Movement(date(2026, 11, 2), RELIEF, "correction", "2026", -3100)
    funds = funds_for(periods, until=date(2026, 12, 31), first=date(2026, 1, 1), stored=[december, correction])
    # on 20 November 100 € are there, but December's balance is 31 €: that is all a late visit may take
    assert funds.available(RELIEF, "2026", date(2026, 11, 20)) == 3100
    assert allocate(funds, date(2026, 11, 20), 3600, (RELIEF,)) == [
        Share(RELIEF, "2026", 3100),
        Share(PRIVATE, None, 500),
    ]
    assert funds.available(RELIEF, "2026", date(2026, 12, 20)) == 0


def test_a_late_visit_before_30_june_still_takes_what_would_lapse():
    # 2026's money would lapse on 1 July 2027; a June visit billed in July still takes it
    periods = [(date(2026, 1, 1), 1)]
    july = Movement(date(2027, 7, 5), RELIEF, "spend", "2027", -3600)
    funds = funds_for(periods, until=date(2027, 7, 31), first=date(2026, 1, 1), stored=[july])
    assert allocate(funds, date(2027, 6, 28), 3600, (RELIEF,)) == [Share(RELIEF, "2026", 3600)]


def test_eligibility_by_care_grade_opt_in_and_home():
    grades = [(date(2026, 3, 5), 1), (date(2026, 6, 1), 2)]
    assert eligible(Entitlement(grades), date(2026, 3, 4)) == ()
    assert eligible(Entitlement(grades), date(2026, 3, 5)) == (RELIEF,)
    assert eligible(Entitlement(grades, conversion_opt_in=True), date(2026, 5, 31)) == (RELIEF,)
    assert eligible(Entitlement(grades, conversion_opt_in=True), date(2026, 6, 1)) == (RELIEF, CONVERSION)
    assert eligible(Entitlement(grades), date(2026, 6, 1)) == (RELIEF,)
    assert eligible(Entitlement(grades, at_home=False, conversion_opt_in=True), date(2026, 6, 1)) == ()


def test_a_correction_sets_the_balance_to_what_the_insurer_reports():
    ledger = ledger_for([(date(2025, 11, 1), 2)], until=date(2026, 3, 1))
    assert ledger.relief_balance() == 5 * 13100
    down = ledger.correct(RELIEF, date(2026, 3, 1), 20000, "Kasse meldet 200 €")
    assert ledger.relief_balance() == 20000
    # 655 € → 200 €: the 455 € taken are 2025's 262 € first, then 193 € of 2026
    assert [(m.kind, m.vintage, m.amount_cents) for m in down] == [
        ("correction", "2025", -26200),
        ("correction", "2026", -19300),
    ]
    up = ledger.correct(RELIEF, date(2026, 3, 2), 50000, "Kasse korrigiert")
    assert [(m.vintage, m.amount_cents) for m in up] == [("2026", 30000)]
    assert ledger.correct(RELIEF, date(2026, 3, 3), 50000, "unchanged") == []


def test_a_refund_into_a_lapsed_vintage_lapses_again():
    ledger = ledger_for([(date(2025, 12, 1), 2)], until=date(2026, 7, 10))
    ledger.apply(Movement(date(2026, 7, 10), RELIEF, "refund", "2025", 5000))
    assert ledger.relief.get("2025") == 0
