"""solve() and explain(): from an instance document to a roster document.

parse -> prune candidates -> place pins -> greedy warm start -> ejection chains
      -> one CP-SAT model of the week (up to 300 clients) or large-neighbourhood search
      -> (or, given a base roster: keep what still holds, repair the rest)
      -> reasons for what stays uncovered -> carecal-roster/1
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from solver.bounds import coverage_bound, relaxation_bound
from solver.candidates import Candidates
from solver.greedy import greedy, greedy_fill
from solver.improve import insert_with_ejection
from solver.instance import Instance, load_instance
from solver.lns import large_neighbourhood_search
from solver.model import SubProblem, WeekModel
from solver.objective import Preferences, Score, evaluate, global_weights
from solver.pins import place_pins
from solver.reasons import explain_request, unassigned_reasons
from solver.repair import repair
from solver.roster import base_assignments, previous_preferences, roster_document
from solver.schedule import Schedule

MONOLITHIC_MAX_CLIENTS = 300  # up to here one model of the whole week is solved
SMALL_WEEK_CLIENTS = 100  # up to here that model aims at a proof; above, at progress (LP bound, ties kept)
EJECTION_SHARE = 0.5  # of the time limit, at most, for the ejection-chain search
EJECTION_ATTEMPTS_PER_SECOND = 2500  # its deterministic budget with one worker (about a quarter of the time)
FINISH_SECONDS_PER_REQUEST = 0.0003  # kept back from the search for the last fill and the reasons
Progress = Callable[[dict], None]


class Run:
    """One solve: the clock, the best roster so far and progress reports."""

    def __init__(
        self,
        inst: Instance,
        cands: Candidates,
        prefs: Preferences,
        time_limit: float,
        on_progress: Progress | None,
        started: float | None = None,
    ):
        self.inst, self.cands, self.prefs = inst, cands, prefs
        self.time_limit = time_limit  # for the search, counted from `started`
        self.started = time.perf_counter() if started is None else started
        self.search_started = time.perf_counter()  # after reading the week and pruning
        self.on_progress = on_progress
        self.weights = global_weights(inst, cands)
        self.best: dict[int, tuple[int, int]] = {}
        self.best_score: Score | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.time_limit - self.elapsed()

    def score(self, assigned: dict[int, tuple[int, int]]) -> Score:
        return evaluate(self.inst, self.cands, self.prefs, assigned)

    def offer(self, assigned: dict[int, tuple[int, int]], phase: str) -> bool:
        """Keep `assigned` if it beats the best so far; report progress either way."""
        score = self.score(assigned)
        better = self.best_score is None or score.key() > self.best_score.key()
        if better:
            self.best, self.best_score = dict(assigned), score
        self.report(phase)
        return better

    def report(self, phase: str) -> None:
        if self.on_progress is not None and self.best_score is not None:
            self.on_progress(
                {
                    "phase": phase,
                    "elapsed": round(self.elapsed(), 3),
                    "time_limit": self.time_limit,
                    "covered": len(self.best),
                    "requests": len(self.inst.requests),
                    "objective": self.best_score.combined(self.weights),
                }
            )


def optimise(
    run: Run, pins: dict[int, tuple[int, int]], workers: int, seed: int, deterministic: bool, extra: dict
) -> tuple[str, int | None]:
    """Greedy, ejection chains, then CP-SAT (one model or neighbourhoods) into run.best.
    Returns the status and the best proven bound on weighted coverage (None: none)."""
    inst, cands, prefs, time_limit = run.inst, run.cands, run.prefs, run.time_limit
    status, proven = "FEASIBLE", None
    warm = greedy(cands, prefs, pins)
    run.offer(warm.assigned, "greedy")
    extra["greedy_seconds"] = round(run.elapsed(), 3)
    extra["greedy_weighted_coverage"] = run.best_score.coverage
    if deterministic:
        insert_with_ejection(warm, prefs, set(pins), attempts=int(EJECTION_ATTEMPTS_PER_SECOND * time_limit))
    else:
        insert_with_ejection(warm, prefs, set(pins), deadline=run.started + EJECTION_SHARE * time_limit)
    run.offer(warm.assigned, "greedy")
    extra["ejection_seconds"] = round(run.elapsed() - extra["greedy_seconds"], 3)
    small = len(inst.clients) <= SMALL_WEEK_CLIENTS
    if not small:  # small weeks: CP-SAT's own bound suffices
        proven = relaxation_bound(inst, cands, time_limit=max(0.5, 0.2 * time_limit))
    if len(inst.clients) > MONOLITHIC_MAX_CLIENTS:
        large_neighbourhood_search(run, pins, workers, seed, deterministic)
        return status, proven
    sub = SubProblem(free=list(range(len(inst.requests))), fixed={}, hint=run.best, forced=set(pins))
    # A small week's proof was measured to come two to three times faster from one CP-SAT
    # worker than from two (S: 3 s against 5-9 s); larger weeks gain from the portfolio.
    limit = time_limit if deterministic else max(0.1, run.remaining())
    outcome = WeekModel(cands, prefs, sub).solve(
        limit, 1 if small else workers, seed, deterministic, keep_hint=not small
    )
    extra["cp_sat_seconds"] = round(outcome.seconds, 3)
    if outcome.coverage_bound is not None:
        proven = outcome.coverage_bound if proven is None else min(proven, outcome.coverage_bound)
    if outcome.status in ("OPTIMAL", "FEASIBLE"):
        run.offer(outcome.assigned, "cp-sat")
        if outcome.status == "OPTIMAL" and run.best == outcome.assigned:
            status = "OPTIMAL"
    return status, proven


def solve(
    instance: dict,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    previous: dict | None = None,
    base: dict | None = None,
    hold: Iterable[str] = (),
    on_progress: Progress | None = None,
) -> dict:
    """Solve one week (see docs/format.md); returns a carecal-roster/1 document.

    `previous`: last week's roster (stability wishes). `base`: this week's roster to repair:
    what still holds stays, only freed and unassigned requests are re-solved. `hold`: request
    ids that must not go to a new volunteer in a repair. With `workers=1` the run is
    deterministic for a given `seed` (time is then measured in CP-SAT's deterministic seconds).
    """
    started = time.perf_counter()  # the time limit covers reading the week and writing reasons too
    inst = load_instance(instance)
    cands = Candidates(inst)
    prefs = previous_preferences(inst, previous)
    pins = place_pins(inst)
    finishing = FINISH_SECONDS_PER_REQUEST * len(inst.requests)
    run = Run(inst, cands, prefs, max(0.1, time_limit - finishing), on_progress, started)
    deterministic = workers <= 1
    proven, extra = None, {}

    if base is not None:
        outcome = repair(run, base_assignments(inst, base), pins, set(hold), workers, seed, deterministic)
        status, extra = outcome.status, outcome.stats
        reasons = outcome.reasons
    else:
        status, proven = optimise(run, pins, workers, seed, deterministic, extra)
        reasons = {}
    # Whatever still fits after the search goes in (cheap, and never hurts coverage).
    final = Schedule(inst, cands)
    for r, (v, s) in run.best.items():
        final.add(r, v, s)
    if base is None:
        greedy_fill(final, prefs, range(len(inst.requests)))
        run.offer(final.assigned, "greedy")
        final = Schedule(inst, cands)
        for r, (v, s) in run.best.items():
            final.add(r, v, s)
    search_seconds = time.perf_counter() - run.search_started
    for r in range(len(inst.requests)):
        if r not in final.assigned and r not in reasons:
            reasons[r] = unassigned_reasons(cands, final, r)
    score = run.best_score or run.score(final.assigned)
    weights = run.weights
    cov_bound = coverage_bound(inst, cands, proven)
    stats = {
        "objective": score.combined(weights),
        "best_bound": cov_bound * weights.coverage,
        "solve_seconds": round(search_seconds, 3),
        "total_seconds": round(run.elapsed(), 3),
        "weighted_coverage": score.coverage,
        "coverage_bound": cov_bound,
        "gap": round((cov_bound - score.coverage) / cov_bound, 4) if cov_bound else 0.0,
        "continuity_cost": score.continuity,
        "travel_km": round(score.travel / 10, 1),
        "peak_load_percent": score.fairness,
        "covered": len(final.assigned),
        "requests": len(inst.requests),
        **extra,
    }
    if status == "OPTIMAL":
        stats["best_bound"] = stats["objective"]
    return roster_document(inst, final.assigned, reasons, status, stats)


def explain(instance: dict, request_id: str, roster: dict | None = None) -> dict:
    """Why request `request_id` is (or is not) covered: every volunteer with the rules they
    break for it. Against `roster` if given, else against the greedy roster."""
    inst = load_instance(instance)
    cands = Candidates(inst)
    prefs = Preferences.none(inst)
    if roster is not None:
        schedule = Schedule(inst, cands)
        for r, (v, s) in base_assignments(inst, roster).items():
            schedule.add(r, v, s)
    else:
        schedule = greedy(cands, prefs, place_pins(inst))
    return explain_request(cands, schedule, request_id)
