"""Large-neighbourhood search over the warm start, for weeks too big for one model.

Each round frees one neighbourhood: a seed volunteer and the ~30 volunteers living
nearest, all their visits (pins excepted) and every uncovered request one of them could
take. Everything else stays fixed; the sub-model (solver.model) gets the current roster as a
complete hint and a couple of seconds. The new roster is kept only when it is better in
the lexicographic order of solver.objective, so the result never gets worse than the warm
start. Seeds are drawn mostly next to uncovered requests (where coverage can grow), else
at random; with one worker the sequence is deterministic for a given seed.
"""

from __future__ import annotations

import random

from solver.model import SubProblem, WeekModel

NEIGHBOURS = 30
ROUND_SECONDS = 2.0


def nearest_volunteers(run, v: int, count: int) -> list[int]:
    inst, cands = run.inst, run.cands
    home = inst.volunteers[v].home
    from solver.travel import great_circle_km
    others = sorted((great_circle_km(home, w.home), w.index) for w in inst.volunteers
                    if w.index != v and cands.requests_of_volunteer[w.index])
    return [v] + [w for _, w in others[:count]]


def neighbourhood(run, hood: set[int], pinned: set[int]) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """(free requests, fixed assignments) for a set of volunteers."""
    cands = run.cands
    free, fixed = [], {}
    for r, (v, s) in run.best.items():
        if v in hood and r not in pinned:
            free.append(r)
        else:
            fixed[r] = (v, s)
    for v in hood:
        for r in cands.requests_of_volunteer[v]:
            if r not in run.best and r not in pinned:
                free.append(r)
    return sorted(set(free)), fixed


def large_neighbourhood_search(run, pins: dict[int, tuple[int, int]], workers: int, seed: int,
                               deterministic: bool, rounds: int | None = None) -> int:
    """Improve run.best in place; returns the number of improving rounds."""
    rng = random.Random(seed)
    cands = run.cands
    pinned = set(pins)
    active = [v for v in range(len(run.inst.volunteers)) if cands.requests_of_volunteer[v]]
    if not active:
        return 0
    budget = run.time_limit - run.elapsed()
    spent = 0.0
    improved = done = 0
    while (rounds is None or done < rounds):
        left = budget - spent if deterministic else run.remaining()
        if left < 0.2:
            break
        uncovered = [r for r in range(len(run.inst.requests)) if r not in run.best and cands.volunteers_of[r]]
        if uncovered and rng.random() < 0.7:
            r = rng.choice(uncovered)
            v = rng.choice(cands.volunteers_of[r])
        else:
            v = rng.choice(active)
        hood = set(nearest_volunteers(run, v, NEIGHBOURS))
        free, fixed = neighbourhood(run, hood, pinned)
        if not free:
            done += 1
            continue
        hint = {r: run.best[r] for r in free if r in run.best}
        model = WeekModel(cands, run.prefs, SubProblem(free=free, fixed=fixed, hint=hint, volunteers=hood))
        outcome = model.solve(min(ROUND_SECONDS, left), workers, rng.randrange(1 << 30), deterministic)
        spent += outcome.deterministic_seconds if deterministic else outcome.seconds
        done += 1
        if outcome.status in ("OPTIMAL", "FEASIBLE"):
            if run.offer({**fixed, **outcome.assigned}, "lns"):
                improved += 1
    return improved
