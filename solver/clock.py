"""Local wall-clock time of one ISO week as whole minutes (docs/format.md, "Time").

Every moment of the week is an integer: minutes since Monday 00:00 local time of the
instance's week (an absolute instant, so a visit across a DST switch lasts exactly its
minutes). Wall-clock `HH:MM` on a switch day is resolved like this: a window *starts* at the
earliest instant whose local reading is at or after `from`, and *ends* at the latest
instant whose reading is at or before `to` (so a window on Sunday 25 October 2026
00:00-04:00 lasts five real hours; one on 29 March 2026 lasts three). Starts lie on the
`slot_minutes` grid of local wall-clock time; a grid time that does not exist (29 March,
02:00-02:59) offers no start, and one that happens twice (25 October, 02:00-02:59) offers
both.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    """A stretch of one day of the week, in week minutes; `label` is how a person reads it."""

    day: int
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Clock:
    """Turns local wall-clock times of one ISO week into week minutes and back."""

    monday: date
    tz: ZoneInfo
    slot: int

    @cached_property
    def origin(self) -> datetime:
        return self._earliest(datetime.combine(self.monday, time(0)))

    def _instants(self, naive: datetime) -> list[datetime]:
        """The UTC instants whose local reading is `naive`: none, one or two."""
        found = []
        for fold in (0, 1):
            utc = naive.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)
            if utc.astimezone(self.tz).replace(tzinfo=None) == naive and utc not in found:
                found.append(utc)
        return sorted(found)

    def _gap_end(self, naive: datetime) -> datetime:
        """For a local time that does not exist: the instant the clock jumps over it."""
        a = naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        b = naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        lo, hi = min(a, b), max(a, b)  # reading(lo) < naive < reading(hi)
        while hi - lo > timedelta(minutes=1):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(second=0, microsecond=0)
            if mid.astimezone(self.tz).replace(tzinfo=None) > naive:
                hi = mid
            else:
                lo = mid
        return hi

    def _earliest(self, naive: datetime) -> datetime:
        found = self._instants(naive)
        return found[0] if found else self._gap_end(naive)

    def _latest(self, naive: datetime) -> datetime:
        found = self._instants(naive)
        return found[-1] if found else self._gap_end(naive)

    @staticmethod
    def _naive(day_date: date, hhmm: str) -> datetime:
        hours, minutes = int(hhmm[:2]), int(hhmm[3:])
        return datetime.combine(day_date, time(0)) + timedelta(hours=hours, minutes=minutes)

    def minutes(self, instant: datetime) -> int:
        return round((instant - self.origin).total_seconds()) // 60

    def window(self, day: int, start: str, end: str, on: date | None = None) -> Window:
        day_date = on or self.monday + timedelta(days=day)
        lo = self.minutes(self._earliest(self._naive(day_date, start)))
        hi = self.minutes(self._latest(self._naive(day_date, end)))
        return Window(day, lo, max(lo, hi), f"{DAYS[day].capitalize()} {start}–{end}")

    def day_span(self, day: int) -> tuple[int, int]:
        return self.day_starts[day], self.day_starts[day + 1]

    @cached_property
    def day_starts(self) -> tuple[int, ...]:
        return tuple(
            self.minutes(self._earliest(datetime.combine(self.monday + timedelta(days=d), time(0)))) for d in range(8)
        )

    @cached_property
    def grid(self) -> tuple[int, ...]:
        """Every start the slot grid allows in the week, sorted (week minutes)."""
        starts: list[int] = []
        for d in range(7):
            day_date = self.monday + timedelta(days=d)
            for m in range(0, 24 * 60, self.slot):
                naive = datetime.combine(day_date, time(0)) + timedelta(minutes=m)
                starts.extend(self.minutes(t) for t in self._instants(naive))
        return tuple(sorted(set(starts)))

    def grid_between(self, lo: int, hi: int) -> tuple[int, ...]:
        """Grid starts s with lo <= s <= hi."""
        return self.grid[bisect_left(self.grid, lo) : bisect_right(self.grid, hi)]

    def day_of(self, minute: int) -> int:
        return bisect_right(self.day_starts, minute) - 1

    def to_datetime(self, minute: int) -> datetime:
        return (self.origin + timedelta(minutes=minute)).astimezone(self.tz)

    def iso(self, minute: int) -> str:
        return self.to_datetime(minute).isoformat()

    def local_time(self, minute: int) -> str:
        return self.to_datetime(minute).strftime("%H:%M")

    def parse_instant(self, text: str) -> int:
        """An ISO 8601 time with its UTC offset -> week minutes; ValueError when it is not one."""
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset")
        if moment.second or moment.microsecond:
            raise ValueError(f"{text!r} is not on a whole minute")
        return self.minutes(moment)


def parse_week(text: str) -> date:
    """'2026-W48' -> the Monday of that ISO week."""
    year, week = int(text[:4]), int(text[6:])
    monday = date.fromisocalendar(year, week, 1)  # ValueError for a week 53 that does not exist
    return monday
