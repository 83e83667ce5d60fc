"""ISO weeks and local wall-clock times in the organisation's time zone.

Visits are planned in wall-clock time ("Tuesday 14:00") and stored as aware UTC instants;
the conversion happens here and nowhere else, so the switch to and from summer time is
handled once. `fold=0` picks the first of two ambiguous times (the summer-time one) and a
time that does not exist (02:30 on the last Sunday of March) moves forward by the gap.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.errors import InputError

DEFAULT_TZ = "Europe/Berlin"
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "IsoWeek":
        match = _WEEK.match(text.strip())
        if not match:
            raise InputError(f"week {text!r} is not an ISO week like 2026-W48")
        year, number = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise InputError(f"week {text!r} does not exist: {year} has no week {number}") from None
        return cls(year, number)

    @classmethod
    def containing(cls, day: date) -> "IsoWeek":
        year, number, _ = day.isocalendar()
        return cls(year, number)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def day(self, code: str) -> date:
        return self.monday + timedelta(days=DAY_CODES.index(code))

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def shift(self, weeks: int) -> "IsoWeek":
        return IsoWeek.containing(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: str = DEFAULT_TZ) -> tuple[datetime, datetime]:
        """[Monday 00:00, next Monday 00:00) local time, as aware datetimes."""
        return local(self.monday, time(0), tz), local(self.monday + timedelta(days=7), time(0), tz)


def local(day: date, at: time, tz: str = DEFAULT_TZ) -> datetime:
    """The instant of wall-clock `at` on `day` in `tz` (see the module docstring for DST)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=ZoneInfo(tz))
    # A nonexistent time does not survive a round trip through UTC: move it past the gap.
    round_trip = aware.astimezone(UTC).astimezone(ZoneInfo(tz))
    if round_trip.replace(tzinfo=None) != naive:
        aware = (aware.astimezone(UTC)).astimezone(ZoneInfo(tz))
    return aware


def parse_hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise InputError(f"{text!r} is not a time like 14:00") from None


def to_local(instant: datetime, tz: str = DEFAULT_TZ) -> datetime:
    return instant.astimezone(ZoneInfo(tz))
