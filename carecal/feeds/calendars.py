"""Whole calendars from the database: a volunteer's feed, a family feed, the office file,
and the .ics export of a week. Reads only published roster versions; never commits."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from carecal import catalogue, organisation, private_files
from carecal.errors import NotFound
from carecal.feeds.events import Audience, PublishedVersion, RecordedOutcome, build_events, calendar_name
from carecal.feeds.render import FeedEvent, render_calendar
from carecal.models import (
    Client,
    RosterVersion,
    RosterWeek,
    Visit,
    VisitRecord,
    VisitRecordChange,
    Volunteer,
)
from carecal.models.billing import CANCELLATIONS
from carecal.weeks import IsoWeek, local

# A subscription shows the published visits from 4 weeks back to 8 weeks ahead.
WEEKS_BACK, WEEKS_AHEAD = 4, 8


@dataclass(frozen=True)
class RenderedCalendar:
    body: bytes
    last_modified: datetime  # newest change to anything the body shows (aware UTC)


@dataclass(frozen=True)
class CalendarDraft:
    """Everything the renderer takes, read from the database: equal drafts render to the
    same bytes. Its stamp is what the feed server compares before rendering."""

    events: tuple[FeedEvent, ...]
    name: str
    language: str
    tz: str
    last_modified: datetime

    def stamp(self) -> bytes:
        """A digest of the whole draft: it changes whenever the rendered body could
        (a visit, its outcome, a name or address, the window, the language, reminders)."""
        return hashlib.sha256(repr(self).encode()).digest()

    def render(self) -> RenderedCalendar:
        body = render_calendar(self.events, name=self.name, language=self.language, tz=self.tz)
        return RenderedCalendar(body, self.last_modified)


@dataclass(frozen=True)
class _Office:
    name: str
    namespace: str
    tz: str
    city: str | None
    phone: str | None


def feed_window(today: date) -> list[IsoWeek]:
    current = IsoWeek.containing(today)
    return [current.shift(n) for n in range(-WEEKS_BACK, WEEKS_AHEAD + 1)]


def published_versions(
    session: Session, weeks: Sequence[IsoWeek], *, volunteer: Volunteer | None = None, client: Client | None = None
) -> list[PublishedVersion]:
    """Every version of these weeks that was ever published, in publication order, each with
    the visits of the volunteer (or client) given, else all its visits."""
    rows = session.execute(
        select(RosterVersion.id, RosterWeek.week, RosterVersion.published_at)
        .join(RosterWeek, RosterVersion.roster_week_id == RosterWeek.id)
        .where(RosterWeek.week.in_([str(w) for w in weeks]), RosterVersion.published_at.is_not(None))
        .order_by(RosterWeek.week, RosterVersion.published_at, RosterVersion.number)
    ).all()
    query = (
        select(Visit)
        .where(Visit.version_id.in_([row.id for row in rows]))
        .options(joinedload(Visit.client), joinedload(Visit.volunteer), joinedload(Visit.care_request))
    )
    if volunteer is not None:
        query = query.where(Visit.volunteer_id == volunteer.id)
    if client is not None:
        query = query.where(Visit.client_id == client.id)
    visits: dict[int, list[Visit]] = {row.id: [] for row in rows}
    for visit in session.scalars(query):
        visits[visit.version_id].append(visit)
    return [PublishedVersion(row.week, row.published_at, visits[row.id]) for row in rows]


def recorded_outcomes(session: Session, versions: Sequence[PublishedVersion]) -> list[RecordedOutcome]:
    """Every recorded state (with its time) of the visits in `versions`, oldest first."""
    shown = {(v.week, visit.request_key) for v in versions for visit in v.visits}
    if not shown:
        return []
    rows = session.execute(
        select(RosterWeek.week, Visit.request_key, VisitRecordChange.at, VisitRecordChange.state)
        .join(VisitRecord, VisitRecordChange.record_id == VisitRecord.id)
        .join(Visit, VisitRecord.visit_id == Visit.id)
        .join(RosterVersion, Visit.version_id == RosterVersion.id)
        .join(RosterWeek, RosterVersion.roster_week_id == RosterWeek.id)
        .where(RosterWeek.week.in_({week for week, _ in shown}))
        .order_by(VisitRecordChange.at, VisitRecordChange.id)
    ).all()
    return [
        RecordedOutcome(row.week, row.request_key, row.at, row.state.get("status") in CANCELLATIONS)
        for row in rows
        if (row.week, row.request_key) in shown
    ]


def subscription_draft(session: Session, owner: Volunteer | Client, now: datetime) -> CalendarDraft:
    """What a feed link shows at `now`, not yet rendered: the owner's published visits from
    4 weeks back to 8 weeks ahead of the organisation's local date."""
    office = _office(session)
    today = now.astimezone(ZoneInfo(office.tz)).date()
    weeks = feed_window(today)
    # The window moved on when this week began: from then on older weeks are missing.
    window_moved = local(IsoWeek.containing(today).monday, time(0), office.tz)
    if isinstance(owner, Volunteer):
        return _volunteer_draft(session, owner, weeks, office=office, window_moved_at=window_moved)
    return _family_draft(session, owner, weeks, office=office, window_moved_at=window_moved)


