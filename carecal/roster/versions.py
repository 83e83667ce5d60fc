"""Roster weeks and their versions: look up, store a solved roster, publish.

Optimistic locking: a coordinator's command remembers the week's `revision` when it starts
(before a solve that may take a while) and writes only if it is still the same. Every
write raises the revision, and the UPDATE itself says `WHERE revision = <seen>` (SQLAlchemy's
version counter), so two coordinators racing each other cannot both win on any backend.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from carecal import audit, clock, lifecycle, organisation, periods
from carecal.errors import Conflict, InputError, NotFound
from carecal.instance import InstanceBuild, care_request_id_of
from carecal.models import (
    CareRequest,
    Client,
    RosterVersion,
    RosterWeek,
    UnassignedRequest,
    Visit,
    Volunteer,
)
from carecal.weeks import IsoWeek, to_local


def find_week(session: Session, week: IsoWeek) -> RosterWeek | None:
    return session.scalars(select(RosterWeek).where(RosterWeek.week == str(week))).one_or_none()


def revision_of(session: Session, week: IsoWeek) -> int:
    """The week's revision now; 0 for a week that has no roster yet."""
    found = find_week(session, week)
    return found.revision if found else 0


def get_version(
    session: Session, week: IsoWeek, number: int | None = None, *, published: bool = False
) -> RosterVersion:
    """Version `number` of the week, else the published one (published=True), else the latest."""
    roster_week = find_week(session, week)
    if roster_week is None or not roster_week.versions:
        raise NotFound(f"week {week} has no roster yet: run `carecal roster plan --week {week}`")
    if number is not None:
        for version in roster_week.versions:
            if version.number == number:
                return version
        raise NotFound(
            f"week {week} has no version {number} (versions: {', '.join(str(v.number) for v in roster_week.versions)})"
        )
    if published:
        if roster_week.published is None:
            raise NotFound(f"week {week} has no published version yet: run `carecal roster publish --week {week}`")
        return roster_week.published
    return roster_week.versions[-1]


def _stale(week: IsoWeek, roster_week: RosterWeek | None, seen: int, what: str) -> Conflict:
    latest = roster_week.latest if roster_week else None
    by = f": version {latest.number} ({latest.status}) by {latest.created_by}" if latest else ""
    return Conflict(
        f"week {week} changed while you were {what}{by}. Nothing was saved; "
        f"look at it (`carecal roster show --week {week}`) and try again"
    )


def lock_week(session: Session, week: IsoWeek, seen_revision: int, what: str) -> RosterWeek:
    """The week for writing, refusing when its revision is no longer `seen_revision`.
    Bumping the revision here makes the commit fail for whoever comes second."""
    roster_week = find_week(session, week)
    current = roster_week.revision if roster_week else 0
    if current != seen_revision:
        raise _stale(week, roster_week, seen_revision, what)
    if roster_week is None:
        roster_week = RosterWeek(week=str(week), revision=1)
        session.add(roster_week)
    else:
        roster_week.revision = current + 1
    flush_or_conflict(session, week, what)  # claim the week now: a racing colleague waits or fails here
    return roster_week


