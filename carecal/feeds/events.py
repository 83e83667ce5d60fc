"""Calendar events from the history of published rosters: who sees what, and how a visit's
changes become SEQUENCE, DTSTAMP and STATUS:CANCELLED.

Pure: takes published versions (with their visits) and the activity catalogue and returns
FeedEvents; reading the database happens in carecal.feeds.calendars.

What an event says comes from an allow-list: the client's first name and initial, the
address, the time, the office's phone and the activity's catalogue label in the reader's
language. Text the office typed for one client or visit (notes, reasons) is never read
here, so it cannot reach a calendar.

A visit is recognised across versions by its week and request_key. For each audience we
walk the week's published versions in order and look at the visit as that audience sees it
(its view): a volunteer sees only their own visits, so a visit given to someone else, or
dropped from the roster, becomes "cancelled, at its last known time" in their feed rather
than vanishing. A cancellation recorded for a visit (by the client or the volunteer,
carecal.billing.records) cancels it too, from the moment it was recorded. Each change of
the view raises SEQUENCE; DTSTAMP is when the last change was published or recorded, so
rendering the same history twice gives the same bytes.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from carecal.catalogue import Catalogue, feed_language
from carecal.feeds.i18n import DEFAULT_LANGUAGE, gettext_for, language_or_default
from carecal.feeds.reminders import Reminder, reminders
from carecal.feeds.render import FeedEvent
from carecal.models import Client, Visit, Volunteer
from carecal.weeks import DEFAULT_TZ


@dataclass(frozen=True)
class PublishedVersion:
    """One published roster version of a week (the visits this feed may need from it)."""

    week: str
    published_at: datetime
    visits: Sequence[Visit]


@dataclass(frozen=True)
class RecordedOutcome:
    """One recorded state of what happened at a visit (week, request key), as feeds see it:
    `cancelled` for a cancellation by the client or the volunteer."""

    week: str
    request_key: str
    at: datetime
    cancelled: bool


@dataclass(frozen=True)
class Audience:
    """Who reads a calendar: `kind` volunteer | family | coordinator; `key` a stable public
    id of the reader (external_id), part of each event's UID so that two feeds never share
    one UID in a calendar app that shows both."""

    kind: str
    key: str
    language: str = DEFAULT_LANGUAGE
    volunteer_id: int | None = None
    client_id: int | None = None
    reminders: tuple[Reminder, ...] = ()  # only a volunteer's own feed reminds

    @classmethod
    def volunteer(cls, volunteer: Volunteer, catalogue_languages: Sequence[str]) -> "Audience":
        """In the language the volunteer chose, else their first one the catalogue has."""
        return cls(
            "volunteer",
            volunteer.external_id,
            feed_language(volunteer.ui_language, volunteer.languages, catalogue_languages),
            volunteer_id=volunteer.id,
            reminders=reminders(volunteer.reminders),
        )

    @classmethod
    def family(cls, client: Client) -> "Audience":
        # German, not the client's mother tongue: a language can hint at ethnic origin,
        # and the feed ends up in a cloud calendar.
        return cls("family", client.external_id, DEFAULT_LANGUAGE, client_id=client.id)

    @classmethod
    def coordinator(cls, language: str = DEFAULT_LANGUAGE) -> "Audience":
        return cls("coordinator", "office", language_or_default(language))

    def sees(self, visit: Visit) -> bool:
        if self.kind == "volunteer":
            return visit.volunteer_id == self.volunteer_id
        if self.kind == "family":
            return visit.client_id == self.client_id
        return True

    def view(self, visit: Visit) -> "View":
        # A volunteer's own feed ignores who the volunteer is: a visit given to someone
        # else leaves their view altogether (and so shows as cancelled).
        return View(
            visit.starts_at,
            visit.ends_at,
            visit.status == "cancelled",
            None if self.kind == "volunteer" else visit.volunteer_id,
        )


class View(NamedTuple):
    """What of a visit an audience sees change; any change raises SEQUENCE."""

    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    volunteer_id: int | None


@dataclass
class _Track:
    """One visit's history as one audience saw it."""

    visit: Visit  # the last version of it this audience saw
    view: View
    sequence: int
    changed_at: datetime
    roster_view: View  # the view as the roster alone has it (before recorded outcomes)


