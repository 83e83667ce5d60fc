"""carecal-roster/1 in and out: writing the answer, reading last week's or this week's roster."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from solver.instance import ROSTER_FORMAT, Instance, InstanceError, load_roster_document
from solver.objective import Preferences


def roster_document(
    inst: Instance,
    assigned: dict[int, tuple[int, int]],
    reasons: dict[int, list[str]],
    status: str,
    stats: dict[str, Any],
) -> dict[str, Any]:
    """The roster as docs/format.md says: every request once, in instance order."""
    clock = inst.clock
    assignments, unassigned = [], []
    for request in inst.requests:
        client = inst.clients[request.client].id
        if request.index in assigned:
            v, s = assigned[request.index]
            assignments.append(
                {
                    "request": request.id,
                    "client": client,
                    "volunteer": inst.volunteers[v].id,
                    "start": clock.iso(s),
                    "end": clock.iso(s + request.duration),
                }
            )
        else:
            unassigned.append(
                {"request": request.id, "client": client, "reasons": reasons.get(request.index) or ["not assigned"]}
            )
    return {
        "format": ROSTER_FORMAT,
        "week": inst.week,
        "status": status,
        "assignments": assignments,
        "unassigned": unassigned,
        "stats": stats,
    }


def base_assignments(inst: Instance, doc: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """This week's roster to repair -> request -> (volunteer, start), for what still names known
    requests and volunteers (the rest is simply not kept)."""
    load_roster_document(doc, "$base")
    if doc["week"] != inst.week:
        raise InstanceError([("$base.week", f"roster is for {doc['week']}, the instance for {inst.week}")])
    result: dict[int, tuple[int, int]] = {}
    for a in doc["assignments"]:
        r, v = inst.request_index.get(a["request"]), inst.volunteer_index.get(a["volunteer"])
        if r is None or v is None or r in result:
            continue
        try:
            result[r] = (v, inst.clock.parse_instant(a["start"]))
        except ValueError:
            continue
    return result


def previous_preferences(inst: Instance, doc: dict[str, Any] | None) -> Preferences:
    """Last week's roster -> for each client, the volunteers who came and the weekday/local
    time they came at (as this week's instants on the slot grid)."""
    if doc is None:
        return Preferences.none(inst)
    load_roster_document(doc, "$previous")
    volunteers: dict[int, set[int]] = defaultdict(set)
    starts: dict[int, set[int]] = defaultdict(set)
    grid = set(inst.clock.grid)
    for a in doc["assignments"]:
        c, v = inst.client_index.get(a["client"]), inst.volunteer_index.get(a["volunteer"])
        if c is None:
            continue
        if v is not None:
            volunteers[c].add(v)
        try:
            local = datetime.fromisoformat(a["start"])
        except ValueError:
            continue
        if local.tzinfo is None:
            continue
        local = local.astimezone(inst.clock.tz)
        window = inst.clock.window(local.weekday(), local.strftime("%H:%M"), local.strftime("%H:%M"))
        if window.start in grid:
            starts[c].add(window.start)
    return Preferences.build(inst, volunteers, starts)
