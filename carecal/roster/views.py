"""What the coordinator looks at, as plain data: a version's visits, the week's versions,
a diff, an explanation, the summary of a stored plan.

Each function returns dicts and lists (JSON-ready, times in the organisation's wall clock);
`carecal roster ...` prints them as a table, JSON or CSV. Nothing here holds health data.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from carecal import lifecycle, lookup, organisation
from carecal.catalogue import label_in
from carecal.errors import NotFound
from carecal.models import RosterVersion
from carecal.roster import advice, overrides, versions
from carecal.roster.diff import Diff, Slot
from carecal.roster.versions import SolvedWeek
from carecal.weeks import IsoWeek, to_local


def visit_rows(
    session: Session, version: RosterVersion, tz: str, *, volunteer: str | None = None, client: str | None = None
) -> list[dict]:
    """The version's visits in time order, one flat row each (the CSV of `roster show`);
    only one volunteer's or one client's with `volunteer` / `client` (external ids).
    `visit` is the id `carecal visit record` takes; `stage` where the visit stands in its
    life (carecal.lifecycle: planned, published, an outcome, billed, closed)."""
    stages = lifecycle.stages(session, version)
    rows = []
    for v in sorted(version.visits, key=lambda v: (v.starts_at, v.request_key)):
        if volunteer and v.volunteer.external_id != volunteer or client and v.client.external_id != client:
            continue
        start, end = to_local(v.starts_at, tz), to_local(v.ends_at, tz)
        stage = stages[v.id]
        rows.append(
            {
                "visit": v.id,
                "request": v.request_key,
                "day": start.strftime("%a"),
                "date": start.date().isoformat(),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
                "volunteer": v.volunteer.external_id,
                "volunteer_name": v.volunteer.name,
                "client": v.client.external_id,
                "client_name": v.client.name,
                "activity": label_in(v.care_request.activity.labels),
                "status": v.status,
                "stage": str(stage),
                "outcome": stage.outcome,
                "invoice": stage.invoice,
                "pinned": v.pinned,
            }
        )
    return rows


def week_view(
    session: Session,
    week: IsoWeek,
    number: int | None = None,
    *,
    volunteer: str | None = None,
    client: str | None = None,
) -> dict:
    """A version of the week (default: the latest): who planned and published it, its
    visits and its uncovered requests with the reasons. One volunteer's view has no
    uncovered requests; one client's has only that client's. An unknown volunteer or
    client id is an error, not an empty roster."""
    if volunteer:
        lookup.volunteer(session, volunteer)
    if client:
        lookup.client(session, client)
    stored = versions.get_version(session, week, number)
    tz = organisation.timezone(session)
    unassigned = [
        {
            "request": u.request_key,
            "client": u.client.external_id,
            "client_name": u.client.name,
            "reasons": list(u.reasons),
        }
        for u in stored.unassigned
        if not volunteer and (not client or u.client.external_id == client)
    ]
    return {
        "week": str(week),
        "version": stored.number,
        "status": stored.status,
        "revision": stored.roster_week.revision,
        "created_by": stored.created_by,
        "published_by": stored.published_by,
        "visits": visit_rows(session, stored, tz, volunteer=volunteer, client=client),
        "unassigned": unassigned,
    }


def version_list(session: Session, week: IsoWeek) -> dict:
    """The week's versions, oldest first: status, origin, who planned and published each
    and when (local time), and how many of its requests it covers."""
    roster_week = versions.find_week(session, week)
    if roster_week is None:
        raise NotFound(f"week {week} has no roster yet: run `carecal roster plan --week {week}`")
    tz = organisation.timezone(session)
    rows = []
    for v in roster_week.versions:
        planned = sum(1 for x in v.visits if x.status == "planned")
        rows.append(
            {
                "version": v.number,
                "status": v.status,
                "based_on": v.based_on,
                "created_by": v.created_by,
                "created_at": to_local(v.created_at, tz),
                "published_by": v.published_by,
                "published_at": to_local(v.published_at, tz) if v.published_at else None,
                "covered": planned,
                "requests": planned + len(v.unassigned),
            }
        )
    return {"week": str(week), "revision": roster_week.revision, "versions": rows}


def _slot(slot: Slot | None, tz: str) -> dict | None:
    if slot is None:
        return None
    return {
        "volunteer": slot.volunteer,
        "start": to_local(slot.starts_at, tz).isoformat(),
        "end": to_local(slot.ends_at, tz).isoformat(),
    }


def diff_document(result: Diff, tz: str) -> dict:
    """A diff as JSON-ready data: each change with its slots before and after (local times)."""
    return {
        "week": str(result.week),
        "from": result.old.number,
        "to": result.new.number,
        "unchanged": result.unchanged,
        "changes": [
            {
                "request": c.request,
                "client": c.client,
                "kind": c.kind,
                "before": _slot(c.before, tz),
                "after": _slot(c.after, tz),
                "why": c.why,
            }
            for c in result.changes
        ],
    }


def explain_document(answer: dict) -> dict:
    """`advice.explain`'s answer as JSON-ready data (the candidates as plain dicts)."""
    return {**answer, "alternatives": [vars(c) for c in answer["alternatives"]]}


def stored_summary(session: Session, version: RosterVersion, prepared: SolvedWeek) -> dict:
    """What the summary after a plan shows of the stored version: its number, its uncovered
    requests as stored (with reasons) and the overrides that changed while the solver ran
    (they are not in this version). Read while the session is open, so the printing can
    happen after the commit."""
    tz = prepared.build.timezone
    missed = overrides.changed_since(session, prepared.build.week, prepared.read_at)
    return {
        "number": version.number,
        "unassigned": [(u.request_key, u.client.external_id, list(u.reasons)) for u in version.unassigned],
        "missed": [
            f"#{o.id} {overrides.describe(o, tz)} ({'removed' if o.removed_at else 'added'} by "
            f"{o.removed_by or o.actor})"
            for o in missed
        ],
    }


def substitutes(version: RosterVersion) -> dict[str, list[advice.Candidate]]:
    """For each visit a replan could not hand over (it starts too soon), the ranked
    volunteers who could take it."""
    needs = (version.stats or {}).get("needs_substitute", [])
    return {request: advice.candidates(version, request)[1] for request in needs}


def override_rows(session: Session, week: IsoWeek | None, *, include_removed: bool = False) -> list[dict]:
    """Overrides (those touching `week`, if given), each described in one line."""
    tz = organisation.timezone(session)
    return [
        {
            "id": o.id,
            "kind": o.kind,
            "what": overrides.describe(o, tz),
            "actor": o.actor,
            "reason": o.reason,
            "removed": o.removed_at is not None,
            "removed_by": o.removed_by,
        }
        for o in overrides.list_overrides(session, week, tz=tz, include_removed=include_removed)
    ]
