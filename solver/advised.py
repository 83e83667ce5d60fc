"""A second start, from the week's LP: the greedy again, but each request goes to the
volunteer the LP's solution gives most of it (after the faces the client knows or already
sees this week).

The greedy fills volunteers nearest first, and on a scarce week that spends the time of
volunteers only a few clients can have on clients many could serve. The LP weighs the whole
week at once. On scarce XL (3,000 clients) the advised start reached 5,095 units of weighted
coverage (5,053 once it keeps the guard, below) against the greedy's 4,879: more than the
greedy plus its ejection chains (4,964).

It must keep the continuity guard (solver.guard) like every roster of the search, and the
LP does not know the guard: the advised roster is first given back to known faces where
coverage allows (improve.continuity_moves), then, while one of the guard's two figures is
still worse than the greedy's, the least valuable visit that worsens it is taken out. On
scarce XL that was 42 of its 2,629 visits. Whatever is left competes with the greedy: the
higher coverage starts the search.
"""

from __future__ import annotations

from solver.candidates import Candidates
from solver.greedy import greedy_fill
from solver.guard import Assignment, Guard, Tally
from solver.improve import Budget, continuity_moves
from solver.objective import Preferences
from solver.schedule import Schedule


def advised_start(
    cands: Candidates,
    prefs: Preferences,
    pins: Assignment,
    shares: dict[int, dict[int, float]],
    guard: Guard | None,
    continuity_attempts: int,
) -> tuple[Schedule, int]:
    """The advised roster (pins held) and how many visits were taken out for the guard."""
    inst, pinned = cands.inst, set(pins)
    start = greedy_fill(Schedule.holding(inst, cands, pins), prefs, range(len(inst.requests)), shares=shares)
    continuity_moves(start, prefs, pinned, Budget(None, continuity_attempts))
    dropped = 0 if guard is None else drop_until_guarded(start, prefs, pinned, guard)
    return start, dropped


def drop_until_guarded(schedule: Schedule, prefs: Preferences, pinned: set[int], guard: Guard) -> int:
    """Take visits out of `schedule` until `guard` allows it; returns how many. While the
    known share is low: a visit by a stranger to a client who knows volunteers; then, while
    clients see too many faces: a client's only visit with a volunteer who is not their
    only one. Lowest priority first, so coverage loses least."""
    inst = schedule.inst
    tally = Tally(inst, prefs, schedule.assigned)
    order = sorted((r for r in schedule.assigned if r not in pinned), key=lambda r: (inst.requests[r].priority, r))
    dropped = 0
    while not guard.allows(tally.counts()):
        share_low = not guard.share_kept(tally.counts())
        worsening = None
        for r in order:
            if r not in schedule.assigned:
                continue
            v, c = schedule.assigned[r][0], inst.requests[r].client
            if share_low:
                hit = bool(prefs.volunteers[c]) and v not in prefs.volunteers[c]
            else:
                hit = tally.pairs[(c, v)] == 1 and tally.per_client[c] > 1
            if hit:
                worsening = r
                break
        if worsening is None:  # only pinned visits, or faces of two visits each, are left to blame:
            break  # the run refuses this roster (solver.run)
        tally.remove(worsening, schedule.assigned[worsening][0])
        schedule.remove(worsening)
        dropped += 1
    return dropped
