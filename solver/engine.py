"""solve() and explain(): from an instance document to a roster document.

read -> place pins -> prune candidates -> greedy warm start
     -> the week's LP (a bound, advice for a second start and for the neighbourhoods;
        above 100 clients) -> ejection chains on the better start
     -> one CP-SAT model of the week (up to 100 clients) or large-neighbourhood search,
        then neighbourhoods for the lower tiers
     -> (or, given a base roster: keep what still holds, repair the rest)
     -> reasons for what stays uncovered -> carecal-roster/1
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from solver.advised import advised_start
from solver.bounds import advice_fits, candidate_pairs, coverage_bound, relaxation, relaxation_fits
from solver.candidates import Candidates
from solver.greedy import greedy, greedy_fill
from solver.guard import Guard, counts
from solver.improve import Budget, continuity_moves, insert_with_ejection
from solver.instance import load_instance
from solver.lns import large_neighbourhood_search, remember_relaxation
from solver.model import SubProblem, WeekModel
from solver.objective import Preferences
from solver.params import DEFAULT_PARAMS, SearchParams
from solver.pins import place_pins
from solver.reasons import explain_request, unassigned_reasons
from solver.repair import repair
from solver.roster import base_assignments, previous_preferences, roster_document
from solver.run import Assignment, Progress, Run
from solver.schedule import Schedule


def optimise(run: Run, pins: Assignment) -> tuple[str, int | None]:
    """Greedy (or the LP-advised start), ejection chains, then CP-SAT (one model or
    neighbourhoods) into run.best.
    Returns the status and the best proven bound on weighted coverage of any roster (None: none)."""
    inst, cands, prefs, time_limit, params = run.inst, run.cands, run.prefs, run.time_limit, run.params
    status, proven = "FEASIBLE", None
    warm = greedy(cands, prefs, pins)
    run.offer(warm.assigned, "greedy")
    if params.continuity_guard:
        run.guard = Guard(counts(inst, prefs, warm.assigned))
    run.stats["greedy_seconds"] = round(run.elapsed(), 3)
    run.stats["greedy_weighted_coverage"] = run.best_score.coverage if run.best_score else 0
    small = len(inst.clients) <= params.small_week_clients
    if not small:  # (small weeks: CP-SAT's own bound suffices)
        proven = relax(run)
        warm = _better_start(run, pins, warm)
    start_coverage, chains_started = (run.best_score.coverage if run.best_score else 0), run.elapsed()
    if run.mode == "deterministic":
        budget = Budget(None, int(params.ejection_attempts_per_second * time_limit))
    else:
        budget = Budget(run.elapsed() + params.ejection_share * run.remaining(), None, clock=run.elapsed)
    kept = insert_with_ejection(warm, prefs, set(pins), params, guard=run.guard, budget=budget)
    run.offer(warm.assigned, "greedy")
    run.stats["ejection_seconds"] = round(run.elapsed() - chains_started, 3)
    run.stats["ejection_attempts"] = budget.used
    run.stats["ejection_kept"] = kept
    run.stats["ejection_gain"] = (run.best_score.coverage if run.best_score else 0) - start_coverage
    whole_week = (
        len(inst.clients) <= params.monolithic_max_clients and cands.same_day_pairs() <= params.monolithic_max_pairs
    )
    run.stats["whole_week_model"] = whole_week
    if not whole_week:
        search = time_limit if run.mode == "deterministic" else run.remaining()
        coverage = search * (1 - params.polish_share - params.reinsert_share)
        # the coverage neighbourhoods in two halves, with the ejection chains once more between
        # them: they find insertions the neighbourhoods opened, and the second half builds on those
        first = coverage / 2 if coverage >= 4 * params.round_seconds else coverage  # (short solves: no split)
        large_neighbourhood_search(run, pins, run.seed, budget=first)
        if params.reinsert_share > 0:
            again = Schedule.holding(inst, cands, run.best)
            if run.mode == "deterministic":
                budget = Budget(None, int(params.ejection_attempts_per_second * time_limit * params.reinsert_share))
            else:
                budget = Budget(run.elapsed() + params.reinsert_share * search, None, clock=run.elapsed)
            insert_with_ejection(again, prefs, set(pins), params, guard=run.guard, budget=budget)
            run.offer(again.assigned, "greedy")
        # (what the chains left of their share goes to coverage too, not to the polish)
        rest = coverage - first if run.mode == "deterministic" else run.remaining() - params.polish_share * search
        large_neighbourhood_search(run, pins, run.seed + 2, budget=rest)
        polish = time_limit * params.polish_share if run.mode == "deterministic" else run.remaining()
        large_neighbourhood_search(run, pins, run.seed + 1, budget=polish, polish=True)
    else:
        sub = SubProblem(
            free=list(range(len(inst.requests))), fixed={}, hint=run.best, forced=set(pins), guard=run.guard
        )
        # A small week's proof was measured to come two to three times faster from one CP-SAT
        # worker than from two (S: 3 s against 5-9 s); larger weeks gain from the portfolio.
        limit = time_limit if run.mode == "deterministic" else max(0.1, run.remaining())
        outcome = WeekModel(cands, prefs, sub, params).solve(
            limit, 1 if small else run.workers, run.seed, run.deterministic, keep_hint=not small
        )
        run.stats["cp_sat_seconds"] = round(outcome.seconds, 3)
        if outcome.coverage_bound is not None:
            if run.guard is None:
                proven = outcome.coverage_bound if proven is None else min(proven, outcome.coverage_bound)
            else:  # a bound on the rosters that keep the guard only
                run.stats["guarded_coverage_bound"] = outcome.coverage_bound
        if outcome.status in ("OPTIMAL", "FEASIBLE"):
            run.offer(outcome.assigned, "cp-sat")
            if outcome.status == "OPTIMAL" and run.best == outcome.assigned:
                status = "OPTIMAL"
    return status, proven


def relax(run: Run) -> int | None:
    """The week's LP (solver.bounds), before the search: its solution guides the
    neighbourhoods (solver.lns), its optimum bounds coverage. Weeks too big for the simplex
    method get PDLP's approximate solution: advice, no bound. Returns the bound (None: none)."""
    inst, cands, params = run.inst, run.cands, run.params
    exact = relaxation_fits(cands)
    if not exact and not advice_fits(cands):
        return None
    started = run.elapsed()
    limit = (
        max(params.relaxation_min_seconds, params.relaxation_seconds_per_pair * candidate_pairs(cands))
        if exact
        else params.advice_max_seconds
    )
    relaxed = relaxation(inst, cands, time_limit=limit, approximate=not exact)
    run.stats["relaxation_seconds"] = round(run.elapsed() - started, 3)
    if relaxed is None:
        return None
    remember_relaxation(run, relaxed)
    return relaxed.bound


