"""Large-neighbourhood search over the warm start, for weeks too big for one model.

Each step frees one neighbourhood of volunteers, all their visits (pins excepted) and the
uncovered requests they could take (up to a cap; those the LP's solution gives them first).
Kinds:
- "lp" (when the week's LP ran, solver.engine.relax): around a volunteer the LP's solution
  keeps busier than the roster does: the volunteers holding the visits the LP gives them,
  those the LP would give their own visits to, and so on;
- "chain": around an uncovered request: the volunteers who could take it, then those who
  could take over their visits (an ejection chain's worth);
- "nearest": a random volunteer and the ones living nearest;
- "polish" (the lower tiers, coverage held): a client who sees a stranger or several
  volunteers, the volunteers they know or see, and those living nearest.
Everything else stays fixed; the sub-model (solver.model) gets the current roster as a
complete hint. Its size adapts: it grows while CP-SAT proves the neighbourhood's coverage
quickly and shrinks when it cannot. A result is kept only when the whole roster is better
in the lexicographic order of solver.objective and keeps the continuity guard, so the
result is never worse than the warm start.

Workers: with `workers` > 1, that many threads each loop pick -> build -> solve -> merge,
one CP-SAT worker each (CP-SAT releases the GIL while it solves; picking, building and
merging hold it). Neighbourhoods in flight share no volunteer, no free request and no
client, so every result merges into the current best without clashing. With one worker the
search is sequential and deterministic (CP-SAT's deterministic time is the clock). The
simulated mode (`params.simulated_workers` = N, solver.run) runs the same steps one after
the other and replays them on N virtual workers: each step costs the CPU time it took
(Python included); picking, building and merging hold one shared lock (the GIL) and so
queue behind each other, solving overlaps. The run's clock then reads the virtual time.

What the search did is counted in `run.stats["lns"]` (steps and improvements per kind,
coverage gained per kind, neighbourhood sizes, Python and CP-SAT seconds, when the first
neighbourhood started) so that the benchmark can show it.
"""

from __future__ import annotations

import heapq
import math
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from solver.bounds import Relaxation
from solver.model import Outcome, SubProblem, WeekModel, WeekRoster
from solver.params import SearchParams
from solver.rules import violations
from solver.run import Assignment, Run
from solver.travel import EARTH_RADIUS_KM

DEBUG = bool(os.environ.get("CARECAL_SOLVER_DEBUG"))
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180


def nearest_volunteers(run: Run, v: int, count: int) -> list[int]:
    """v and the `count` volunteers living nearest who could take any request."""
    order: dict[int, list[int]] = run.cache.setdefault("nearest", {})
    found = order.get(v)
    if found is None:
        points, east = _flat_homes(run)
        home = run.inst.volunteers[v].home
        x, y = home.lon * east, home.lat * KM_PER_DEGREE
        found = order[v] = [
            w for _, w in sorted(((px - x) ** 2 + (py - y) ** 2, w) for w, (px, py) in points.items() if w != v)
        ]
    return [v] + found[:count]


def _flat_homes(run: Run) -> tuple[dict[int, tuple[float, float]], float]:
    """Homes of the volunteers who could take any request, in km on a plane through the week's
    centre (and the km per degree of longitude there): for ordering by distance within a city
    as good as the great circle, at a tenth of its cost (an XL week asks for a thousand
    volunteers' orders)."""
    found: tuple[dict[int, tuple[float, float]], float] | None = run.cache.get("flat_homes")
    if found is None:
        vols = [w for w in run.inst.volunteers if run.cands.requests_of_volunteer[w.index]]
        lat0 = sum(w.home.lat for w in vols) / max(1, len(vols))
        east = math.cos(math.radians(lat0)) * KM_PER_DEGREE
        points = {w.index: (w.home.lon * east, w.home.lat * KM_PER_DEGREE) for w in vols}
        found = run.cache["flat_homes"] = (points, east)
    return found


@dataclass
class _Index:
    """What the picking asks of run.best, computed once per version of it (run.best changes
    only when a neighbourhood is kept; walking the whole roster for every pick was a large
    part of the Python time of a round)."""

    version: int
    served: dict[int, list[int]]  # volunteer -> their visits (requests)
    seen: dict[int, set[int]]  # client -> the volunteers visiting them
    uncovered: list[int]  # requests not covered that someone could take (Candidates.takers)
    poor: list[int]  # clients who see a stranger or several volunteers
    roster: WeekRoster  # what every neighbourhood's model holds (all but its free requests)
    idle: list[int]  # volunteers the LP's solution keeps busier than the roster does (by an hour or more)


