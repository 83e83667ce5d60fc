"""Cell codecs: every value survives format → parse, and bad cells say what is wrong."""

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecal.masterdata import codecs as c


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mon 09:00-13:00; wed 14:00-18:00", (("mon", time(9), time(13)), ("wed", time(14), time(18)))),
        ("WED 14:00-18:00, mon 9:00 - 13:00", (("mon", time(9), time(13)), ("wed", time(14), time(18)))),
    ],
)
def test_windows_are_parsed_sorted_and_formatted_back(text, expected):
    assert c.Windows().parse(text) == expected
    assert c.Windows().format(expected) == "mon 09:00-13:00; wed 14:00-18:00"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("mon 13:00-09:00", "start before it ends"),
        ("monday 09:00-13:00", "not a window"),
        ("mon 09:00-13:00; mon 12:00-14:00", "overlap"),
        ("tue 25:00-26:00", "not a time"),
    ],
)
def test_bad_windows_are_refused_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        c.Windows().parse(text)


def test_trainings_keep_an_open_expiry_and_refuse_expiry_before_completion():
    parsed = c.Trainings().parse("dementia:2025-01-10:; basic:2024-03-01:2026-02-28")
    assert parsed == (("basic", date(2024, 3, 1), date(2026, 2, 28)), ("dementia", date(2025, 1, 10), None))
    assert c.Trainings().format(parsed) == "basic:2024-03-01:2026-02-28; dementia:2025-01-10:"
    with pytest.raises(ValueError, match="expires before"):
        c.Trainings().parse("basic:2024-03-01:2023-01-01")
    with pytest.raises(ValueError, match="kinds: basic, dementia"):
        c.Trainings().parse("firstaid:2024-03-01:")


def test_periods_are_local_days_and_become_utc_instants():
    periods = c.Periods("Europe/Berlin")
    # 23-27 November 2026, whole days in Berlin (CET, UTC+1)
    ((start, end),) = periods.parse("2026-11-23..2026-11-27")
    assert start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert periods.format(((start, end),)) == "2026-11-23..2026-11-27"
    # a morning in summer time (CEST, UTC+2)
    ((start, end),) = periods.parse("2026-07-01 08:00-12:00")
    assert (start.hour, end.hour) == (6, 10)
    assert periods.format(((start, end),)) == "2026-07-01 08:00-12:00"


def test_a_period_over_the_switch_to_summer_time_is_one_hour_shorter():
    ((start, end),) = c.Periods("Europe/Berlin").parse("2026-03-29")
    assert (end - start).total_seconds() == 23 * 3600


def test_languages_must_be_iso_639_1_codes_listed_once():
    assert c.Languages().parse("RU; de") == ("ru", "de")
    with pytest.raises(ValueError, match="xx: not an ISO 639-1"):
        c.Languages().parse("ru; xx")
    with pytest.raises(ValueError, match="twice"):
        c.Languages().parse("ru, ru")


def test_care_grade_errors_never_quote_the_cell():
    for bad, secret in (("7:1999-12-31", "1999-12-31"), ("grade six", "six"), ("4:gestern", "gestern")):
        with pytest.raises(ValueError) as caught:
            c.CareGrades().parse(bad)
        assert secret not in str(caught.value)


def test_numbers_accept_a_decimal_comma_and_enforce_their_range():
    assert c.Number(0, 100).parse("7,5") == 7.5
    with pytest.raises(ValueError, match="above the maximum"):
        c.Number(0, 100).parse("250")
    assert c.Number().format(3.0) == "3"


days = st.sampled_from(c.WEEKDAYS)
clock_minutes = st.integers(0, 23 * 60 + 58)


@st.composite
def windows(draw):
    chosen = draw(st.lists(days, unique=True, max_size=7))
    result = []
    for day in chosen:
        a = draw(clock_minutes)
        b = draw(st.integers(a + 1, 23 * 60 + 59))
        result.append((day, time(a // 60, a % 60), time(b // 60, b % 60)))
    return tuple(sorted(result, key=lambda w: (c.WEEKDAYS.index(w[0]), w[1])))


@given(windows())
def test_any_windows_survive_a_round_trip(value):
    assert c.Windows().parse(c.Windows().format(value)) == value


@given(
    st.lists(
        st.tuples(
            st.dates(date(2020, 1, 1), date(2030, 12, 31)),
            st.integers(0, 20),
            st.sampled_from([None, (8, 12), (13, 18), (0, 3)]),
        ),
        max_size=4,
    )
)
def test_any_periods_survive_a_round_trip(raw):
    periods = c.Periods("Europe/Berlin")
    text = "; ".join(
        f"{day}..{day.fromordinal(day.toordinal() + length)}"
        if hours is None
        else f"{day} {hours[0]:02d}:00-{hours[1]:02d}:00"
        for day, length, hours in raw
    )
    try:
        value = periods.parse(text)
    except ValueError:
        return  # overlapping periods are refused, that is fine here
    assert periods.parse(periods.format(value)) == value
