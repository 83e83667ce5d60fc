"""Reminders a volunteer chose: when their calendar app should remind them of a visit.

Written as a short list, separated by commas or semicolons, each item one of:

    1h, 90m, 2d    that long before the visit starts
    1d@18:00       that many days before, at that local time (0d@08:00: the same morning)
    none           no reminders at all

Stored on the volunteer as the list of items (`["1d@18:00", "1h"]`), an empty list for
`none`, or nothing (NULL) for the default: the evening before at 18:00 and one hour
before. Pure: no database, no clock.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

DEFAULT = ("1d@18:00", "1h")
_BEFORE = re.compile(r"(\d{1,3})([mhd])")
_AT = re.compile(r"(\d)d@([01]\d|2[0-3]):([0-5]\d)")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Reminder:
    text: str  # the item as written, canonical
    before: timedelta | None = None  # `1h`
    days: int = 0  # `1d@18:00`
    at: wall_time | None = None

    def trigger(self, start: datetime, tz: str) -> timedelta | datetime | None:
        """When to remind of a visit starting at `start` (aware): a negative duration before
        it (`1h`), or for a day and time (`1d@18:00`) that moment in UTC, written as an
        absolute trigger because calendar apps disagree on how a duration crosses a change
        of summer time. None if the moment would not be before the visit."""
        if self.before is not None:
            return -self.before
        assert self.at is not None  # `1d@18:00`: a day and a time
        zone = ZoneInfo(tz)
        moment = datetime.combine(start.astimezone(zone).date() - timedelta(days=self.days), self.at, zone)
        return moment.astimezone(UTC) if moment < start else None


def parse(text: str) -> tuple[str, ...]:
    """The canonical items of `text` (see module); ValueError says which item is wrong."""
    items = [item.strip().lower() for item in re.split(r"[,;]", text) if item.strip()]
    if items == ["none"]:
        return ()
    if not items:
        raise ValueError("no reminder given: write e.g. '1d@18:00, 1h', or 'none'")
    canonical = []
    for item in items:
        reminder = _reminder(item)
        if reminder is None:
            raise ValueError(
                f"{item!r} is not a reminder: write a time before the visit (30m, 1h, 2d) "
                "or a day and time (1d@18:00 = the day before at 18:00), or 'none'"
            )
        if reminder.text not in canonical:
            canonical.append(reminder.text)
    return tuple(canonical)


def reminders(stored: list[str] | None) -> tuple[Reminder, ...]:
    """What a volunteer's stored setting means (None: the default)."""
    items = DEFAULT if stored is None else stored
    return tuple(r for r in (_reminder(item) for item in items) if r is not None)


def describe(stored: list[str] | None) -> str:
    if stored is None:
        return f"default ({', '.join(DEFAULT)})"
    return ", ".join(stored) if stored else "none"


def _reminder(item: str) -> Reminder | None:
    if match := _BEFORE.fullmatch(item):
        amount, unit = int(match.group(1)), match.group(2)
        if amount == 0:
            return None
        return Reminder(f"{amount}{unit}", before=timedelta(**{_UNITS[unit]: amount}))
    if match := _AT.fullmatch(item):
        days, hour, minute = (int(g) for g in match.groups())
        return Reminder(f"{days}d@{hour:02d}:{minute:02d}", days=days, at=wall_time(hour, minute))
    return None
