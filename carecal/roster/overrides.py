"""The coordinator's overrides: pin, forbid, absence, client away, unassign; list and remove.

Each override is a row with author and reason plus an audit event, written in the caller's
transaction; absences, clients away and exclusions it implies are ordinary rows linked to
it (override_id), so every later instance build honours them without special cases.
Removing an override keeps its row (removed_at/by) and deletes only what it implied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import solver
from carecal import audit, clock, lookup, organisation
from carecal.errors import InputError, NotFound
from carecal.instance import build_instance, care_request_id_of
from carecal.models import Absence, CareRequest, ClientAway, Exclusion, Override
from carecal.weeks import DAY_CODES, IsoWeek, local, parse_hhmm, to_local


@dataclass
class Created:
    override: Override
    warnings: list[str] = field(default_factory=list)


def _store(
    session: Session, override: Override, make_linked: Callable[[int], object] | None = None, **payload
) -> Override:
    """Save an override with the row it creates (an absence, an exclusion ...; made from the
    override's id once it has one) and its audit event, all in the caller's transaction."""
    session.add(override)
    session.flush()
    if make_linked is not None:
        session.add(make_linked(override.id))
    audit.record(
        session,
        override.actor,
        f"roster.override.{override.kind}",
        object_type="override",
        object_id=override.id,
        reason=override.reason,
        **payload,
    )
    return override


def _require_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InputError("an override needs a reason (--reason): the audit log must say why")
    return reason.strip()


# --------------------------------------------------------------------------- parsing


def parse_moment(text: str, tz: str, *, end: bool = False) -> datetime:
    """'2026-11-23', '2026-11-23 14:00', '2026-11-23T14:00' or ISO 8601 with offset -> aware.
    A bare date means the start of that day, or as an end (`end=True`) the end of it; an ISO
    week date ('2026-W48-1': Monday of 2026-W48, '2026-W48-7': its Sunday) is a bare date."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-(\d{2}-\d{2}|W\d{2}-[1-7])", text):
            day = date.fromisoformat(text)
            return local(day + timedelta(days=1) if end else day, time(0), tz)
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise InputError(
            f"{text!r} is not a date or date and time like 2026-11-23, 2026-11-23 14:00 or 2026-W48-1"
        ) from None
    if moment.tzinfo is None:
        return local(moment.date(), moment.time(), tz)
    return moment


def parse_week_start(text: str, week: IsoWeek, tz: str) -> datetime:
    """'tue 14:00' -> that instant in `week`."""
    parts = text.lower().split()
    if len(parts) != 2 or parts[0][:3] not in DAY_CODES:
        raise InputError(f"start {text!r} is not a weekday and time like 'tue 14:00'")
    return local(week.day(parts[0][:3]), parse_hhmm(parts[1]), tz)


def _period(start_text: str, end_text: str, tz: str) -> tuple[datetime, datetime]:
    start, end = parse_moment(start_text, tz), parse_moment(end_text, tz, end=True)
    if end <= start:
        raise InputError(f"the period ends ({end_text}) before it starts ({start_text})")
    return start, end


# --------------------------------------------------------------------------- pin


def _windows_text(windows: list[dict]) -> str:
    return ", ".join(f"{w['day'].capitalize()} {w['from']}–{w['to']}" for w in windows) or "none"


def pin(
    session: Session,
    week: IsoWeek,
    request: str,
    volunteer_id: str,
    *,
    reason: str,
    actor: str,
    start: str | None = None,
) -> Created:
    """Pin REQUEST to VOLUNTEER (at START) for the week. Refused when it cannot happen in
    time; allowed with warnings when it breaks a matching rule."""
    reason = _require_reason(reason)
    tz = organisation.timezone(session)
    volunteer = lookup.volunteer(session, volunteer_id)
    starts_at = parse_week_start(start, week, tz) if start else None
    build = build_instance(session, week)
    client_doc = next((c for c in build.document["clients"] if any(r["id"] == request for r in c["requests"])), None)
    if client_doc is None:
        raise NotFound(
            f"no request {request!r} in week {week} (keys look like c017-2#1: care request and visit number)"
        )
    volunteer_doc = next((v for v in build.document["volunteers"] if v["id"] == volunteer_id), None)
    if volunteer_doc is None:
        why = next(
            (n.split(": ", 1)[1] for n in build.notes if n.startswith(f"volunteer {volunteer_id} ")), "not active"
        )
        raise InputError(
            f"cannot pin {request} to {volunteer_id}: the volunteer may not be scheduled in {week} ({why})"
        )
    if request in build.blocked:
        raise InputError(f"cannot pin {request}: {build.blocked[request][0]}")

    # Impossible in time? The solver's own pin check says, with the reason.
    document = dict(build.document)
    new_pin = {"request": request, "volunteer": volunteer_id}
    if starts_at is not None:
        new_pin["start"] = to_local(starts_at, tz).isoformat()
    document["pins"] = [p for p in document["pins"] if p["request"] != request] + [new_pin]
    try:
        parsed = solver.load_instance(document)
        solver.place_pins(parsed)
    except solver.InstanceError as error:
        index = len(document["pins"]) - 1
        mine = [reason for path, reason in error.errors if path.startswith(f"$.pins[{index}]")] or [
            reason for _, reason in error.errors
        ]
        request_doc = next(r for r in client_doc["requests"] if r["id"] == request)
        mine.append(
            f"the request's windows: {_windows_text(request_doc['windows'])}; "
            f"{volunteer_id} is available {_windows_text(volunteer_doc['availability'])}"
            + (f", absent {len(volunteer_doc['absences'])} time(s) this week" if volunteer_doc["absences"] else "")
        )
        raise InputError(f"cannot pin {request} to {volunteer_id} in {week}", mine) from None

    # rules 1-4 (docs/format.md) a pin may break: allowed, but the coordinator should know;
    # the solver's one check, worded without the health fact behind a rule
    warnings = solver.pairing_breaks(parsed, client_doc["id"], volunteer_id)
    replaced = session.scalars(
        select(Override).where(
            Override.kind == "pin",
            Override.week == str(week),
            Override.request_key == request,
            Override.removed_at.is_(None),
        )
    ).all()
    for old in replaced:
        _mark_removed(old, actor)
    override = Override(
        kind="pin",
        week=str(week),
        request_key=request,
        volunteer=volunteer,
        client=lookup.client(session, client_doc["id"]),
        starts_at=starts_at,
        reason=reason,
        actor=actor,
    )
    _store(
        session,
        override,
        week=str(week),
        request=request,
        volunteer=volunteer_id,
        start=starts_at,
        warnings=warnings,
        replaces=[o.id for o in replaced],
    )
    return Created(override, warnings)