def _better_start(run: Run, pins: Assignment, warm: Schedule) -> Schedule:
    """The LP-advised start (solver.advised) when it covers more than the greedy's."""
    advice = run.cache.get("advice")
    if advice is None or not run.params.advised_start:
        return warm
    started = run.elapsed()
    advised, dropped = advised_start(
        run.cands, run.prefs, pins, advice.shares, run.guard, run.params.continuity_attempts
    )
    run.stats["advised_seconds"] = round(run.elapsed() - started, 3)
    run.stats["advised_dropped"] = dropped
    run.stats["advised_weighted_coverage"] = run.score(advised.assigned).coverage
    return advised if run.offer(advised.assigned, "advised") else warm


def solve(
    instance: dict[str, Any],
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    previous: dict[str, Any] | None = None,
    base: dict[str, Any] | None = None,
    hold: Iterable[str] = (),
    max_moves: int = 2,
    on_progress: Progress | None = None,
    params: SearchParams = DEFAULT_PARAMS,
) -> dict[str, Any]:
    """Solve one week (see docs/format.md); returns a carecal-roster/1 document.

    `previous`: last week's roster (stability wishes). `base`: this week's roster to repair:
    what still holds stays, only freed and unassigned requests are re-solved. `hold`: request
    ids that must not go to a new volunteer in a repair, nor move. `max_moves`: in a repair,
    how many other visits each freed request may move to be re-covered (0: none). With `workers=1` the run is
    deterministic for a given `seed` (time is then measured in CP-SAT's deterministic seconds).
    `params`: the search's tuning numbers (solver.params). Raises InstanceError for a document
    that is not a valid instance, pins that cannot hold included.
    """
    started = time.perf_counter()  # the time limit covers reading the week and writing reasons too
    started_cpu = time.thread_time()
    inst = load_instance(instance)
    pins = place_pins(inst, params)
    cands = Candidates(inst)
    prefs = previous_preferences(inst, previous)
    finishing = params.finish_seconds_per_request * len(inst.requests)
    run = Run(
        inst,
        cands,
        prefs,
        max(0.1, time_limit - finishing),
        params,
        on_progress,
        started,
        workers=workers,
        seed=seed,
        started_cpu=started_cpu,
    )
    if base is not None:
        status, proven = "FEASIBLE", None  # a repair keeps what holds: it proves nothing about the whole week
        outcome = repair(run, base_assignments(inst, base), pins, set(hold), max_moves)
        run.stats.update(outcome.stats)
        reasons = outcome.reasons
    else:
        status, proven = optimise(run, pins)
        reasons = {}
        _fill_and_give_back(run, pins)
    final = Schedule.holding(inst, cands, run.best)
    search_seconds = time.perf_counter() - run.search_started
    for r in range(len(inst.requests)):
        if r not in final.assigned and r not in reasons:
            reasons[r] = unassigned_reasons(cands, final, r)
    stats = _statistics(run, proven, search_seconds)
    if status == "OPTIMAL":
        stats["best_bound"] = stats["objective"]
    return roster_document(inst, final.assigned, reasons, status, stats)