def _index(run: Run) -> _Index:
    found: _Index | None = run.cache.get("index")
    if found is None or found.version != run.version:
        served: dict[int, list[int]] = {}
        seen: dict[int, set[int]] = {}
        requests = run.inst.requests
        for q, (v, _) in run.best.items():
            served.setdefault(v, []).append(q)
            seen.setdefault(requests[q].client, set()).add(v)
        takers = run.cands.takers
        uncovered = [r for r in range(len(requests)) if r not in run.best and takers(r)]
        known = run.prefs.volunteers
        poor = sorted(c for c, vols in seen.items() if len(vols) > 1 or (known[c] and not vols <= known[c]))
        roster = WeekRoster(run.inst, run.prefs, run.best)
        found = run.cache["index"] = _Index(run.version, served, seen, uncovered, poor, roster, _idle(run, served))
    return found


@dataclass(frozen=True)
class _Advice:
    """The LP's solution, as the neighbourhoods read it."""

    shares: dict[int, dict[int, float]]  # request -> volunteer -> share of it
    given: dict[int, list[int]]  # volunteer -> the requests the LP gives them a share of
    minutes: dict[int, float]  # volunteer -> their minutes in the LP's solution


def remember_relaxation(run: Run, relaxed: Relaxation) -> None:
    """Keep the LP's solution for the neighbourhoods of this solve."""
    given: dict[int, list[int]] = {}
    minutes: dict[int, float] = {}
    for r, by_volunteer in relaxed.shares.items():
        for v, share in by_volunteer.items():
            given.setdefault(v, []).append(r)
            minutes[v] = minutes.get(v, 0.0) + share * run.inst.requests[r].duration
    run.cache["advice"] = _Advice(relaxed.shares, given, minutes)


def _idle(run: Run, served: dict[int, list[int]]) -> list[int]:
    """Volunteers whose minutes in the LP's solution exceed their minutes in the roster by
    `lp_idle_minutes` or more: where the roster leaves time unused that the LP fills."""
    advice: _Advice | None = run.cache.get("advice")
    if advice is None:
        return []
    requests = run.inst.requests
    return sorted(
        v
        for v, minutes in advice.minutes.items()
        if minutes - sum(requests[r].duration for r in served.get(v, ())) >= run.params.lp_idle_minutes
    )


def lp_neighbourhood(run: Run, v: int, size: int, rng: random.Random) -> set[int]:
    """Idle volunteer v; the volunteers holding the visits the LP's solution gives to v, and
    those the LP would give v's own visits to; the same for each of them, and so on (the
    roster's way back towards the LP's advice); then those living nearest, up to `size`.
    Needs remember_relaxation first."""
    advice: _Advice = run.cache["advice"]
    shares, given = advice.shares, advice.given
    best, least = run.best, run.params.lp_least_share
    served = _index(run).served
    hood: list[int] = []
    frontier = [v]
    while frontier and len(hood) < size:
        w = frontier.pop(0)
        if w in hood:
            continue
        hood.append(w)
        holders = [best[q][0] for q in given.get(w, ()) if q in best and best[q][0] != w and shares[q][w] > least]
        advised = [u for q in served.get(w, ()) for u, share in shares.get(q, {}).items() if u != w and share > least]
        nexts = holders + advised
        rng.shuffle(nexts)
        frontier.extend(nexts)
    if len(hood) < size:
        hood.extend(w for w in nearest_volunteers(run, v, size) if w not in hood)
    return set(hood[:size])


def chain_neighbourhood(run: Run, r: int, size: int, rng: random.Random) -> set[int]:
    """Volunteers who could take uncovered request r, then those who could take over their
    visits, and so on (an ejection chain's worth of volunteers), up to `size`."""
    cands, params = run.cands, run.params
    served = _index(run).served
    hood: list[int] = []
    frontier = list(cands.takers(r)[: params.chain_first_volunteers])
    while frontier and len(hood) < size:
        v = frontier.pop(0)
        if v in hood:
            continue
        hood.append(v)
        takers = [w for q in served.get(v, ()) for w in cands.takers(q)[: params.chain_takers] if w not in hood]
        rng.shuffle(takers)
        frontier.extend(takers)
    if len(hood) < size:
        hood.extend(w for w in nearest_volunteers(run, cands.takers(r)[0], size) if w not in hood)
    return set(hood[:size])


