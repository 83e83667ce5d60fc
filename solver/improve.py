"""Insertion with one ejection: a fast local search between the greedy and CP-SAT.

For an uncovered request r and one of its candidates v: take one of v's visits q out (on a
day r could use, or any day when v's weekly minutes are what blocks), put r in, then try to
put q back with any of its candidates. The move is kept when q found a place (coverage grows
by r's priority) or r weighs more than q; otherwise everything is put back as it was.
Thousands of such moves a second in plain Python cover ground that a CP-SAT neighbourhood
needs a second for; CP-SAT then finishes what single ejections cannot reach.
"""

from __future__ import annotations

import time

from solver.greedy import first_fit
from solver.objective import Preferences
from solver.schedule import Schedule

CANDIDATES = 30  # of an uncovered request's nearest candidates, how many may make room
NEXT_CANDIDATES = 6  # ... and deeper in the chain
DEPTH = 3  # ejections in a chain
MAX_PASSES = 5


class _Budget:
    """Stops the search at a wall-clock deadline, or after so many placement attempts
    (the deterministic measure of work)."""

    def __init__(self, deadline: float | None, attempts: int | None):
        self.deadline, self.attempts = deadline, attempts

    def spent(self) -> bool:
        if self.attempts is not None:
            self.attempts -= 1
            if self.attempts < 0:
                return True
        return self.deadline is not None and time.perf_counter() > self.deadline


def insert_with_ejection(
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    deadline: float | None = None,
    attempts: int | None = None,
    depth: int = DEPTH,
) -> int:
    """Improve `schedule` in place; returns how many moves were kept. Stops at `deadline`
    (a time.perf_counter() value) or after `attempts` placement attempts, if given; with
    attempts only, the result is deterministic."""
    inst, cands = schedule.inst, schedule.cands
    budget = _Budget(deadline, attempts)
    kept = 0
    for _ in range(MAX_PASSES):
        before = kept
        uncovered = [r for r in range(len(inst.requests)) if r not in schedule.assigned and cands.volunteers_of[r]]
        uncovered.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]), r))
        for r in uncovered:
            if budget.spent():
                return kept
            if r in schedule.assigned:
                continue
            if _insert(schedule, prefs, r) or _eject_and_insert(schedule, prefs, pinned, r, budget, depth):
                kept += 1
        if kept == before:
            break
    return kept


def _insert(schedule: Schedule, prefs: Preferences, r: int) -> bool:
    """Put r with the first of its candidates that has room as the roster stands."""
    request = schedule.inst.requests[r]
    usual = prefs.starts[request.client]
    caps, minutes, need = schedule.capacity, schedule.minutes, request.duration
    for v in schedule.cands.volunteers_of[r]:
        if caps[v] - minutes[v] < need:
            continue  # the cheapest test first: most volunteers are full late in the search
        s = first_fit(schedule, r, v, usual)
        if s is not None:
            schedule.add(r, v, s)
            return True
    return False


def _victims(schedule: Schedule, pinned: set[int], r: int, v: int) -> list[int]:
    """Visits of v whose removal could make room for r: on the days r could use, or on
    any day when v's weekly minutes are what blocks."""
    inst = schedule.inst
    days = {o.day for o in schedule.cands.options_for(r, v)}
    if not days:
        return []
    if schedule.minutes[v] + inst.requests[r].duration > inst.volunteers[v].max_minutes_per_week:
        days = set(range(7))
    return sorted({q for day in days for *_, q in schedule.visits.get((v, day), ()) if q not in pinned})


def _place(
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    r: int,
    depth: int,
    candidates: int,
    moved: set[int],
    budget: _Budget,
) -> bool:
    """Place r, ejecting one visit and placing it in turn (up to `depth` ejections deep).
    On failure the schedule is exactly as before."""
    if _insert(schedule, prefs, r):
        return True
    if depth == 0 or budget.spent():
        return False
    inst, cands = schedule.inst, schedule.cands
    usual = prefs.starts[inst.requests[r].client]
    for v in cands.volunteers_of[r][:candidates]:
        for q in _victims(schedule, pinned, r, v):
            if q in moved:
                continue
            q_volunteer, q_start = schedule.assigned[q]
            schedule.remove(q)
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                if _place(schedule, prefs, pinned, q, depth - 1, NEXT_CANDIDATES, moved | {r, q}, budget):
                    return True
                schedule.remove(r)
            schedule.add(q, q_volunteer, q_start)
    return False


def _eject_and_insert(
    schedule: Schedule, prefs: Preferences, pinned: set[int], r: int, budget: _Budget, depth: int
) -> bool:
    """Cover r by an ejection chain; failing that, by swapping out one visit that weighs less."""
    if _place(schedule, prefs, pinned, r, depth, CANDIDATES, set(), budget):
        return True
    inst, cands = schedule.inst, schedule.cands
    request = inst.requests[r]
    usual = prefs.starts[request.client]
    for v in cands.volunteers_of[r][:CANDIDATES]:
        for q in _victims(schedule, pinned, r, v):
            if inst.requests[q].priority >= request.priority:
                continue
            q_volunteer, q_start = schedule.assigned[q]
            schedule.remove(q)
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                return True
            schedule.add(q, q_volunteer, q_start)
    return False