# --------------------------------------------------------------------------- the others


def forbid(
    session: Session, client_id: str, volunteer_id: str, *, reason: str, actor: str, until: date | None = None
) -> Created:
    """VOLUNTEER must not visit CLIENT (until a date). Allowed with a warning where a pin
    of the coordinator's says the opposite: the pin wins in its week, as a pin may break
    an exclusion, so the warning says which one to remove."""
    reason = _require_reason(reason)
    client, volunteer = lookup.client(session, client_id), lookup.volunteer(session, volunteer_id)
    today = organisation.today(session)
    contradicting = [
        pin
        for pin in session.scalars(
            select(Override)
            .where(
                Override.kind == "pin",
                Override.removed_at.is_(None),
                Override.client_id == client.id,
                Override.volunteer_id == volunteer.id,
            )
            .order_by(Override.id)
        )
        if pin.week is not None
        and IsoWeek.parse(pin.week).sunday >= today
        and (until is None or IsoWeek.parse(pin.week).monday <= until)
    ]
    override = Override(kind="forbid", client=client, volunteer=volunteer, until=until, reason=reason, actor=actor)
    _store(
        session,
        override,
        lambda id: Exclusion(client=client, volunteer=volunteer, kind="coordinator", until=until, override_id=id),
        client=client_id,
        volunteer=volunteer_id,
        until=until,
        contradicts=[pin.id for pin in contradicting],
    )
    warnings = [
        f"pin override #{pin.id} ({pin.request_key} → {volunteer_id}, {pin.week}) says the opposite and wins in "
        f"that week; remove it (`carecal override remove {pin.id}`) for this forbid to hold there"
        for pin in contradicting
    ]
    return Created(override, warnings)


def _refuse_overlap(rows, starts_at: datetime, ends_at: datetime, who: str, what: str, tz: str) -> None:
    """One period per person at a time: a second absence (or stay away) that overlaps one on
    file is refused, naming it, so that removing one never leaves half of the other."""
    for row in rows:
        if row.starts_at < ends_at and row.ends_at > starts_at:
            lo, hi = to_local(row.starts_at, tz), to_local(row.ends_at, tz)
            source = f"override #{row.override_id}" if row.override_id else "the master data"
            fix = (
                f"remove it first (`carecal override remove {row.override_id}`) and record the whole period"
                if row.override_id
                else "give a period that does not overlap it"
            )
            raise InputError(
                f"{who} is already {what} {lo:%a %d %b %Y %H:%M} – {hi:%a %d %b %Y %H:%M} ({source}): {fix}"
            )