def free_requests(
    run: Run,
    hood: set[int],
    pinned: set[int],
    rng: random.Random | None = None,
    target: int | None = None,
    max_uncovered: int | None = None,
) -> list[int]:
    """The requests a neighbourhood of volunteers frees: their visits (pins excepted), and the
    uncovered requests they could take (at most `max_uncovered`, the target among them)."""
    cands, served = run.cands, _index(run).served
    free = [r for v in hood for r in served.get(v, ()) if r not in pinned]
    uncovered = sorted(
        {r for v in hood for r in cands.takes(v) if r not in run.best and r not in pinned and r != target}
    )
    if max_uncovered is not None and len(uncovered) > max_uncovered:
        uncovered = (rng or random.Random(0)).sample(uncovered, len(uncovered))
        advice: _Advice | None = run.cache.get("advice")
        if advice is not None:  # the ones the LP's solution gives to this neighbourhood first
            shares = advice.shares
            uncovered.sort(key=lambda r: -sum(shares.get(r, {}).get(v, 0.0) for v in hood))
        uncovered = uncovered[:max_uncovered]
    if target is not None:
        uncovered.append(target)
    return sorted(set(free) | set(uncovered))


@dataclass
class _Step:
    """One neighbourhood: picked and built (holding the lock), solved, merged."""

    kind: str
    hood: set[int]
    free: list[int]
    clients: set[int]
    model: WeekModel | None = None
    outcome: Outcome | None = None
    build_seconds: float = 0.0  # picking and building: Python
    solve_seconds: float = 0.0  # CP-SAT
    merge_seconds: float = 0.0


@dataclass
class _InFlight:
    volunteers: set[int] = field(default_factory=set)
    requests: set[int] = field(default_factory=set)
    clients: set[int] = field(default_factory=set)

    def take(self, step: _Step) -> None:
        self.volunteers |= step.hood
        self.requests.update(step.free)
        self.clients |= step.clients

    def give_back(self, step: _Step) -> None:
        self.volunteers -= step.hood
        self.requests.difference_update(step.free)
        self.clients -= step.clients


def _clients_apart(run: Run, assigned: Assignment, changed: set[int]) -> bool:
    """The visits of the clients of `changed` requests break none of rules 6-8 and 10 among
    themselves (rules 8 and 10 are the ones a merge could break)."""
    inst = run.inst
    theirs = {
        r: assigned[r]
        for c in {inst.requests[q].client for q in changed}
        for r in inst.clients[c].requests
        if r in assigned
    }
    return not violations(inst, run.cands.travel, theirs)


