"""Large-neighbourhood search over the warm start, for weeks too big for one model.

Each round frees one neighbourhood of volunteers, all their visits (pins excepted) and up
to a dozen uncovered requests they could take. Mostly it is built around an uncovered
request: the volunteers who could take it, then those who could take over their visits
(an ejection chain's worth); otherwise a random volunteer and the ones living nearest.
Everything else stays fixed; the sub-model (solver.model) gets the current roster as a
complete hint and about a second. Its size adapts: it grows while CP-SAT proves the
neighbourhood's coverage quickly and shrinks when it cannot. The new roster is kept only
when it is better in the lexicographic order of solver.objective, so the result never gets
worse than the warm start. With one worker the sequence is deterministic for a given seed.
"""

from __future__ import annotations

import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

from solver.model import SubProblem, WeekModel
from solver.travel import great_circle_km

DEBUG = bool(os.environ.get("CARECAL_SOLVER_DEBUG"))
NEIGHBOURS = 30  # the most volunteers one neighbourhood frees
MIN_NEIGHBOURS = 4
ROUND_SECONDS = 1.0
ROUND_OVERHEAD = 0.01  # seconds a round counts at least (deterministic runs count CP-SAT's time only)
MAX_UNCOVERED = 12  # uncovered requests offered to one neighbourhood (beyond its target)
LOWER_TIERS_SHARE = 0.3  # of a round, at most, for continuity/travel/fairness once coverage is settled


def nearest_volunteers(run, v: int, count: int) -> list[int]:
    inst, cands = run.inst, run.cands
    home = inst.volunteers[v].home
    others = sorted(
        (great_circle_km(home, w.home), w.index)
        for w in inst.volunteers
        if w.index != v and cands.requests_of_volunteer[w.index]
    )
    return [v] + [w for _, w in others[:count]]


def chain_neighbourhood(run, r: int, size: int, rng: random.Random) -> set[int]:
    """Volunteers who could take uncovered request r, then those who could take over their
    visits, and so on (an ejection chain's worth of volunteers), up to `size`."""
    cands = run.cands
    served: dict[int, list[int]] = {}
    for q, (v, _) in run.best.items():
        served.setdefault(v, []).append(q)
    hood: list[int] = []
    frontier = list(cands.volunteers_of[r][:4])
    while frontier and len(hood) < size:
        v = frontier.pop(0)
        if v in hood:
            continue
        hood.append(v)
        takers = [w for q in served.get(v, ()) for w in cands.volunteers_of[q][:6] if w not in hood]
        rng.shuffle(takers)
        frontier.extend(takers)
    if len(hood) < size:
        hood.extend(w for w in nearest_volunteers(run, cands.volunteers_of[r][0], size) if w not in hood)
    return set(hood[:size])


def neighbourhood(
    run,
    hood: set[int],
    pinned: set[int],
    rng: random.Random | None = None,
    target: int | None = None,
    max_uncovered: int | None = None,
) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """(free requests, fixed assignments) for a set of volunteers: their visits, and the
    uncovered requests they could take (at most `max_uncovered`, the target among them)."""
    cands = run.cands
    free, fixed = [], {}
    for r, (v, s) in run.best.items():
        if v in hood and r not in pinned:
            free.append(r)
        else:
            fixed[r] = (v, s)
    uncovered = sorted(
        {
            r
            for v in hood
            for r in cands.requests_of_volunteer[v]
            if r not in run.best and r not in pinned and r != target
        }
    )
    if max_uncovered is not None and len(uncovered) > max_uncovered:
        uncovered = (rng or random.Random(0)).sample(uncovered, max_uncovered)
    if target is not None:
        uncovered.append(target)
    return sorted(set(free) | set(uncovered)), fixed


@dataclass
class _Round:
    hood: set[int]
    free: list[int]
    model: WeekModel
    build_seconds: float


def _clients_apart(run, assigned: dict[int, tuple[int, int]], changed: set[int]) -> bool:
    """Rule 8 for the clients of `changed` requests: their visits in `assigned` do not overlap."""
    inst = run.inst
    for c in {inst.requests[r].client for r in changed}:
        spans = sorted(
            (assigned[r][1], assigned[r][1] + inst.requests[r].duration)
            for r in inst.clients[c].requests
            if r in assigned
        )
        if any(a_end > b_start for (_, a_end), (b_start, _) in pairwise(spans)):
            return False
    return True


