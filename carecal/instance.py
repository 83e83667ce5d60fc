"""Build one week's carecal-instance/1 document (docs/format.md) from the database.

Who can be scheduled, what each client needs and what the coordinator decided (pins,
exclusions, absences, clients away) all become plain data the solver understands. Ids in
the document are external ids; each care request becomes `visits_per_week` requests keyed
'<external id>#<k>'. What had to be left out is said in `notes`, never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carecal import organisation
from carecal.models import (
    CareRequest,
    Client,
    Exclusion,
    Override,
    RosterVersion,
    RosterWeek,
    Volunteer,
)
from carecal.weeks import DAY_CODES, DEFAULT_TZ, IsoWeek, local, to_local

INSTANCE_FORMAT = "carecal-instance/1"
SLOT_MINUTES = 15


@dataclass
class InstanceBuild:
    """The document and what a coordinator should know about how it was made."""

    week: IsoWeek
    timezone: str
    document: dict
    notes: list[str] = field(default_factory=list)
    # request key -> why it cannot be visited at all this week (client away all week, unassigned)
    blocked: dict[str, list[str]] = field(default_factory=dict)
    # the last published roster before this week, as carecal-roster/1 (continuity)
    previous: dict | None = None
    pin_overrides: dict[str, int] = field(default_factory=dict)  # request key -> override id
    # requests left out of the solve: their visits are history and stay as they are
    left_out: frozenset[str] = frozenset()
    # volunteer id -> minutes those visits take (already taken off the weekly maximum)
    minutes_used: dict[str, int] = field(default_factory=dict)


def request_key(care_request: CareRequest, k: int) -> str:
    return f"{care_request.external_id}#{k}"


def care_request_id_of(key: str) -> str:
    """'c017-2#1' -> 'c017-2'."""
    return key.rsplit("#", 1)[0]


# --------------------------------------------------------------------------- volunteers


def schedulable(volunteer: Volunteer, week: IsoWeek) -> str | None:
    """None when the volunteer may be scheduled all week, else why not (no health data)."""
    lapsed = [d for d in week.days() if not any(t.kind == "basic" and t.valid_on(d) for t in volunteer.trainings)]
    if not lapsed:
        return None
    basics = [t for t in volunteer.trainings if t.kind == "basic"]
    if not basics:
        return "no basic training on record"
    expired = max((t.expires_on for t in basics if t.expires_on and t.expires_on < lapsed[0]), default=None)
    if expired is not None:
        return f"basic training lapsed on {expired.isoformat()}"
    return f"basic training not valid on {lapsed[0].isoformat()}"


def dementia_trained(volunteer: Volunteer, week: IsoWeek) -> bool:
    return all(any(t.kind == "dementia" and t.valid_on(d) for t in volunteer.trainings) for d in week.days())


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def day_pieces(start: datetime, end: datetime, week: IsoWeek, tz: str) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at local midnights, clipped to the week: (day, piece start, piece end)."""
    pieces = []
    for day in week.days():
        day_start, day_end = local(day, time(0), tz), local(day + timedelta(days=1), time(0), tz)
        lo, hi = max(start, day_start), min(end, day_end)
        if lo < hi:
            pieces.append((day, lo, hi))
    return pieces