def track_visits(
    versions: Sequence[PublishedVersion], audience: Audience, outcomes: Sequence[RecordedOutcome] = ()
) -> dict[tuple[str, str], _Track]:
    """(week, request_key) → track, for every visit the audience saw in some published version.
    Versions and recorded outcomes are taken in the order they happened."""
    tracks: dict[tuple[str, str], _Track] = {}
    recorded_cancelled: dict[tuple[str, str], bool] = {}

    def see(key: tuple[str, str], roster_view: View, at: datetime) -> None:
        track = tracks[key]
        view = roster_view._replace(cancelled=roster_view.cancelled or recorded_cancelled.get(key, False))
        track.roster_view = roster_view
        if view != track.view:
            track.view, track.sequence, track.changed_at = view, track.sequence + 1, at

    history = sorted(
        [(v.published_at, 0, n, v) for n, v in enumerate(versions)] + [(o.at, 1, n, o) for n, o in enumerate(outcomes)],
        key=lambda item: item[:3],
    )
    for at, _, _, item in history:
        if isinstance(item, RecordedOutcome):
            key = (item.week, item.request_key)
            recorded_cancelled[key] = item.cancelled
            if key in tracks:
                see(key, tracks[key].roster_view, at)
            continue
        shown = {(item.week, v.request_key): v for v in item.visits if audience.sees(v)}
        week_keys = {key for key in tracks if key[0] == item.week}
        for key in sorted(week_keys | shown.keys()):
            visit, track = shown.get(key), tracks.get(key)
            if track is None:  # first seen: `shown` has it
                assert visit is not None
                roster_view = audience.view(visit)
                view = roster_view._replace(cancelled=roster_view.cancelled or recorded_cancelled.get(key, False))
                tracks[key] = _Track(visit, view, 0, at, roster_view)
                continue
            if visit is not None:
                roster_view = audience.view(visit)
            else:  # gone from this audience's view: cancelled, at the time last seen
                roster_view = track.roster_view._replace(cancelled=True)
            see(key, roster_view, at)
            if visit is not None:
                track.visit = visit
    return tracks


def build_events(
    versions: Sequence[PublishedVersion],
    audience: Audience,
    catalogue: Catalogue,
    *,
    outcomes: Sequence[RecordedOutcome] = (),
    namespace: str = "carecal",
    city: str | None = None,
    office_phone: str | None = None,
    tz: str = DEFAULT_TZ,
) -> list[FeedEvent]:
    """The audience's calendar events: one per visit they ever saw in a published version,
    cancelled where the roster or a recorded outcome says so."""
    _ = gettext_for(audience.language)
    events = []
    for (week, key), track in track_visits(versions, audience, outcomes).items():
        visit = track.visit
        cancelled = track.view.cancelled
        title = _title(_, audience, visit)
        lines = []
        if cancelled:
            title = _("Cancelled: {title}").format(title=title)
            lines.append(
                _("This visit does not take place for you. Please do not go.")
                if audience.kind == "volunteer"
                else _("This visit has been cancelled.")
            )
        activity = catalogue.label(visit.care_request.activity_key, audience.language)
        lines.append(_("Activity: {activity}").format(activity=activity))
        address = client_address(visit.client, city)
        if address:
            lines.append(_("Address: {address}").format(address=address))
        if office_phone:
            lines.append(_("Questions or cannot come? Call the office: {phone}").format(phone=office_phone))
        events.append(
            FeedEvent(
                uid=event_uid(namespace, week, key, audience),
                sequence=track.sequence,
                stamp=track.changed_at,
                start=track.view.starts_at,
                end=track.view.ends_at,
                cancelled=cancelled,
                summary=title,
                description="\n".join(lines),
                location=address,
                alarms=() if cancelled else _alarms(_, audience, title, track.view.starts_at, tz),
            )
        )
    return events


def _alarms(
    _: Callable[[str], str], audience: Audience, title: str, start: datetime, tz: str
) -> tuple[tuple[timedelta | datetime, str], ...]:
    """The volunteer's reminders of one visit, earliest first, each moment once, all before it starts."""
    moments: dict[datetime, timedelta | datetime] = {}
    for reminder in audience.reminders:
        trigger = reminder.trigger(start, tz)
        if trigger is not None:
            moments.setdefault(start + trigger if isinstance(trigger, timedelta) else trigger, trigger)
    text = _("Reminder: {title}").format(title=title)
    return tuple((moments[moment], text) for moment in sorted(moments))


def calendar_name(
    audience: Audience, *, organisation: str, client: Client | None = None, week: str | None = None
) -> str:
    _ = gettext_for(audience.language)
    if audience.kind == "volunteer":
        name = _("My visits – {organisation}").format(organisation=organisation)
    elif audience.kind == "family":
        name = _("Visits to {client}").format(client=client.short_label if client else "")
    else:
        name = _("All visits – {organisation}").format(organisation=organisation)
    return f"{name} ({week})" if week else name


def _title(_: Callable[[str], str], audience: Audience, visit: Visit) -> str:
    if audience.kind == "volunteer":
        return _("Visit to {client}").format(client=visit.client.short_label)
    if audience.kind == "family":
        return _("Visit from {volunteer}").format(volunteer=visit.volunteer.first_name)
    return _("{volunteer} visits {client}").format(volunteer=visit.volunteer.name, client=visit.client.short_label)


def event_uid(namespace: str, week: str, request_key: str, audience: Audience) -> str:
    """Stable across re-plans and re-renders (no database ids), opaque (no names or keys
    readable in someone's cloud calendar)."""
    digest = hashlib.sha256(f"{namespace}/{week}/{request_key}/{audience.kind}/{audience.key}".encode())
    return f"{digest.hexdigest()[:32]}@carecal"


def client_address(client: Client, city: str | None) -> str | None:
    """What a volunteer needs to find the door: street, postcode (city), district."""
    place = " ".join(part for part in (client.postcode, city) if part)
    address = ", ".join(part for part in (client.street, place) if part)
    if client.district:
        address = f"{address} ({client.district})" if address else client.district
    return address or None
