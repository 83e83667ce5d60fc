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
from solver.schedule import Schedule


def greedy_fill(schedule: Schedule, prefs: Preferences, requests: Iterable[int],
                volunteers: set[int] | None = None) -> Schedule:
    """Assign as many of `requests` as fit into `schedule` (changed in place and returned)."""
    inst, cands = schedule.inst, schedule.cands
    todo = [r for r in requests if r not in schedule.assigned and cands.volunteers_of[r]]
    todo.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]),
                             -inst.requests[r].duration, r))
    for r in todo:
        c = inst.requests[r].client
        known, usual = prefs.volunteers[c], prefs.starts[c]
        serving = schedule.volunteers_of_client(c)
        vols = [v for v in cands.volunteers_of[r] if volunteers is None or v in volunteers]
        vols.sort(key=lambda v: (v not in known, v not in serving))   # stable: nearest first within
        for v in vols:
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                break
    return schedule


def first_fit(schedule: Schedule, r: int, v: int, usual: frozenset[int]) -> int | None:
    """The start at which v can take r now: last week's time if possible, else the earliest."""
    volunteer = schedule.inst.volunteers[v]
    if schedule.minutes[v] + schedule.inst.requests[r].duration > volunteer.max_minutes_per_week:
        return None
    for o in schedule.cands.options_for(r, v):
        for s in o.starts:
            if s in usual and schedule.fits(r, v, s):
                return s
    for o in schedule.cands.options_for(r, v):
        for s in o.starts:
            if schedule.fits(r, v, s):
                return s
    return None


def greedy(cands: Candidates, prefs: Preferences, fixed: dict[int, tuple[int, int]]) -> Schedule:
    """A complete roster: `fixed` (pins, kept visits) first, then everything else that fits."""
    schedule = Schedule(cands.inst, cands)
    for r, (v, s) in fixed.items():
        schedule.add(r, v, s)
    return greedy_fill(schedule, prefs, range(len(cands.inst.requests)))