def absence_entries(spans: list[tuple[datetime, datetime]], week: IsoWeek, tz: str) -> list[dict]:
    """Absences as docs/format.md wants them: whole days as {"date"}, parts of days with from/to in
    local wall-clock (rounded outwards to the minute, so an absence is never shortened)."""
    by_day: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for start, end in spans:
        for day, lo, hi in day_pieces(start, end, week, tz):
            by_day[day].append((lo, hi))
    entries = []
    for day in sorted(by_day):
        day_start, day_end = local(day, time(0), tz), local(day + timedelta(days=1), time(0), tz)
        for lo, hi in _merge(by_day[day]):
            if lo <= day_start and hi >= day_end:
                entries.append({"date": day.isoformat()})
                continue
            lo_local = to_local(lo, tz).replace(second=0, microsecond=0)
            hi_local = to_local(hi, tz)
            if hi_local.second or hi_local.microsecond:
                hi_local = hi_local.replace(second=0, microsecond=0) + timedelta(minutes=1)
            to = "24:00" if hi >= day_end else _hhmm(hi_local)
            entries.append({"date": day.isoformat(), "from": _hhmm(lo_local), "to": to})
    return entries


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def volunteer_document(volunteer: Volunteer, week: IsoWeek, tz: str) -> dict:
    first, last = week.bounds(tz)
    absent = [(a.starts_at, a.ends_at) for a in volunteer.absences if a.starts_at < last and a.ends_at > first]
    return {
        "id": volunteer.external_id,
        "home": {"lat": volunteer.lat, "lon": volunteer.lon},
        "languages": list(volunteer.languages),
        "gender": volunteer.gender,
        "dementia_trained": dementia_trained(volunteer, week),
        "max_minutes_per_week": volunteer.max_minutes_per_week,
        "max_visits_per_day": volunteer.max_visits_per_day,
        "max_km": volunteer.max_km,
        "mode": volunteer.travel_mode,
        "availability": [
            {
                "day": DAY_CODES[w.weekday],
                "from": w.start.strftime("%H:%M"),
                "to": "24:00" if w.end == time(0) else w.end.strftime("%H:%M"),
            }
            for w in volunteer.availability
        ],
        "absences": absence_entries(absent, week, tz),
    }


# --------------------------------------------------------------------------- clients


def _window_span(week: IsoWeek, window: dict, tz: str) -> tuple[datetime, datetime]:
    day = week.day(window["day"])
    start = local(day, time.fromisoformat(window["from"]), tz)
    end = (
        local(day + timedelta(days=1), time(0), tz)
        if window["to"] == "24:00"
        else local(day, time.fromisoformat(window["to"]), tz)
    )
    return start, end


def _subtract(span: tuple[datetime, datetime], holes: list[tuple[datetime, datetime]]):
    pieces = [span]
    for h_lo, h_hi in holes:
        next_pieces = []
        for lo, hi in pieces:
            if h_hi <= lo or h_lo >= hi:
                next_pieces.append((lo, hi))
                continue
            if lo < h_lo:
                next_pieces.append((lo, h_lo))
            if h_hi < hi:
                next_pieces.append((h_hi, hi))
        pieces = next_pieces
    return pieces


