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
    todo = [r for r in requests if r not in schedule.assigned and cands.options[r]]
    todo.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]),
                             -inst.requests[r].duration, r))
    for r in todo:
        c = inst.requests[r].client
        known, usual = prefs.volunteers[c], prefs.starts[c]
        serving = schedule.volunteers_of_client(c)
        options = [o for o in cands.options[r] if volunteers is None or o.volunteer in volunteers]
        options.sort(key=lambda o: (o.volunteer not in known, o.volunteer not in serving,
                                    cands.dist_vc(o.volunteer, c), o.volunteer, o.day))
        for o in options:
            starts = [s for s in o.starts if s in usual] + [s for s in o.starts if s not in usual]
            start = next((s for s in starts if schedule.fits(r, o.volunteer, s)), None)
            if start is not None:
                schedule.add(r, o.volunteer, start)
                break
    return schedule


def greedy(cands: Candidates, prefs: Preferences, fixed: dict[int, tuple[int, int]]) -> Schedule:
    """A complete roster: `fixed` (pins, kept visits) first, then everything else that fits."""
    schedule = Schedule(cands.inst, cands)
    for r, (v, s) in fixed.items():
        schedule.add(r, v, s)
    return greedy_fill(schedule, prefs, range(len(cands.inst.requests)))