def absence(session: Session, volunteer_id: str, start: str, end: str, *, reason: str, actor: str) -> Created:
    reason = _require_reason(reason)
    volunteer = lookup.volunteer(session, volunteer_id)
    tz = organisation.timezone(session)
    starts_at, ends_at = _period(start, end, tz)
    _refuse_overlap(volunteer.absences, starts_at, ends_at, volunteer_id, "absent", tz)
    override = Override(
        kind="absence", volunteer=volunteer, starts_at=starts_at, ends_at=ends_at, reason=reason, actor=actor
    )
    _store(
        session,
        override,
        lambda id: Absence(volunteer=volunteer, starts_at=starts_at, ends_at=ends_at, note=reason, override_id=id),
        volunteer=volunteer_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    return Created(override)


def client_away(session: Session, client_id: str, start: str, end: str, *, reason: str, actor: str) -> Created:
    reason = _require_reason(reason)
    client = lookup.client(session, client_id)
    tz = organisation.timezone(session)
    starts_at, ends_at = _period(start, end, tz)
    _refuse_overlap(client.away, starts_at, ends_at, client_id, "away", tz)
    override = Override(
        kind="client_away", client=client, starts_at=starts_at, ends_at=ends_at, reason=reason, actor=actor
    )
    _store(
        session,
        override,
        lambda id: ClientAway(client=client, starts_at=starts_at, ends_at=ends_at, override_id=id),
        client=client_id,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    return Created(override)


def unassign(session: Session, week: IsoWeek, request: str, *, reason: str, actor: str) -> Created:
    """Keep REQUEST uncovered this week (e.g. the family cancelled it)."""
    reason = _require_reason(reason)
    care_request = session.scalars(
        select(CareRequest).where(CareRequest.external_id == care_request_id_of(request))
    ).one_or_none()
    number = request.rsplit("#", 1)[1] if "#" in request else ""
    if care_request is None or not number.isdigit() or not 1 <= int(number) <= care_request.visits_per_week:
        raise NotFound(f"no request {request!r} (keys look like c017-2#1: care request and visit number)")
    override = Override(
        kind="unassign",
        week=str(week),
        request_key=request,
        client_id=care_request.client_id,
        reason=reason,
        actor=actor,
    )
    _store(session, override, week=str(week), request=request)
    return Created(override)


def _mark_removed(override: Override, actor: str) -> None:
    override.removed_at = clock.now()
    override.removed_by = actor


def remove(session: Session, override_id: int, *, actor: str, reason: str | None = None) -> Override:
    override = session.get(Override, override_id)
    if override is None:
        raise NotFound(f"no override #{override_id}")
    if override.removed_at is not None:
        raise InputError(f"override #{override_id} was already removed by {override.removed_by}")
    _mark_removed(override, actor)
    for model in (Absence, ClientAway, Exclusion):
        for row in session.scalars(select(model).where(model.override_id == override.id)):
            session.delete(row)
    session.flush()
    # Collections already loaded in this session still hold the deleted rows: reload them.
    if override.volunteer is not None:
        session.expire(override.volunteer, ["absences", "exclusions"])
    if override.client is not None:
        session.expire(override.client, ["away", "exclusions"])
    audit.record(
        session,
        actor,
        "roster.override.remove",
        object_type="override",
        object_id=override.id,
        kind=override.kind,
        reason=reason,
    )
    return override


def list_overrides(
    session: Session, week: IsoWeek | None = None, *, tz: str | None = None, include_removed: bool = False
) -> list[Override]:
    """Overrides, newest last; with `week`, those that touch that week."""
    query = select(Override).order_by(Override.id)
    if not include_removed:
        query = query.where(Override.removed_at.is_(None))
    if week is not None:
        first, last = week.bounds(tz or organisation.timezone(session))
        query = query.where(
            or_(
                Override.week == str(week),
                (Override.kind == "forbid") & (or_(Override.until.is_(None), Override.until >= week.monday)),
                Override.kind.in_(("absence", "client_away"))
                & (Override.starts_at < last)
                & (Override.ends_at > first),
            )
        )
    return list(session.scalars(query))


def changed_since(session: Session, week: IsoWeek, moment: datetime) -> list[Override]:
    """Overrides touching `week` that were made or removed after `moment`: a plan that read
    the database before then did not see them."""
    return [
        o
        for o in list_overrides(session, week, include_removed=True)
        if o.created_at > moment or (o.removed_at is not None and o.removed_at > moment)
    ]


def describe(override: Override, tz: str) -> str:
    """One line in a coordinator's words (no health data: overrides hold none)."""

    def period(start: datetime, end: datetime) -> str:
        lo, hi = to_local(start, tz), to_local(end, tz)
        if lo.time() == hi.time() == time(0):  # whole days: name the last day, not the midnight after it
            hi -= timedelta(days=1)
            return f"{lo:%a %d %b}" + ("" if hi.date() == lo.date() else f" – {hi:%a %d %b %Y}")
        return f"{lo:%a %d %b %H:%M} – {hi:%a %d %b %Y %H:%M}"

    v = override.volunteer.external_id if override.volunteer else None
    c = override.client.external_id if override.client else None
    match override.kind:
        case "pin":
            at = f" at {to_local(override.starts_at, tz):%a %d %b %H:%M}" if override.starts_at else ""
            return f"pin {override.request_key} → {v}{at} ({override.week})"
        case "forbid":
            until = f" until {override.until.isoformat()}" if override.until else ""
            return f"forbid {v} for {c}{until}"
        case "absence" | "client_away":
            assert override.starts_at is not None and override.ends_at is not None  # both have a period
            who = f"{v} absent" if override.kind == "absence" else f"{c} away"
            return f"{who} {period(override.starts_at, override.ends_at)}"
        case _:
            return f"unassign {override.request_key} ({override.week})"
