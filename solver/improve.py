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
from collections.abc import Callable
from dataclasses import dataclass

from solver.greedy import first_fit
from solver.guard import Guard, Tally
from solver.objective import Preferences
from solver.params import SearchParams
from solver.schedule import Schedule


class Budget:
    """Stops a search at a deadline of `clock` (wall-clock time unless told otherwise), or
    after so many placement attempts (the deterministic measure of work)."""

    def __init__(self, deadline: float | None, attempts: int | None, clock: Callable[[], float] = time.perf_counter):
        self.deadline, self.attempts, self.clock = deadline, attempts, clock
        self.used = 0

    def spent(self) -> bool:
        self.used += 1
        if self.attempts is not None:
            self.attempts -= 1
            if self.attempts < 0:
                return True
        # the clock is read every 64 attempts only: it is the dearest part of a cheap attempt
        return self.deadline is not None and self.used % 64 == 0 and self.clock() > self.deadline


@dataclass
class GuardedMoves:
    """Moves kept by a search, each taken back when it breaks the continuity guard."""

    schedule: Schedule
    guard: Guard | None
    prefs: Preferences
    tally: Tally | None = None
    refused: int = 0

    def __post_init__(self) -> None:
        if self.guard is not None:
            self.tally = Tally(self.schedule.inst, self.prefs, self.schedule.assigned)
            self.schedule.journal = []

    def mark(self) -> int:
        """Where the next move starts; called only when the schedule is as settled (failed
        attempts put everything back, so what the journal holds so far can go)."""
        if self.schedule.journal is not None:
            del self.schedule.journal[:]
        return 0

    def settle(self, mark: int) -> bool:
        """The changes since `mark` stay if they keep the guard; else they are undone. True: kept."""
        journal, tally = self.schedule.journal, self.tally
        if journal is None or tally is None or self.guard is None:
            return True
        changes = journal[mark:]
        for sign, r, v, _ in changes:
            tally.add(r, v, sign)
        if self.guard.allows(tally.counts()):
            del journal[:]
            return True
        for sign, r, v, _ in changes:
            tally.add(r, v, -sign)
        self.schedule.undo(mark)
        self.refused += 1
        return False

    def close(self) -> None:
        self.schedule.journal = None


def insert_with_ejection(
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    params: SearchParams,
    deadline: float | None = None,
    attempts: int | None = None,
    guard: Guard | None = None,
    budget: Budget | None = None,
) -> int:
    """Improve `schedule` in place; returns how many moves were kept. Stops at `deadline`
    (a time.perf_counter() value) or after `attempts` placement attempts, if given, or when
    `budget` is spent; with attempts only, the result is deterministic. A move that breaks
    `guard` is taken back."""
    inst, cands = schedule.inst, schedule.cands
    budget = budget or Budget(deadline, attempts)
    moves = GuardedMoves(schedule, guard, prefs)
    kept = 0
    try:
        for _ in range(params.ejection_passes):
            before = kept
            uncovered = [r for r in range(len(inst.requests)) if r not in schedule.assigned and cands.takers(r)]
            uncovered.sort(key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]), r))
            for r in uncovered:
                if budget.spent():
                    return kept
                if r in schedule.assigned:
                    continue
                mark = moves.mark()
                if (
                    insert(schedule, prefs, r) or _eject_and_insert(schedule, prefs, pinned, r, budget, params)
                ) and moves.settle(mark):
                    kept += 1
            if kept == before:
                break
        return kept
    finally:
        moves.close()


def insert(schedule: Schedule, prefs: Preferences, r: int) -> bool:
    """Put r with the first of its candidates that has room as the roster stands: a volunteer
    the client knows first (continuity), then the nearest."""
    request = schedule.inst.requests[r]
    usual, known = prefs.starts[request.client], prefs.volunteers[request.client]
    caps, minutes, need = schedule.capacity, schedule.minutes, request.duration
    vols = schedule.cands.takers(r)
    if known:
        vols = [v for v in vols if v in known] + [v for v in vols if v not in known]
    for v in vols:
        if caps[v] - minutes[v] < need:
            continue  # the cheapest test first: most volunteers are full late in the search
        s = first_fit(schedule, r, v, usual)
        if s is not None:
            schedule.add(r, v, s)
            return True
    return False