def _pick(
    run, rng: random.Random, size: int, active: list[int], pinned: set[int], taken: set[int]
) -> tuple[set[int], list[int]]:
    """One neighbourhood: (volunteers, free requests), none of the `taken` volunteers."""
    cands = run.cands
    uncovered = [r for r in range(len(run.inst.requests)) if r not in run.best and cands.volunteers_of[r]]
    if uncovered and rng.random() < 0.8:
        target = rng.choice(uncovered)
        hood = chain_neighbourhood(run, target, size, rng)
    else:
        target = None
        hood = set(nearest_volunteers(run, rng.choice(active), size - 1))
    hood -= taken
    free, _ = neighbourhood(run, hood, pinned, rng, target, max_uncovered=MAX_UNCOVERED)
    return hood, free


def large_neighbourhood_search(
    run, pins: dict[int, tuple[int, int]], workers: int, seed: int, deterministic: bool, rounds: int | None = None
) -> int:
    """Improve run.best in place; returns the number of improving rounds.

    With several workers, as many neighbourhoods are solved at once (one CP-SAT worker
    each; CP-SAT releases the GIL). They share no volunteer, no free request and no client,
    so each one's result stays valid whatever the others do, and each is kept or dropped
    on its own merit. With one worker the search is sequential and deterministic."""
    rng = random.Random(seed)
    cands = run.cands
    pinned = set(pins)
    active = [v for v in range(len(run.inst.volunteers)) if cands.requests_of_volunteer[v]]
    if not active:
        return 0
    parallel = 1 if deterministic else max(1, workers)
    budget = run.time_limit if deterministic else run.time_limit - run.elapsed()
    started = time.perf_counter()
    spent = 0.0
    improved = done = 0
    size = 12
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while rounds is None or done < rounds:
            left = budget - (spent if deterministic else time.perf_counter() - started)
            if left < 0.2:
                break
            batch: list[_Round] = []
            taken_vols: set[int] = set()
            taken_requests: set[int] = set()
            for _ in range(parallel * 3):
                if len(batch) == parallel:
                    break
                hood, free = _pick(run, rng, size, active, pinned, taken_vols)
                free = [r for r in free if r not in taken_requests]
                if not free or len(hood) < MIN_NEIGHBOURS:
                    continue
                taken_vols |= hood
                taken_requests.update(free)
                t0 = time.perf_counter()
                fixed = {r: a for r, a in run.best.items() if r not in set(free)}
                hint = {r: run.best[r] for r in free if r in run.best}
                model = WeekModel(cands, run.prefs, SubProblem(free=free, fixed=fixed, hint=hint, volunteers=hood))
                batch.append(_Round(hood, free, model, time.perf_counter() - t0))
            done += max(1, len(batch))
            if DEBUG:
                print(f"batch of {len(batch)}", file=sys.stderr)
            limit = min(ROUND_SECONDS, left)
            jobs = [
                pool.submit(
                    b.model.solve,
                    limit,
                    1 if parallel > 1 else workers,
                    rng.randrange(1 << 30),
                    deterministic,
                    ROUND_SECONDS * LOWER_TIERS_SHARE,
                    True,
                )
                for b in batch
            ]
            took = 0.0
            for b, job in zip(batch, jobs, strict=True):
                outcome = job.result()
                took = max(took, outcome.deterministic_seconds if deterministic else outcome.seconds)
                if DEBUG:
                    print(
                        f"lns size {size} hood {len(b.hood)} free {len(b.free)} vars {outcome.variables} "
                        f"build {b.build_seconds:.2f} solve {outcome.seconds:.2f} {outcome.status} "
                        f"coverage {outcome.coverage} bound {outcome.coverage_bound}",
                        file=sys.stderr,
                    )
                # grow neighbourhoods whose coverage CP-SAT proves quickly, shrink those it cannot
                if outcome.coverage == outcome.coverage_bound and outcome.coverage_seconds < ROUND_SECONDS * 0.3:
                    size = min(NEIGHBOURS, size + 1)
                elif outcome.coverage != outcome.coverage_bound:
                    size = max(MIN_NEIGHBOURS, size - 2)
                if outcome.status in ("OPTIMAL", "FEASIBLE"):
                    freed = set(b.free)
                    candidate = {r: a for r, a in run.best.items() if r not in freed}
                    candidate.update(outcome.assigned)
                    if len(batch) > 1 and not _clients_apart(run, candidate, freed):
                        continue  # another neighbourhood of this batch moved the same client's visits
                    if run.offer(candidate, "lns"):
                        improved += 1
            spent += max(took, ROUND_OVERHEAD)  # so that even empty rounds use up the budget
    return improved
