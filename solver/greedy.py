"""A fast constructive roster: the warm start every solve begins from.

Requests are taken most valuable and most constrained first (priority, then fewest
candidate volunteers, then longest); each goes to the first candidate that still fits, tried
in order of continuity (a volunteer the client knows, one already visiting them this week),
then distance; starts are tried at last week's time first, then earliest first (packing a
volunteer's day from the morning leaves room for more visits).
"""

from __future__ import annotations

from collections.abc import Iterable

from solver.candidates import Candidates
from solver.objective import Preferences
from solver.rules import booked, clear_starts, day_allows, weekly_minutes_allow
from solver.schedule import Schedule


def greedy_fill(
    schedule: Schedule,
    prefs: Preferences,
    requests: Iterable[int],
    volunteers: set[int] | None = None,
    shares: dict[int, dict[int, float]] | None = None,
) -> Schedule:
    """Assign as many of `requests` as fit into `schedule` (changed in place and returned).
    `shares`: the week's LP solution (solver.bounds); after the faces a client knows or sees,
    a request goes to the volunteer the LP gives most of it."""
    inst, cands = schedule.inst, schedule.cands
    todo = [r for r in requests if r not in schedule.assigned and cands.volunteers_of[r]]
    todo.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]), -inst.requests[r].duration, r))
    # First what can stay as last week: a volunteer the client knows, at last week's weekday/time.
    for r in todo:
        c = inst.requests[r].client
        known, usual = prefs.volunteers[c], prefs.starts[c]
        if not (known and usual):
            continue
        for v in cands.volunteers_of[r]:
            if v in known and (volunteers is None or v in volunteers):
                start = first_fit(schedule, r, v, usual)
                if start is not None and start in usual:
                    schedule.add(r, v, start)
                    break
    for r in todo:
        if r in schedule.assigned:
            continue
        c = inst.requests[r].client
        known, usual = prefs.volunteers[c], prefs.starts[c]
        serving = schedule.volunteers_of_client(c)
        vols = [v for v in cands.volunteers_of[r] if volunteers is None or v in volunteers]
        advised = shares.get(r, {}) if shares else {}
        vols.sort(key=lambda v: (v not in known, v not in serving, -advised.get(v, 0.0)))  # stable: nearest first
        for v in vols:
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                break
    return schedule


def first_fit(schedule: Schedule, r: int, v: int, usual: frozenset[int]) -> int | None:
    """The start at which v can take r now (rules 6-8 and 10 with the visits in `schedule`): last
    week's time if possible, else the earliest. The hot loop of the greedy and the ejection
    search: it asks solver.rules' one-visit checks directly rather than Schedule.conflict."""
    inst, cands = schedule.inst, schedule.cands
    request, volunteer = inst.requests[r], inst.volunteers[v]
    duration, c = request.duration, request.client
    if r in schedule.assigned or not weekly_minutes_allow(schedule.minutes[v], duration, volunteer):
        return None
    own = schedule.client_visits.get(c, ())
    client_cap, client_day = inst.clients[c].max_visits_per_day, schedule.client_day
    found = None
    for o in cands.options_for(r, v):
        same_day = schedule.visits.get((v, o.day), ())
        if not (
            day_allows(len(same_day), volunteer.max_visits_per_day)
            and day_allows(client_day.get((c, o.day), 0), client_cap)
        ):
            continue  # rules 7 and 10
        for s in clear_starts(o.starts, duration, booked(cands.travel, v, c, same_day), own):
            if not usual or s in usual:
                return s
            if found is None:
                found = s
    return found


def greedy(cands: Candidates, prefs: Preferences, fixed: dict[int, tuple[int, int]]) -> Schedule:
    """A complete roster: `fixed` (pins, kept visits) first, then everything else that fits."""
    schedule = Schedule.holding(cands.inst, cands, fixed)
    return greedy_fill(schedule, prefs, range(len(cands.inst.requests)))
