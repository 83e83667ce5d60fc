"""Why a request stays uncovered, in words a coordinator can act on, and `explain`.

Each volunteer is checked against the request rule by rule: rules 1-4 (who they are and
where they live, solver.matching), rule 5 (when they are free), then rules 6-8 and 10
against the roster as it stands (booked, travelling, weekly minutes, visits a day, the
client's other visits and visits that day).
The reasons summarise what stands in the way, naming the nearest near-misses.
"""

from __future__ import annotations

from typing import Any

from solver.candidates import Candidates, feasible_starts
from solver.clock import DAYS
from solver.instance import Instance, InstanceError
from solver.matching import GENDER_WORD, matching_breaks
from solver.rules import Conflict
from solver.schedule import Schedule

NEAREST = 3  # how many near-misses a reason names


def _km(x: float) -> str:
    return f"{x:.1f} km"


def _ids(inst: Instance, vols: list[int]) -> str:
    shown = ", ".join(inst.volunteers[v].id for v in vols[:NEAREST])
    return shown + (f" and {len(vols) - NEAREST} more" if len(vols) > NEAREST else "")


def _windows(inst: Instance, r: int) -> str:
    return ", ".join(w.label for w in inst.requests[r].windows) or "no window"


def volunteer_breaks(cands: Candidates, schedule: Schedule | None, r: int, v: int) -> list[str]:
    """Every rule volunteer v breaks for request r (empty: v could take it now). `schedule`
    is the roster without r (see `without`)."""
    inst = cands.inst
    request, volunteer = inst.requests[r], inst.volunteers[v]
    client = inst.clients[request.client]
    pin = inst.pin_of.get(r)
    breaks = [] if pin and pin.volunteer == v else [str(b) for b in matching_breaks(inst, client, volunteer)]
    if pin and pin.volunteer != v:
        breaks.append(f"rule 9: the request is pinned to {inst.volunteers[pin.volunteer].id}")
    if request.duration > volunteer.max_minutes_per_week:
        breaks.append(
            f"rule 7: the {request.duration}-minute visit exceeds {volunteer.max_minutes_per_week} weekly minutes"
        )
        return breaks
    starts = feasible_starts(inst, request, volunteer)
    if not starts:
        free_days = {a.day for a in volunteer.availability}
        if not any(w.day in free_days for w in request.windows):
            breaks.append(f"rule 5: not available on {', '.join(DAYS[w.day].capitalize() for w in request.windows)}")
        else:
            breaks.append(
                f"rule 5: no {request.duration}-minute stretch inside both the request's windows "
                "and their availability (or absent then)"
            )
        return breaks
    if schedule is not None:
        blocked = roster_block(schedule, r, v, [(day, s) for day, day_starts in starts.items() for s in day_starts])
        if blocked:
            breaks.append(str(blocked))
    return breaks


def roster_block(schedule: Schedule, r: int, v: int, starts: list[tuple[int, int]]) -> Conflict | None:
    """Which of rules 6-8 and 10 keeps v from taking r at any of `starts` (day, start) in the
    roster as it stands: the conflict that blocks most starts (None: v could take it)."""
    counts: dict[Conflict, int] = {}
    for _, s in starts:
        why = schedule.conflict(r, v, s)
        if why is None:
            return None
        counts[why] = counts.get(why, 0) + 1
    return max(counts, key=lambda c: (counts[c], str(c))) if counts else None


def unassigned_reasons(cands: Candidates, schedule: Schedule, r: int) -> list[str]:
    """Why request r is not in `schedule`, in one or two sentences a coordinator can act on."""
    inst = cands.inst
    request = inst.requests[r]
    client = inst.clients[request.client]
    matching = cands.volunteers_of[r]  # rules 1-4, nearest first
    if not matching:
        vols = sorted(range(len(inst.volunteers)), key=lambda v: (cands.dist_vc(v, client.index), v))
        static = {v: [str(b) for b in matching_breaks(inst, client, inst.volunteers[v])] for v in vols}
        fine = [v for v in vols if not static[v]]
        if fine:  # they pass rules 1-4 but cannot take a visit this long at all
            return [
                f"{len(fine)} volunteer(s) match ({_ids(inst, fine)}), but none can take a "
                f"{request.duration}-minute visit this week (weekly minutes or visits per day)"
            ]
        return _static_reasons(cands, r, vols, static)
    available = [v for v in matching if cands.options_for(r, v)]
    if not available:
        return [
            f"{len(matching)} volunteer(s) match ({_ids(inst, matching)}), but none is free for "
            f"{request.duration} minutes in {_windows(inst, r)}"
        ]
    blocked = {
        v: roster_block(schedule, r, v, [(o.day, s) for o in cands.options_for(r, v) for s in o.starts])
        for v in available
    }
    free_now = [v for v in available if not blocked[v]]
    if free_now:
        return [f"{_ids(inst, free_now)} could still take it; not reached within the time limit"]
    reasons_found = [b for b in blocked.values() if b]
    if reasons_found and all(b.rule == 10 for b in reasons_found):
        return [reasons_found[0].text + f" ({client.max_visits_per_day} a day at most)"]
    if all(b and b.code in ("busy", "visits_that_day") for b in blocked.values()):
        return [f"{len(available)} candidate(s) ({_ids(inst, available)}), all fully booked in {_windows(inst, r)}"]
    details = "; ".join(b.text for b in (blocked[v] for v in available[:NEAREST]) if b)
    more = f" (and {len(available) - NEAREST} more)" if len(available) > NEAREST else ""
    return [f"{len(available)} candidate(s), none can fit it in {_windows(inst, r)}: {details}{more}"]


