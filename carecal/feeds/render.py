"""Calendar rendering: events in, iCalendar bytes out. Pure: no database, no clock.

The same events always give the same bytes (so the same ETag): everything that could vary
(DTSTAMP, SEQUENCE, order) comes from the events themselves.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vDuration

PRODID = "-//carecal//calendar feeds//EN"
# How often calendar apps should re-fetch a subscription (most clamp it to their own minimum).
DEFAULT_REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class FeedEvent:
    """One visit as one audience sees it, ready to render (texts already translated)."""

    uid: str
    sequence: int
    stamp: datetime  # the visit's last change (aware)
    start: datetime  # aware, in the organisation's time zone
    end: datetime
    cancelled: bool
    summary: str
    description: str
    location: str | None = None
    # Display reminders: (when: before the start (negative) or a moment in UTC; the text shown)
    alarms: tuple[tuple[timedelta | datetime, str], ...] = ()


def render_calendar(
    events: Sequence[FeedEvent],
    *,
    name: str,
    language: str,
    tz: str = "Europe/Berlin",
    refresh: timedelta = DEFAULT_REFRESH,
) -> bytes:
    """An iCalendar (RFC 5545 + RFC 7986 NAME/REFRESH-INTERVAL) subscription document.

    No METHOD: this is a published calendar, not a scheduling message (with METHOD:PUBLISH
    Outlook imports a copy instead of subscribing). Times carry TZID=`tz` and the file
    carries that zone's VTIMEZONE for the years of its events, so parsers without their
    own zone database still get summer time right.
    """
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)  # NAME for Apple, Google and Outlook, which predate RFC 7986
    calendar.add("x-wr-timezone", tz)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))
    components = []
    ordered = sorted(events, key=lambda e: (e.start, e.uid))
    if ordered:
        zone = ZoneInfo(tz)
        first, last = ordered[0].start.astimezone(zone).year, max(e.end for e in ordered).astimezone(zone).year
        components.append(_vtimezone(tz, first, last))
    components.extend(_vevent(event, tz, language) for event in ordered)
    # Serialising is most of the cost of a feed and the same visit appears in every
    # re-fetch, so each component is serialised once (cached) and spliced in.
    head = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    return head.removesuffix(end) + b"".join(components) + end


@lru_cache(maxsize=64)
def _vtimezone(tz: str, first_year: int, last_year: int) -> bytes:
    # Whole calendar years, so every observance starts at a real transition.
    return Timezone.from_tzid(tz, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)).to_ical()


@lru_cache(maxsize=50_000)
def _vevent(event: FeedEvent, tz: str, language: str) -> bytes:
    zone = ZoneInfo(tz)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.stamp)
    vevent.add("last-modified", event.stamp)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", _wall_clock_or_utc(event.start, zone))
    vevent.add("dtend", _wall_clock_or_utc(event.end, zone))
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    # A cancelled visit must not block the volunteer's time in free/busy views.
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    vevent.add("summary", event.summary, parameters={"language": language})
    vevent.add("description", event.description, parameters={"language": language})
    if event.location:
        vevent.add("location", event.location, parameters={"language": language})
    for trigger, text in event.alarms:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        # an absolute trigger must say so (RFC 5545 §3.8.6.3); parsers reject it otherwise
        if isinstance(trigger, timedelta):
            alarm.add("trigger", trigger)
        else:
            alarm.add("trigger", trigger, parameters={"VALUE": "DATE-TIME"})
        alarm.add("description", text, parameters={"language": language})
        vevent.add_component(alarm)
    return vevent.to_ical()


def _wall_clock_or_utc(instant: datetime, zone: ZoneInfo) -> datetime:
    """Local time with TZID, except for the second 02:xx on the night summer time ends:
    RFC 5545 reads an ambiguous local time as its first occurrence, so that one is
    written in UTC to keep its meaning."""
    local = instant.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) != instant.astimezone(UTC):
        return instant.astimezone(UTC)
    return local