def _fill_and_give_back(run: Run, pins: Assignment) -> None:
    """After a fresh search: whatever still fits goes in (cheap, and never hurts coverage),
    and visits go back to volunteers their clients know where a move or a swap allows."""
    final = Schedule.holding(run.inst, run.cands, run.best)
    greedy_fill(final, run.prefs, range(len(run.inst.requests)))
    run.offer(final.assigned, "greedy")
    continuity_moves(final, run.prefs, set(pins), Budget(None, run.params.continuity_attempts), run.guard)
    run.offer(final.assigned, "continuity")


def _statistics(run: Run, proven: int | None, search_seconds: float) -> dict[str, Any]:
    """The roster's `stats` (docs/solver.md, "stats keys")."""
    inst = run.inst
    score = run.best_score or run.score(run.best)
    weights = run.weights
    cov_bound = coverage_bound(inst, run.cands, proven)
    lns = run.stats.pop("lns", None)
    stats: dict[str, Any] = {
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
        "covered": len(run.best),
        "requests": len(inst.requests),
        **run.stats,
    }
    if lns:
        steps = sum(lns["rounds"].values())
        stats["lns_rounds"] = dict(lns["rounds"])
        stats["lns_improved"] = dict(lns["improved"])
        stats["lns_gain"] = dict(lns["gain"])
        stats["lns_sizes"] = {str(k): n for k, n in sorted(lns["sizes"].items())}
        stats["lns_free_requests_mean"] = round(lns["free"] / steps, 1) if steps else 0.0
        stats["lns_build_seconds"] = round(lns["build_seconds"], 3)
        stats["lns_solve_seconds"] = round(lns["solve_seconds"], 3)
        stats["lns_first_at"] = lns["first_at"]
    return stats


def explain(instance: dict[str, Any], request_id: str, roster: dict[str, Any] | None = None) -> dict[str, Any]:
    """Why request `request_id` is (or is not) covered: every volunteer with the rules they
    break for it. Against `roster` if given, else against the greedy roster."""
    inst = load_instance(instance)
    cands = Candidates(inst)
    prefs = Preferences.none(inst)
    if roster is not None:
        schedule = Schedule.holding(inst, cands, base_assignments(inst, roster))
    else:
        schedule = greedy(cands, prefs, place_pins(inst))
    return explain_request(cands, schedule, request_id)