def _static_reasons(cands: Candidates, r: int, vols: list[int], static: dict[int, list[str]]) -> list[str]:
    """No volunteer passes rules 1-4: say which rule empties the field, with the nearest misses."""
    inst = cands.inst
    client = inst.client_of(r)
    langs = (client.mother_tongue,) if client.dementia else client.languages
    lang_text = " or ".join(langs)
    speakers = [v for v in vols if set(langs) & set(inst.volunteers[v].languages)]
    if not speakers:
        return [f"no volunteer speaks {lang_text}"]
    in_reach = [v for v in speakers if cands.dist_vc(v, client.index) <= inst.volunteers[v].max_km]
    if not in_reach:
        v = speakers[0]
        return [
            f"no volunteer within reach speaks {lang_text} (nearest: {inst.volunteers[v].id} at "
            f"{_km(cands.dist_vc(v, client.index))}, reach {inst.volunteers[v].max_km:g} km)"
        ]
    reasons = []
    if client.dementia and not any(inst.volunteers[v].dementia_trained for v in in_reach):
        reasons.append(
            f"client needs a dementia-trained volunteer; none of the {len(in_reach)} within reach "
            f"who speak {lang_text} is trained ({_ids(inst, in_reach)})"
        )
    wish = client.gender_preference
    if wish and not any(inst.volunteers[v].gender == wish for v in in_reach):
        reasons.append(
            f"client wants a {GENDER_WORD[wish]} volunteer; none of the {len(in_reach)} within reach "
            f"who speak {lang_text} is ({_ids(inst, in_reach)})"
        )
    excluded = [v for v in in_reach if inst.volunteers[v].id in client.excluded_volunteers]
    if excluded and not reasons:
        reasons.append(
            f"the client excluded {_ids(inst, excluded)}; no other volunteer within reach speaks {lang_text}"
        )
    if not reasons:
        near = [v for v in in_reach][:NEAREST]
        reasons.append(
            "every volunteer within reach who speaks "
            + lang_text
            + " breaks a rule: "
            + "; ".join(f"{inst.volunteers[v].id}: {', '.join(static[v])}" for v in near)
        )
    return reasons


def explain_request(cands: Candidates, schedule: Schedule, request_id: str) -> dict[str, Any]:
    inst = cands.inst
    if request_id not in inst.request_index:
        raise InstanceError([("$request", f"unknown request {request_id!r}")])
    r = inst.request_index[request_id]
    request = inst.requests[r]
    client = inst.clients[request.client]
    assigned = schedule.assigned.get(r)
    others = schedule.copy()
    if assigned:
        others.remove(r)  # what stands in each volunteer's way is everything else
    rows = []
    for v in sorted(range(len(inst.volunteers)), key=lambda v: (cands.dist_vc(v, client.index), v)):
        breaks = volunteer_breaks(cands, others, r, v)
        rows.append(
            {
                "volunteer": inst.volunteers[v].id,
                "distance_km": round(cands.dist_vc(v, client.index), 2),
                "breaks": breaks,
                "ok": not breaks,
            }
        )
    result = {
        "request": request.id,
        "client": client.id,
        "duration_min": request.duration,
        "windows": [w.label for w in request.windows],
        "assigned_to": None,
        "candidates": rows,
        "reasons": [] if assigned else unassigned_reasons(cands, schedule, r),
    }
    if assigned:
        v, s = assigned
        result["assigned_to"] = {
            "volunteer": inst.volunteers[v].id,
            "start": inst.clock.iso(s),
            "end": inst.clock.iso(s + request.duration),
        }
    return result
