"""Large-neighbourhood search over the warm start, for weeks too big for one model.

Each round frees one neighbourhood of volunteers, all their visits (pins excepted) and up
to a dozen uncovered requests they could take. Mostly it is built around an uncovered
request (kind "chain"): the volunteers who could take it, then those who could take over
their visits (an ejection chain's worth); otherwise (kind "nearest") a random volunteer and
the ones living nearest. Everything else stays fixed; the sub-model (solver.model) gets the
current roster as a complete hint and about a second. Its size adapts: it grows while
CP-SAT proves the neighbourhood's coverage quickly and shrinks when it cannot. The new
roster is kept only when it is better in the lexicographic order of solver.objective, so
the result never gets worse than the warm start. With one worker the sequence is
deterministic for a given seed.

`polish` (kind "polish") spends the end of the time on the lower tiers: neighbourhoods
around clients who see a new face or several volunteers, coverage held, the whole round for
continuity, travel and fairness.

What the search did is counted in `run.stats` (rounds and improvements per kind, moves
tried and kept per second, neighbourhood sizes) so that the benchmark can show it.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

from solver.model import Outcome, SubProblem, WeekModel
from solver.run import Assignment, Run
from solver.travel import great_circle_km

DEBUG = bool(os.environ.get("CARECAL_SOLVER_DEBUG"))


def nearest_volunteers(run: Run, v: int, count: int) -> list[int]:
    inst, cands = run.inst, run.cands
    home = inst.volunteers[v].home
    others = sorted(
        (great_circle_km(home, w.home), w.index)
        for w in inst.volunteers
        if w.index != v and cands.requests_of_volunteer[w.index]
    )
    return [v] + [w for _, w in others[:count]]


def chain_neighbourhood(run: Run, r: int, size: int, rng: random.Random) -> set[int]:
    """Volunteers who could take uncovered request r, then those who could take over their
    visits, and so on (an ejection chain's worth of volunteers), up to `size`."""
    cands, params = run.cands, run.params
    served: dict[int, list[int]] = {}
    for q, (v, _) in run.best.items():
        served.setdefault(v, []).append(q)
    hood: list[int] = []
    frontier = list(cands.volunteers_of[r][: params.chain_first_volunteers])
    while frontier and len(hood) < size:
        v = frontier.pop(0)
        if v in hood:
            continue
        hood.append(v)
        takers = [w for q in served.get(v, ()) for w in cands.volunteers_of[q][: params.chain_takers] if w not in hood]
        rng.shuffle(takers)
        frontier.extend(takers)
    if len(hood) < size:
        hood.extend(w for w in nearest_volunteers(run, cands.volunteers_of[r][0], size) if w not in hood)
    return set(hood[:size])


def neighbourhood(
    run: Run,
    hood: set[int],
    pinned: set[int],
    rng: random.Random | None = None,
    target: int | None = None,
    max_uncovered: int | None = None,
) -> tuple[list[int], Assignment]:
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
    kind: str
    hood: set[int]
    free: list[int]
    model: WeekModel
    build_seconds: float


def _clients_apart(run: Run, assigned: Assignment, changed: set[int]) -> bool:
    """Rules 8 and 10 for the clients of `changed` requests: their visits in `assigned` do not
    overlap, nor exceed the client's visits a day."""
    inst = run.inst
    for c in {inst.requests[r].client for r in changed}:
        own = [r for r in inst.clients[c].requests if r in assigned]
        spans = sorted((assigned[r][1], assigned[r][1] + inst.requests[r].duration) for r in own)
        if any(a_end > b_start for (_, a_end), (b_start, _) in pairwise(spans)):
            return False
        per_day = Counter(inst.clock.day_of(assigned[r][1]) for r in own)
        if per_day and max(per_day.values()) > inst.clients[c].max_visits_per_day:
            return False
    return True


def _pick(
    run: Run, rng: random.Random, size: int, active: list[int], pinned: set[int], taken: set[int]
) -> tuple[str, set[int], list[int]]:
    """One neighbourhood: (kind, volunteers, free requests), none of the `taken` volunteers."""
    cands = run.cands
    uncovered = [r for r in range(len(run.inst.requests)) if r not in run.best and cands.volunteers_of[r]]
    target: int | None = None
    if uncovered and rng.random() < run.params.chain_share:
        kind = "chain"
        target = rng.choice(uncovered)
        hood = chain_neighbourhood(run, target, size, rng)
    else:
        kind = "nearest"
        hood = set(nearest_volunteers(run, rng.choice(active), size - 1))
    hood -= taken
    free, _ = neighbourhood(run, hood, pinned, rng, target, max_uncovered=run.params.max_uncovered)
    return kind, hood, free


def _pick_polish(
    run: Run, rng: random.Random, size: int, pinned: set[int], taken: set[int]
) -> tuple[str, set[int], list[int]]:
    """A neighbourhood for the lower tiers: a client who sees a stranger or several faces,
    the volunteers they know or see, and those living nearest to them."""
    inst, prefs = run.inst, run.prefs
    seen: dict[int, set[int]] = {}
    for r, (v, _) in run.best.items():
        seen.setdefault(inst.requests[r].client, set()).add(v)
    poor = sorted(
        c for c, vols in seen.items() if len(vols) > 1 or (prefs.volunteers[c] and not vols <= prefs.volunteers[c])
    )
    if poor:
        c = rng.choice(poor)
        core = (seen[c] | prefs.volunteers[c]) - taken
    else:
        core = {rng.choice(sorted({v for v, _ in run.best.values()} or {0}))}
    hood = set(core)
    for v in sorted(core):
        if len(hood) >= size:
            break
        hood.update(nearest_volunteers(run, v, max(1, (size - len(hood)) // max(1, len(core)))))
    hood -= taken
    free, _ = neighbourhood(run, hood, pinned)
    free = [r for r in free if r in run.best]  # coverage is held: only the covered move
    return "polish", hood, free


def large_neighbourhood_search(
    run: Run,
    pins: Assignment,
    workers: int,
    seed: int,
    deterministic: bool,
    budget: float | None = None,
    polish: bool = False,
    rounds: int | None = None,
) -> int:
    """Improve run.best in place within `budget` seconds (default: what is left of the run);
    returns the number of improving rounds. `polish`: neighbourhoods for the lower tiers.

    With several workers, as many neighbourhoods are solved at once (one CP-SAT worker
    each; CP-SAT releases the GIL); `params.simulated_workers` does the same one after the
    other in a deterministic run, counting each batch's longest solve only. They share no
    volunteer and no free request, and a result that would break rule 8 or 10 with
    another's is dropped; each is kept or dropped on its own merit. With one worker the
    search is sequential and deterministic."""
    params = run.params
    rng = random.Random(seed)
    cands = run.cands
    pinned = set(pins)
    active = [v for v in range(len(run.inst.volunteers)) if cands.requests_of_volunteer[v]]
    if not active:
        return 0
    if deterministic:
        parallel = max(1, params.simulated_workers)
    else:
        parallel = max(1, workers)
    threads = 1 if deterministic else parallel  # simulated workers run one after the other
    if budget is None:
        budget = run.time_limit if deterministic else run.time_limit - run.elapsed()
    started = time.perf_counter()
    spent = 0.0
    improved = done = 0
    size = params.initial_neighbours
    counts = run.stats.setdefault("lns", {"rounds": Counter(), "improved": Counter(), "sizes": Counter()})
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while rounds is None or done < rounds:
            left = budget - (spent if deterministic else time.perf_counter() - started)
            if left < params.min_round_seconds:
                break
            batch: list[_Round] = []
            taken_vols: set[int] = set()
            taken_requests: set[int] = set()
            for _ in range(parallel * 3):
                if len(batch) == parallel:
                    break
                if polish:
                    kind, hood, free = _pick_polish(run, rng, size, pinned, taken_vols)
                else:
                    kind, hood, free = _pick(run, rng, size, active, pinned, taken_vols)
                free = [r for r in free if r not in taken_requests]
                if not free or len(hood) < params.min_neighbours:
                    continue
                taken_vols |= hood
                taken_requests.update(free)
                t0 = time.perf_counter()
                free_set = set(free)
                fixed = {r: a for r, a in run.best.items() if r not in free_set}
                hint = {r: run.best[r] for r in free if r in run.best}
                sub = SubProblem(free=free, fixed=fixed, hint=hint, volunteers=hood)
                model = WeekModel(cands, run.prefs, sub, params)
                batch.append(_Round(kind, hood, free, model, time.perf_counter() - t0))
            done += max(1, len(batch))
            limit = min(params.round_seconds, left)
            jobs = [
                pool.submit(
                    b.model.solve,
                    limit,
                    1 if parallel > 1 else workers,
                    rng.randrange(1 << 30),
                    deterministic,
                    params.round_seconds * params.lower_tiers_share,
                    True,
                    polish,
                )
                for b in batch
            ]
            took = 0.0
            for b, job in zip(batch, jobs, strict=True):
                outcome = job.result()
                took = max(took, outcome.deterministic_seconds if deterministic else outcome.seconds)
                counts["rounds"][b.kind] += 1
                counts["sizes"][len(b.hood)] += 1
                if DEBUG:
                    print(
                        f"lns {b.kind} size {size} hood {len(b.hood)} free {len(b.free)} vars {outcome.variables} "
                        f"build {b.build_seconds:.2f} solve {outcome.seconds:.2f} {outcome.status} "
                        f"coverage {outcome.coverage} bound {outcome.coverage_bound}",
                        file=sys.stderr,
                    )
                if not polish:
                    size = _next_size(run, size, outcome)
                if outcome.status in ("OPTIMAL", "FEASIBLE"):
                    freed = set(b.free)
                    candidate = {r: a for r, a in run.best.items() if r not in freed}
                    candidate.update(outcome.assigned)
                    if len(batch) > 1 and not _clients_apart(run, candidate, freed):
                        continue  # another neighbourhood of this batch moved the same client's visits
                    if run.offer(candidate, "lns"):
                        improved += 1
                        counts["improved"][b.kind] += 1
            spent += max(took, params.round_overhead)  # so that even empty rounds use up the budget
    return improved


def _next_size(run: Run, size: int, outcome: Outcome) -> int:
    """Grow neighbourhoods whose coverage CP-SAT proves quickly, shrink those it cannot."""
    params = run.params
    proven = outcome.coverage == outcome.coverage_bound
    if proven and outcome.coverage_seconds < params.round_seconds * params.quick_proof_share:
        return min(params.max_neighbours, size + params.grow)
    if not proven:
        return max(params.min_neighbours, size - params.shrink)
    return size
