"""The one clock. Everything in carecal that asks "what time is it?" asks here.

The system clock by default; tests and rehearsals set a fixed moment with `frozen(...)`,
so nothing depends on the day the code happens to run. Durations (timeouts, rate limits)
measure with `time.monotonic` instead: they need a steady clock, not the calendar.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    """This moment, aware, in UTC."""
    return _source().astimezone(UTC)


def today(tz: str) -> date:
    """Today's date on the wall calendar of time zone `tz`."""
    return now().astimezone(ZoneInfo(tz)).date()


@contextmanager
def frozen(moment: datetime, tick: timedelta = timedelta(0)) -> Iterator[None]:
    """Within the block the clock reads `moment` (aware), moving on by `tick` at each
    reading: a tick of a microsecond keeps a test deterministic while what happens later
    is still stamped later, as with a real clock."""
    global _source
    if moment.tzinfo is None:
        raise ValueError(f"frozen({moment.isoformat()}): give a time zone")
    readings = count()

    def reading() -> datetime:
        return moment + next(readings) * tick

    previous, _source = _source, reading
    try:
        yield
    finally:
        _source = previous