def flush_or_conflict(session: Session, week: IsoWeek, what: str) -> None:
    """Flush now so that a colleague's concurrent write shows up as a Conflict, not a crash."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and "locked" not in str(error).lower():
            raise
        session.rollback()
        raise Conflict(
            f"week {week} was changed by someone else while you were {what}. "
            f"Nothing was saved; look at it (`carecal roster show --week {week}`) and try again"
        ) from None


@dataclass
class SolvedWeek:
    """What a plan or replan produced, ready to store."""

    build: InstanceBuild
    roster: dict
    seen_revision: int
    based_on: int | None = None
    hold: tuple[str, ...] = ()
    read_at: datetime = field(default_factory=clock.now)  # when the database was read for this solve
    base: dict | None = None  # the version a replan repairs, as carecal-roster/1
    # visits carried over as they are, never re-planned: what has started or has an outcome
    # (carecal.lifecycle), and what a replan's base version cancelled
    kept: tuple[Visit, ...] = ()


def store_version(session: Session, solved: SolvedWeek, actor: str) -> RosterVersion:
    """Store the solved roster as the week's next draft version, in the caller's transaction."""
    week = solved.build.week
    what = "replanning" if solved.based_on else "planning"
    lifecycle.ensure_week_not_over(week, solved.build.timezone, "replanned" if solved.based_on else "planned")
    roster_week = lock_week(session, week, solved.seen_revision, what)
    number = (roster_week.versions[-1].number if roster_week.versions else 0) + 1
    doc = solved.roster
    volunteers = _by_external_id(session, Volunteer, {a["volunteer"] for a in doc["assignments"]})
    clients = _by_external_id(session, Client, {a["client"] for a in doc["assignments"] + doc["unassigned"]})
    requests = _by_external_id(
        session, CareRequest, {care_request_id_of(a["request"]) for a in doc["assignments"] + doc["unassigned"]}
    )
    pinned = {p["request"] for p in solved.build.document.get("pins", [])}
    held = set(solved.hold)
    assigned = {a["request"] for a in doc["assignments"]}
    # held, not kept, and not closed by the coordinator (unassign, client away): offer it
    needs_substitute = sorted(held - assigned - solved.build.blocked.keys())

    version = RosterVersion(
        roster_week=roster_week,
        number=number,
        status="draft",
        based_on=solved.based_on,
        created_by=actor,
        solver_status=doc["status"],
        instance=solved.build.document,
        stats={
            "solver": doc.get("stats", {}),
            "notes": solved.build.notes,
            "needs_substitute": needs_substitute,
            "hold": sorted(held),
            "pin_overrides": solved.build.pin_overrides,
            "previous_week": solved.build.previous["week"] if solved.build.previous else None,
            # history carried over as it was, outside the solve (carecal.lifecycle)
            "kept": sorted(v.request_key for v in solved.kept),
            "kept_minutes": solved.build.minutes_used,
        },
    )
    session.add(version)
    for a in doc["assignments"]:
        version.visits.append(
            Visit(
                request_key=a["request"],
                care_request=requests[care_request_id_of(a["request"])],
                client=clients[a["client"]],
                volunteer=volunteers[a["volunteer"]],
                starts_at=datetime.fromisoformat(a["start"]),
                ends_at=datetime.fromisoformat(a["end"]),
                status="planned",
                pinned=a["request"] in pinned,
            )
        )
    for old in solved.kept:
        version.visits.append(
            Visit(
                request_key=old.request_key,
                care_request_id=old.care_request_id,
                client_id=old.client_id,
                volunteer_id=old.volunteer_id,
                starts_at=old.starts_at,
                ends_at=old.ends_at,
                status=old.status,
                pinned=old.pinned,
            )
        )
    carried = {old.request_key for old in solved.kept}
    for u in doc["unassigned"]:
        if u["request"] in carried:
            continue
        reasons = solved.build.blocked.get(u["request"]) or list(u["reasons"])
        if u["request"] in needs_substitute:
            reasons = [
                "needs a substitute: starts within 48 hours and its volunteer can no longer come; "
                "offer it (`carecal roster suggest`), it is not reassigned automatically"
            ]
        version.unassigned.append(
            UnassignedRequest(
                request_key=u["request"],
                care_request_id=requests[care_request_id_of(u["request"])].id,
                client=clients[u["client"]],
                reasons=reasons,
            )
        )
    flush_or_conflict(session, week, what)
    covered = len(doc["assignments"])
    audit.record(
        session,
        actor,
        "roster.replan" if solved.based_on else "roster.plan",
        object_type="roster_version",
        object_id=f"{week}/v{number}",
        week=str(week),
        version=number,
        based_on=solved.based_on,
        covered=covered,
        requests=covered + len(doc["unassigned"]),
        needs_substitute=needs_substitute,
        solver_status=doc["status"],
    )
    return version


def _by_external_id(session: Session, model, ids: set[str]) -> dict:
    if not ids:
        return {}
    rows = session.scalars(select(model).where(model.external_id.in_(ids))).all()
    found = {r.external_id: r for r in rows}
    missing = ids - found.keys()
    if missing:
        raise InputError(f"the roster names unknown {model.__tablename__} ids: {', '.join(sorted(missing))}")
    return found


def publish(session: Session, week: IsoWeek, actor: str, number: int | None = None) -> RosterVersion:
    """Publish version `number` (default: the latest). Refuses when a newer version exists
    than the one the coordinator names: they have not seen it. A week that is over, and a
    version that would change what already happened, are refused (carecal.lifecycle)."""
    tz = organisation.timezone(session)
    lifecycle.ensure_week_not_over(week, tz, "published")
    version = get_version(session, week, number)
    roster_week = version.roster_week
    latest = roster_week.versions[-1]
    if latest.number != version.number:
        raise Conflict(
            f"week {week} has a newer version {latest.number} ({latest.status}, by "
            f"{latest.created_by}) than version {version.number}; look at it "
            f"(`carecal roster diff --week {week} --from {version.number} --to {latest.number}`) "
            f"and publish the one you mean"
        )
    if version.status == "published":
        raise Conflict(f"version {version.number} of week {week} is already published (by {version.published_by})")
    lifecycle.ensure_publish_keeps_history(session, week, version, tz)
    lock_week(session, week, roster_week.revision, "publishing")
    previous = roster_week.published
    refuse_changes_in_closed_months(session, week, previous, version)
    if previous is not None:
        previous.status = "superseded"
        session.flush()  # one published version per week, at every moment (a unique index)
    version.status = "published"
    version.published_by = actor
    version.published_at = clock.now()
    flush_or_conflict(session, week, "publishing")
    audit.record(
        session,
        actor,
        "roster.publish",
        object_type="roster_version",
        object_id=f"{week}/v{version.number}",
        week=str(week),
        version=version.number,
        superseded=previous.number if previous is not None else None,
    )
    return version


def refuse_changes_in_closed_months(
    session: Session, week: IsoWeek, previous: RosterVersion | None, version: RosterVersion
) -> None:
    """A billed and closed month is never rewritten (§147 AO): publishing a version that moves,
    adds or drops a visit dated in such a month is refused; corrections go by credit note."""
    if previous is None:
        return
    tz = organisation.timezone(session)
    before = {v.request_key: v for v in previous.visits}
    after = {v.request_key: v for v in version.visits}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if _visit_facts(old) == _visit_facts(new):
            continue
        for visit in (old, new):
            if visit is not None:
                periods.ensure_open(
                    session, to_local(visit.starts_at, tz).date(), f"publishing week {week} would change visit {key}"
                )


def _visit_facts(visit: Visit | None) -> tuple | None:
    if visit is None:
        return None
    return visit.volunteer_id, visit.starts_at, visit.ends_at, visit.status


def load_by_volunteer(version: RosterVersion) -> dict[str, int]:
    """volunteer external id -> planned minutes in this version."""
    minutes: Counter[str] = Counter()
    for visit in version.visits:
        if visit.status == "planned":
            minutes[visit.volunteer.external_id] += int((visit.ends_at - visit.starts_at).total_seconds() // 60)
    return dict(minutes)