class _Search:
    """The state one call of large_neighbourhood_search shares between its steps."""

    def __init__(self, run: Run, pins: Assignment, seed: int, polish: bool):
        self.run, self.polish = run, polish
        self.params = run.params
        self.pinned = set(pins)
        self.rng = random.Random(seed)
        # coverage neighbourhoods go on at the size the last search reached
        self.size = (
            self.params.initial_neighbours if polish else run.cache.get("lns_size", self.params.initial_neighbours)
        )
        self.active = [v for v in range(len(run.inst.volunteers)) if run.cands.requests_of_volunteer[v]]
        self.flight = _InFlight()
        self.improved = 0
        self.counts: dict[str, Any] = run.stats.setdefault(
            "lns",
            {
                "rounds": Counter(),
                "improved": Counter(),
                "gain": Counter(),
                "sizes": Counter(),
                "free": 0,
                "build_seconds": 0.0,
                "solve_seconds": 0.0,
                "first_at": None,
            },
        )

    # -- picking and building (under the lock) ------------------------------------------
    def pick(self) -> _Step | None:
        run, rng, params = self.run, self.rng, self.params
        taken = self.flight.volunteers
        if self.polish:
            kind, hood, target = "polish", self._polish_hood(), None
        else:
            index = _index(run)
            uncovered = [r for r in index.uncovered if r not in self.flight.requests]
            idle = [v for v in index.idle if v not in taken]
            target = None
            if idle and rng.random() < params.lp_share:
                kind = "lp"
                hood = lp_neighbourhood(run, rng.choice(idle), self.size, rng)
            elif uncovered and rng.random() < params.chain_share:
                kind, target = "chain", rng.choice(uncovered)
                hood = chain_neighbourhood(run, target, self.size, rng)
            else:
                kind = "nearest"
                hood = set(nearest_volunteers(run, rng.choice(self.active), self.size - 1))
        hood -= taken
        if len(hood) < min(params.min_neighbours, len(self.active)):
            return None
        cap = max(params.max_uncovered, params.uncovered_per_volunteer * len(hood))
        free = free_requests(run, hood, self.pinned, rng, target, max_uncovered=None if self.polish else cap)
        if self.polish:
            free = [r for r in free if r in run.best]  # coverage is held: only the covered move
        clients_of = run.inst.requests
        busy = self.flight.clients
        free = [r for r in free if r not in self.flight.requests and clients_of[r].client not in busy]
        if not free:
            return None
        return _Step(kind, hood, free, {clients_of[r].client for r in free})

    def _polish_hood(self) -> set[int]:
        """A client who sees a stranger or several faces, the volunteers they know or see,
        and those living nearest to them."""
        run, rng, size = self.run, self.rng, self.size
        prefs, index = run.prefs, _index(run)
        seen = index.seen
        poor = [c for c in index.poor if c not in self.flight.clients]
        if poor:
            c = rng.choice(poor)
            core = (seen[c] | prefs.volunteers[c]) - self.flight.volunteers
        else:
            core = {rng.choice(self.active)}
        hood = set(core)
        for v in sorted(core):
            if len(hood) >= size:
                break
            hood.update(nearest_volunteers(run, v, max(1, (size - len(hood)) // max(1, len(core)))))
        return hood

    def build(self, step: _Step) -> None:
        run = self.run
        hint = {r: run.best[r] for r in step.free if r in run.best}
        around = _index(run).roster
        sub = SubProblem(free=step.free, fixed={}, hint=hint, volunteers=step.hood, guard=run.guard, around=around)
        step.model = WeekModel(run.cands, run.prefs, sub, self.params)

    # -- solving (no lock needed: CP-SAT releases the GIL) ----------------------------------
    def solve(self, step: _Step, limit: float, seed: int, workers: int) -> None:
        assert step.model is not None
        params = self.params
        step.outcome = step.model.solve(
            limit,
            workers,
            seed,
            self.run.deterministic,
            params.round_seconds * params.lower_tiers_share,
            True,
            self.polish,
        )

    # -- merging (under the lock) -----------------------------------------------------------
    def merge(self, step: _Step) -> None:
        run, outcome, counts = self.run, step.outcome, self.counts
        assert outcome is not None
        counts["rounds"][step.kind] += 1
        counts["sizes"][len(step.hood)] += 1
        counts["free"] += len(step.free)
        if DEBUG:
            print(
                f"lns {step.kind} size {self.size} hood {len(step.hood)} free {len(step.free)} "
                f"vars {outcome.variables} build {step.build_seconds:.3f} solve {step.solve_seconds:.3f} "
                f"{outcome.status} coverage {outcome.coverage} bound {outcome.coverage_bound}",
                file=sys.stderr,
            )
        if not self.polish:
            self.size = run.cache["lns_size"] = _next_size(run, self.size, outcome)
        if outcome.status not in ("OPTIMAL", "FEASIBLE"):
            return
        freed = set(step.free)
        before = run.best_score.coverage if run.best_score else 0
        candidate = {r: a for r, a in run.best.items() if r not in freed}
        candidate.update(outcome.assigned)
        if not _clients_apart(run, candidate, freed):  # cannot happen (clients in flight are apart); kept as a check
            return
        if run.offer(candidate, "lns"):
            self.improved += 1
            counts["improved"][step.kind] += 1
            counts["gain"][step.kind] += (run.best_score.coverage if run.best_score else 0) - before

    def note_start(self) -> None:
        if self.counts["first_at"] is None:
            self.counts["first_at"] = round(self.run.elapsed(), 3)


def large_neighbourhood_search(
    run: Run,
    pins: Assignment,
    seed: int,
    budget: float,
    polish: bool = False,
    rounds: int | None = None,
) -> int:
    """Improve run.best in place within `budget` seconds of the run's clock; returns the
    number of improving steps. `polish`: neighbourhoods for the lower tiers; `rounds`: stop
    after that many steps (tests)."""
    search = _Search(run, pins, seed, polish)
    if not search.active or budget <= 0:
        return 0
    if run.mode == "wall" and run.workers > 1:
        _threaded(search, budget, rounds)
    else:
        _sequential(search, budget, rounds)
    return search.improved


def _limit(params: SearchParams, left: float) -> float:
    return min(params.round_seconds, left)


def _threaded(search: _Search, budget: float, rounds: int | None) -> None:
    """`run.workers` threads, each picking, building, solving and merging in a loop."""
    run, params = search.run, search.params
    deadline = run.elapsed() + budget
    lock = threading.Lock()
    done = [0]
    failures = [0]

    def worker(wid: int) -> None:
        rng = random.Random(run.seed * 1000 + wid)
        while True:
            with lock:
                left = deadline - run.elapsed()
                if left < params.min_round_seconds or (rounds is not None and done[0] >= rounds) or failures[0] > 50:
                    return
                t0 = time.perf_counter()
                step = search.pick()
                if step is not None:
                    failures[0] = 0
                    search.flight.take(step)
                    search.note_start()
                    done[0] += 1
                    search.build(step)
                    step.build_seconds = time.perf_counter() - t0
                elif not search.flight.volunteers:
                    failures[0] += 1  # nothing to pick even with everybody free
            if step is None:  # (or the others hold what this one would need: let them finish first)
                time.sleep(0.01)
                continue
            t1 = time.perf_counter()
            search.solve(step, _limit(params, left), rng.randrange(1 << 30), 1)
            step.solve_seconds = time.perf_counter() - t1
            with lock:
                search.flight.give_back(step)
                search.merge(step)
                search.counts["build_seconds"] += step.build_seconds
                search.counts["solve_seconds"] += step.solve_seconds

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(run.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _sequential(search: _Search, budget: float, rounds: int | None) -> None:
    """One step after the other. Deterministic mode: one worker, CP-SAT's deterministic time
    (at least `round_overhead` a step) is the clock. Simulated mode: N virtual workers replay
    the steps by their CPU time (see the module docstring); the run's clock is advanced to
    the virtual time at the end."""
    run, params = search.run, search.params
    cpu = run.cpu_time
    simulated = run.mode == "simulated"
    workers = max(1, params.simulated_workers) if simulated else 1
    start = run.elapsed()
    end = start + budget
    free_at = [start] * workers  # when each virtual worker is free again
    lock_free = start  # when the shared lock (the GIL) is free again
    pending: list[tuple[float, int, _Step]] = []  # (virtual finish, order, step) not merged yet
    order = 0
    done = failures = 0
    spent = 0.0  # deterministic mode

    def merge_until(moment: float) -> None:
        nonlocal lock_free
        while pending and pending[0][0] <= moment:
            finish, _, step = heapq.heappop(pending)
            c0 = cpu()
            search.flight.give_back(step)
            search.merge(step)
            step.merge_seconds = cpu() - c0
            lock_free = max(lock_free, finish) + step.merge_seconds

    while rounds is None or done < rounds:
        if simulated:
            w = min(range(workers), key=free_at.__getitem__)
            now = free_at[w]
            merge_until(now)
            left = end - max(now, lock_free)
        else:
            left = budget - spent
        if left < params.min_round_seconds or failures > 50:
            break
        c0 = cpu()
        step = search.pick()
        if step is None:
            if simulated:
                free_at[w] = max(now, lock_free) + (cpu() - c0)
                if pending:  # the others hold what this one would need: wait for the next to finish
                    free_at[w] = max(free_at[w], pending[0][0])
                    continue
            else:
                spent += params.round_overhead
            failures += 1
            continue
        failures = 0
        if not simulated:
            search.note_start()
        search.build(step)
        step.build_seconds = cpu() - c0
        done += 1
        c1 = cpu()
        search.solve(step, _limit(params, left), search.rng.randrange(1 << 30), 1)
        step.solve_seconds = cpu() - c1
        search.counts["build_seconds"] += step.build_seconds
        search.counts["solve_seconds"] += step.solve_seconds
        if simulated:
            begin = max(now, lock_free)
            if search.counts["first_at"] is None:
                search.counts["first_at"] = round(begin, 3)
            lock_free = begin + step.build_seconds
            finish = lock_free + step.solve_seconds
            search.flight.take(step)
            heapq.heappush(pending, (finish, order, step))
            order += 1
            free_at[w] = finish
        else:
            assert step.outcome is not None
            search.merge(step)
            spent += max(step.outcome.deterministic_seconds, params.round_overhead)
    if simulated:
        merge_until(float("inf"))
        run.advance_to(max([lock_free, *free_at]))


def _next_size(run: Run, size: int, outcome: Outcome) -> int:
    """Grow neighbourhoods whose coverage CP-SAT proves quickly, shrink those it cannot."""
    params = run.params
    proven = outcome.coverage == outcome.coverage_bound
    if proven and outcome.coverage_seconds < params.round_seconds * params.quick_proof_share:
        return min(params.max_neighbours, max(size + params.grow, round(size * params.grow_factor)))
    if not proven:
        return max(params.min_neighbours, min(size - params.shrink, round(size * params.shrink_factor)))
    return size
