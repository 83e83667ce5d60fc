"""Insertion with ejection chains: a fast local search between the greedy and CP-SAT.

For an uncovered request r and one of its candidates v: take one visit q out of the way
(one of v's visits on a day r could use, or on any day when v's weekly minutes are what
blocks; or one of the client's own visits on such a day when rule 10 is what blocks), put r
in, then put q back with any of its candidates, possibly ejecting one more (up to `depth`).
The move is kept when q found a place (coverage grows by r's priority) or r weighs more
than q; otherwise everything is put back as it was. Thousands of such moves a second in
plain Python cover ground that a CP-SAT neighbourhood needs a second for; CP-SAT then
finishes what chains cannot reach.
"""

from __future__ import annotations

import time

from solver.greedy import first_fit
from solver.objective import Preferences
from solver.params import SearchParams
from solver.schedule import Schedule


class Budget:
    """Stops a search at a wall-clock deadline, or after so many placement attempts (the
    deterministic measure of work)."""

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
    params: SearchParams,
    deadline: float | None = None,
    attempts: int | None = None,
) -> int:
    """Improve `schedule` in place; returns how many moves were kept. Stops at `deadline`
    (a time.perf_counter() value) or after `attempts` placement attempts, if given; with
    attempts only, the result is deterministic."""
    inst, cands = schedule.inst, schedule.cands
    budget = Budget(deadline, attempts)
    kept = 0
    for _ in range(params.ejection_passes):
        before = kept
        uncovered = [r for r in range(len(inst.requests)) if r not in schedule.assigned and cands.volunteers_of[r]]
        uncovered.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]), r))
        for r in uncovered:
            if budget.spent():
                return kept
            if r in schedule.assigned:
                continue
            if insert(schedule, prefs, r) or _eject_and_insert(schedule, prefs, pinned, r, budget, params):
                kept += 1
        if kept == before:
            break
    return kept


def insert(schedule: Schedule, prefs: Preferences, r: int, volunteers: list[int] | None = None) -> bool:
    """Put r with the first of its candidates (or of `volunteers`) that has room as the roster stands."""
    request = schedule.inst.requests[r]
    usual = prefs.starts[request.client]
    caps, minutes, need = schedule.capacity, schedule.minutes, request.duration
    for v in schedule.cands.volunteers_of[r] if volunteers is None else volunteers:
        if caps[v] - minutes[v] < need:
            continue  # the cheapest test first: most volunteers are full late in the search
        s = first_fit(schedule, r, v, usual)
        if s is not None:
            schedule.add(r, v, s)
            return True
    return False


def victims(schedule: Schedule, pinned: set[int], r: int, v: int) -> list[int]:
    """Visits whose removal could make room for r with v: v's visits on the days r could use
    (any day when v's weekly minutes are what blocks), and the client's own visits on those
    days when the client's day is full (rule 10)."""
    inst = schedule.inst
    days = {o.day for o in schedule.cands.options_for(r, v)}
    if not days:
        return []
    c = inst.requests[r].client
    own_days = {day for day in days if schedule.client_day_full(c, day)}
    if schedule.minutes[v] + inst.requests[r].duration > inst.volunteers[v].max_minutes_per_week:
        days = set(range(7))
    found = {q for day in days for *_, q in schedule.visits.get((v, day), ())}
    found |= {
        q for _, _, q in schedule.client_visits.get(c, ()) if schedule.day_of(schedule.assigned[q][1]) in own_days
    }
    return sorted(q for q in found if q not in pinned)


def _place(
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    r: int,
    depth: int,
    candidates: int,
    moved: set[int],
    budget: Budget,
    params: SearchParams,
) -> bool:
    """Place r, ejecting one visit and placing it in turn (up to `depth` ejections deep).
    On failure the schedule is exactly as before."""
    if insert(schedule, prefs, r):
        return True
    if depth == 0 or budget.spent():
        return False
    inst, cands = schedule.inst, schedule.cands
    usual = prefs.starts[inst.requests[r].client]
    for v in cands.volunteers_of[r][:candidates]:
        for q in victims(schedule, pinned, r, v):
            if q in moved:
                continue
            q_volunteer, q_start = schedule.assigned[q]
            schedule.remove(q)
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                if _place(
                    schedule,
                    prefs,
                    pinned,
                    q,
                    depth - 1,
                    params.ejection_next_candidates,
                    moved | {r, q},
                    budget,
                    params,
                ):
                    return True
                schedule.remove(r)
            schedule.add(q, q_volunteer, q_start)
    return False


def _eject_and_insert(
    schedule: Schedule, prefs: Preferences, pinned: set[int], r: int, budget: Budget, params: SearchParams
) -> bool:
    """Cover r by an ejection chain; failing that, by swapping out one visit that weighs less."""
    if _place(schedule, prefs, pinned, r, params.ejection_depth, params.ejection_candidates, set(), budget, params):
        return True
    inst, cands = schedule.inst, schedule.cands
    request = inst.requests[r]
    usual = prefs.starts[request.client]
    for v in cands.volunteers_of[r][: params.ejection_candidates]:
        for q in victims(schedule, pinned, r, v):
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