def victims(schedule: Schedule, prefs: Preferences, pinned: set[int], r: int, v: int) -> list[int]:
    """Visits whose removal could make room for r with v: v's visits on the days r could use
    (any day when v's weekly minutes are what blocks), and the client's own visits on those
    days when the client's day is full (rule 10). Visits by a volunteer their client does not
    know come first: moving those costs no continuity."""
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
    requests, assigned = inst.requests, schedule.assigned
    return sorted(
        (q for q in found if q not in pinned),
        key=lambda q: (assigned[q][0] in prefs.volunteers[requests[q].client], q),
    )


def place(
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
    for v in cands.takers(r)[:candidates]:
        for q in victims(schedule, prefs, pinned, r, v):
            if q in moved:
                continue
            q_volunteer, q_start = schedule.assigned[q]
            schedule.remove(q)
            start = first_fit(schedule, r, v, usual)
            if start is not None:
                schedule.add(r, v, start)
                if place(
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
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    r: int,
    budget: Budget,
    params: SearchParams,
) -> bool:
    """Cover r by an ejection chain; failing that, by swapping out one visit that weighs less."""
    if place(
        schedule,
        prefs,
        pinned,
        r,
        params.ejection_depth,
        params.ejection_candidates,
        set(),
        budget,
        params,
    ):
        return True
    inst, cands = schedule.inst, schedule.cands
    request = inst.requests[r]
    usual = prefs.starts[request.client]
    for v in cands.takers(r)[: params.ejection_candidates]:
        for q in victims(schedule, prefs, pinned, r, v):
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


def continuity_moves(
    schedule: Schedule, prefs: Preferences, pinned: set[int], budget: Budget, guard: Guard | None = None
) -> int:
    """Give visits back to volunteers their clients know, coverage untouched: a visit by a
    stranger moves to a known volunteer who has room, or swaps with one of that volunteer's
    own visits by a stranger (which goes to the first one's volunteer). A move that would
    give a client one more face than the guard allows is taken back. Returns the moves kept."""
    moves = GuardedMoves(schedule, guard, prefs)
    try:
        return _continuity_moves(schedule, prefs, pinned, budget, moves)
    finally:
        moves.close()


def _continuity_moves(
    schedule: Schedule, prefs: Preferences, pinned: set[int], budget: Budget, moves: GuardedMoves
) -> int:
    inst = schedule.inst
    kept = 0
    strangers = [
        r
        for r, (v, _) in sorted(schedule.assigned.items())
        if r not in pinned
        and prefs.volunteers[inst.requests[r].client]
        and v not in prefs.volunteers[inst.requests[r].client]
    ]
    for r in strangers:
        if budget.spent():
            break
        c = inst.requests[r].client
        v, s = schedule.assigned[r]
        known = [k for k in schedule.cands.volunteers_of[r] if k in prefs.volunteers[c]]
        if not known:
            continue
        mark = moves.mark()
        schedule.remove(r)
        if _to_known(schedule, prefs, pinned, r, v, known):
            kept += moves.settle(mark)
        else:
            schedule.add(r, v, s)
            moves.settle(mark)  # nothing changed: clears the journal
    return kept


def _to_known(
    schedule: Schedule,
    prefs: Preferences,
    pinned: set[int],
    r: int,
    v: int,
    known: list[int],
) -> bool:
    """Place r (just removed from v) with one of `known`, directly or by a swap with one of
    that volunteer's visits by a stranger, which goes to v; False leaves r out."""
    inst = schedule.inst
    usual = prefs.starts[inst.requests[r].client]
    for k in known:
        s = first_fit(schedule, r, k, usual)
        if s is not None:
            schedule.add(r, k, s)
            return True
    for k in known:
        for day in {o.day for o in schedule.cands.options_for(r, k)}:
            for *_, q in list(schedule.visits.get((k, day), ())):
                qc = inst.requests[q].client
                if q in pinned or k in prefs.volunteers[qc] or v not in schedule.cands.volunteers_of[q]:
                    continue
                q_start = schedule.assigned[q][1]
                schedule.remove(q)
                s = first_fit(schedule, r, k, usual)
                if s is not None:
                    schedule.add(r, k, s)
                    t = first_fit(schedule, q, v, prefs.starts[qc])
                    if t is not None:
                        schedule.add(q, v, t)
                        return True
                    schedule.remove(r)
                schedule.add(q, k, q_start)
    return False