def volunteer_calendar(
    session: Session, volunteer: Volunteer, weeks: Sequence[IsoWeek], *, label: str | None = None
) -> RenderedCalendar:
    return _volunteer_draft(session, volunteer, weeks, label=label).render()


def family_calendar(
    session: Session, client: Client, weeks: Sequence[IsoWeek], *, label: str | None = None
) -> RenderedCalendar:
    return _family_draft(session, client, weeks, label=label).render()


def coordinator_calendar(session: Session, weeks: Sequence[IsoWeek], *, label: str | None = None) -> RenderedCalendar:
    versions = published_versions(session, weeks)
    return _draft(session, versions, Audience.coordinator(), label, office=_office(session)).render()


def _volunteer_draft(
    session: Session,
    volunteer: Volunteer,
    weeks: Sequence[IsoWeek],
    *,
    label: str | None = None,
    office: _Office | None = None,
    window_moved_at: datetime | None = None,
) -> CalendarDraft:
    versions = published_versions(session, weeks, volunteer=volunteer)
    activities = catalogue.load(session)
    return _draft(
        session,
        versions,
        Audience.volunteer(volunteer, activities.languages),
        label,
        office=office or _office(session),
        activities=activities,
        changes=[volunteer.updated_at, window_moved_at],
    )


def _family_draft(
    session: Session,
    client: Client,
    weeks: Sequence[IsoWeek],
    *,
    label: str | None = None,
    office: _Office | None = None,
    window_moved_at: datetime | None = None,
) -> CalendarDraft:
    versions = published_versions(session, weeks, client=client)
    return _draft(
        session,
        versions,
        Audience.family(client),
        label,
        office=office or _office(session),
        client=client,
        changes=[client.updated_at, window_moved_at],
    )


def _draft(
    session: Session,
    versions: list[PublishedVersion],
    audience: Audience,
    label: str | None,
    *,
    office: _Office,
    activities: catalogue.Catalogue | None = None,
    client: Client | None = None,
    changes: Sequence[datetime | None] = (),
) -> CalendarDraft:
    events = build_events(
        versions,
        audience,
        activities or catalogue.load(session),
        outcomes=recorded_outcomes(session, versions),
        namespace=office.namespace,
        city=office.city,
        office_phone=office.phone,
        tz=office.tz,
    )
    name = calendar_name(audience, organisation=office.name, client=client, week=label)
    # The body changes with a visit, and also when a name or an address changes or the
    # window moves on: Last-Modified must not be older than any of those.
    people = [p.updated_at for v in versions for visit in v.visits for p in (visit.client, visit.volunteer)]
    moments = [*(e.stamp for e in events), *people, *(c for c in changes if c is not None)]
    last_modified = max(moments, default=datetime(1970, 1, 1, tzinfo=UTC))
    return CalendarDraft(tuple(events), name, audience.language, office.tz, last_modified)


def _office(session: Session) -> _Office:
    org = organisation.find(session)
    if org is None:
        return _Office("carecal", "carecal", organisation.timezone_of(org), None, None)
    return _Office(org.name, f"ik{org.ik}", organisation.timezone_of(org), org.city, org.phone)


def week_calendars(session: Session, week: IsoWeek) -> dict[str, RenderedCalendar]:
    """File name → calendar for one week: each volunteer who had a visit in one of its
    published versions, each such client whose family opted in, and the office's file."""
    versions = published_versions(session, [week])
    if not versions:
        raise NotFound(f"week {week} has no published roster: publish it first")
    volunteers = {v.volunteer.id: v.volunteer for version in versions for v in version.visits}
    clients = {v.client.id: v.client for version in versions for v in version.visits if v.client.family_feed_opt_in}
    calendars = {f"{week}-office.ics": coordinator_calendar(session, [week], label=str(week))}
    for volunteer in sorted(volunteers.values(), key=lambda v: v.external_id):
        calendars[f"{week}-volunteer-{volunteer.external_id}.ics"] = volunteer_calendar(
            session, volunteer, [week], label=str(week)
        )
    for client in sorted(clients.values(), key=lambda c: c.external_id):
        calendars[f"{week}-family-{client.external_id}.ics"] = family_calendar(session, client, [week], label=str(week))
    return calendars


def write_week(session: Session, week: IsoWeek, out_dir: Path) -> list[Path]:
    written = []
    for filename, calendar in week_calendars(session, week).items():
        written.append(private_files.write_bytes(out_dir / filename, calendar.body))
    return written