def _ceil_to_slot(moment: datetime, tz: str) -> datetime:
    """The first local wall-clock time on the slot grid at or after `moment`."""
    wall = to_local(moment, tz)
    minutes = wall.hour * 60 + wall.minute + (1 if wall.second or wall.microsecond else 0)
    rounded = -(-minutes // SLOT_MINUTES) * SLOT_MINUTES
    day = wall.date() + timedelta(days=rounded // (24 * 60))
    rounded %= 24 * 60
    return local(day, time(rounded // 60, rounded % 60), tz)


def request_windows(
    care_request: CareRequest, week: IsoWeek, tz: str, holes: list[tuple[datetime, datetime]]
) -> list[dict]:
    """The care request's windows this week, minus the times the client is not at home
    (or that lie before a cut-off). Pieces too short for a visit are dropped."""
    result = []
    for window in care_request.windows:
        span = _window_span(week, window, tz)
        for lo, hi in _subtract(span, holes):
            lo = _ceil_to_slot(lo, tz)
            if (hi - lo) < timedelta(minutes=care_request.duration_min):
                continue
            day = to_local(lo, tz).date()
            day_end = local(day + timedelta(days=1), time(0), tz)
            result.append(
                {
                    "day": DAY_CODES[day.weekday()],
                    "from": _hhmm(to_local(lo, tz)),
                    "to": "24:00" if hi >= day_end else _hhmm(to_local(hi, tz)),
                }
            )
    return result


# --------------------------------------------------------------------------- the last published week


def last_published(session: Session, week: IsoWeek) -> RosterVersion | None:
    """The published version of the most recent week before `week` that has one."""
    return session.scalars(
        select(RosterVersion)
        .join(RosterWeek)
        .where(RosterWeek.week < str(week), RosterVersion.status == "published")
        .order_by(RosterWeek.week.desc())
        .limit(1)
    ).first()


def roster_document(version: RosterVersion) -> dict:
    """A stored version as carecal-roster/1 (cancelled visits are not part of the roster)."""
    tz = version.instance.get("timezone", DEFAULT_TZ) if version.instance else DEFAULT_TZ
    return {
        "format": "carecal-roster/1",
        "week": version.roster_week.week,
        "status": version.solver_status or "FEASIBLE",
        "assignments": [
            {
                "request": v.request_key,
                "client": v.client.external_id,
                "volunteer": v.volunteer.external_id,
                "start": to_local(v.starts_at, tz).isoformat(),
                "end": to_local(v.ends_at, tz).isoformat(),
            }
            for v in sorted(version.visits, key=lambda v: (v.starts_at, v.request_key))
            if v.status == "planned"
        ],
        "unassigned": [
            {"request": u.request_key, "client": u.client.external_id, "reasons": list(u.reasons) or ["not assigned"]}
            for u in version.unassigned
        ],
        "stats": dict(version.stats.get("solver", {})) if version.stats else {},
    }


# --------------------------------------------------------------------------- the whole week


def _active_overrides(session: Session, kind: str, week: IsoWeek) -> list[Override]:
    return list(
        session.scalars(
            select(Override)
            .where(Override.kind == kind, Override.week == str(week), Override.removed_at.is_(None))
            .order_by(Override.id)
        )
    )


def build_instance(
    session: Session,
    week: IsoWeek,
    *,
    not_before: datetime | None = None,
    keep_windows: frozenset[str] = frozenset(),
    leave_out: frozenset[str] = frozenset(),
    minutes_used: dict[str, int] | None = None,
) -> InstanceBuild:
    """The week as a carecal-instance/1 document.

    `not_before` cuts every request's windows at that instant (a replan must not place a new
    visit in the past or at short notice), except for the requests in `keep_windows`.
    `leave_out` requests are not part of the solve at all (visits that are history: they
    stay as they are), and `minutes_used` (volunteer id -> minutes) is what those visits
    already take of each volunteer's weekly maximum.
    """
    tz = organisation.timezone(session)
    build = InstanceBuild(
        week=week, timezone=tz, document={}, left_out=leave_out, minutes_used=dict(minutes_used or {})
    )
    volunteers = _volunteers(session, build)
    for doc in volunteers:
        used = build.minutes_used.get(doc["id"], 0)
        doc["max_minutes_per_week"] = max(0, doc["max_minutes_per_week"] - used)
    schedulable_ids = {v["id"] for v in volunteers}
    previous_version = last_published(session, week)
    if previous_version is not None:
        build.previous = roster_document(previous_version)
    clients = _clients(session, build, schedulable_ids, not_before, keep_windows, leave_out)
    build.document = {
        "format": INSTANCE_FORMAT,
        "week": str(week),
        "timezone": tz,
        "slot_minutes": SLOT_MINUTES,
        "volunteers": volunteers,
        "clients": clients,
        "pins": _pins(session, build, schedulable_ids, {r["id"] for c in clients for r in c["requests"]}),
    }
    return build


def _volunteers(session: Session, build: InstanceBuild) -> list[dict]:
    """Active volunteers who may be scheduled all week; the others are named in the notes."""
    volunteers = session.scalars(
        select(Volunteer)
        .where(Volunteer.active.is_(True))
        .order_by(Volunteer.external_id)
        .options(
            selectinload(Volunteer.trainings), selectinload(Volunteer.availability), selectinload(Volunteer.absences)
        )
    ).all()
    docs = []
    for v in volunteers:
        why_not = schedulable(v, build.week)
        if why_not:
            build.notes.append(f"volunteer {v.external_id} ({v.name}) is not scheduled this week: {why_not}")
        else:
            docs.append(volunteer_document(v, build.week, build.timezone))
    return docs


def _clients(
    session: Session,
    build: InstanceBuild,
    schedulable_ids: set[str],
    not_before: datetime | None,
    keep_windows: frozenset[str],
    leave_out: frozenset[str],
) -> list[dict]:
    """Active clients with requests this week, each request expanded to its visits."""
    week, tz = build.week, build.timezone
    first, last = week.bounds(tz)
    previous_by_client: dict[str, set[str]] = defaultdict(set)
    for a in (build.previous or {}).get("assignments", []):
        previous_by_client[a["client"]].add(a["volunteer"])
    unassign = {o.request_key: o for o in _active_overrides(session, "unassign", week)}
    clients = session.scalars(
        select(Client)
        .where(Client.active.is_(True))
        .order_by(Client.external_id)
        .options(
            selectinload(Client.requests),
            selectinload(Client.exclusions).selectinload(Exclusion.volunteer),
            selectinload(Client.away),
            selectinload(Client.care_grades),
        )
    ).all()
    docs = []
    for c in clients:
        requests = [r for r in c.requests if r.active_between(week.monday, week.sunday)]
        if not requests or all(
            request_key(r, k) in leave_out for r in requests for k in range(1, r.visits_per_week + 1)
        ):
            continue
        away = [(a.starts_at, a.ends_at) for a in c.away if a.starts_at < last and a.ends_at > first]
        request_docs = []
        for care_request in requests:
            for k in range(1, care_request.visits_per_week + 1):
                key = request_key(care_request, k)
                if key in leave_out:
                    continue
                holes = list(away)
                if not_before is not None and key not in keep_windows:
                    holes.append((first, not_before))
                windows = request_windows(care_request, week, tz, holes)
                if key in unassign:
                    o = unassign[key]
                    windows, build.blocked[key] = [], [f"unassigned by {o.actor} (override #{o.id}): {o.reason}"]
                elif not windows and care_request.windows:
                    build.blocked[key] = [_no_window_reason(care_request, week, tz, away, not_before)]
                request_docs.append(
                    {
                        "id": key,
                        "duration_min": care_request.duration_min,
                        "priority": care_request.priority,
                        "windows": windows,
                    }
                )
        doc = {
            "id": c.external_id,
            "home": {"lat": c.lat, "lon": c.lon},
            "languages": list(c.languages),
            "dementia": c.dementia,
            "gender_preference": c.gender_preference,
            "max_visits_per_day": c.max_visits_per_day,
            "previous_volunteers": sorted(previous_by_client[c.external_id] & schedulable_ids),
            "excluded_volunteers": sorted(
                {e.volunteer.external_id for e in c.exclusions if e.applies_on(week.monday)} & schedulable_ids
            ),
            "requests": request_docs,
        }
        grade = c.care_grade_on(week.monday)
        if grade is not None:
            doc["care_level"] = grade
        docs.append(doc)
    return docs


def _pins(session: Session, build: InstanceBuild, schedulable_ids: set[str], known_requests: set[str]) -> list[dict]:
    """The week's pin overrides; one that cannot apply any more is named in the notes."""
    pins = []
    for o in _active_overrides(session, "pin", build.week):
        assert o.volunteer is not None  # a pin names its volunteer
        where = f"pin override #{o.id} ({o.request_key} → {o.volunteer.external_id})"
        if o.request_key in build.left_out:
            build.notes.append(f"{where} ignored: the visit has already started or has a recorded outcome")
        elif o.request_key not in known_requests:
            build.notes.append(f"{where} ignored: no such request this week")
        elif o.request_key in build.blocked:
            build.notes.append(f"{where} ignored: {build.blocked[o.request_key][0]}")
        elif o.volunteer.external_id not in schedulable_ids:
            build.notes.append(f"{where} ignored: the volunteer is not scheduled this week")
        else:
            pin = {"request": o.request_key, "volunteer": o.volunteer.external_id}
            if o.starts_at is not None:
                pin["start"] = to_local(o.starts_at, build.timezone).isoformat()
            pins.append(pin)
            build.pin_overrides[o.request_key] = o.id
    return pins


def _no_window_reason(
    care_request: CareRequest,
    week: IsoWeek,
    tz: str,
    away: list[tuple[datetime, datetime]],
    not_before: datetime | None,
) -> str:
    if away and not request_windows(care_request, week, tz, away):
        return "the client is away during every window of this request"
    if not_before is not None:
        when = to_local(not_before, tz).strftime("%a %d %b %H:%M")
        return f"no window left after {when} (too close to plan a new visit)"
    return "no window this week"
