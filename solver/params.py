"""Every tuning number of the search in one place, passed through `solve(params=...)`.

The defaults were measured on the benchmark weeks (docs/benchmarks.md); a test or a
benchmark may pass others. None of them changes what a valid roster is, only how hard and
where the search looks for a better one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchParams:
    # --- the whole solve (solver.engine)
    # up to here one CP-SAT model of the whole week (above, neighbourhoods: on M weeks of 300
    # clients they reached 1.117x the greedy in 30 s where the whole-week model reached 1.080x,
    # scarce; 1.078x against 1.047x, easy) ...
    monolithic_max_clients: int = 100
    monolithic_max_pairs: int = 200_000  # ... if its volunteers' same-day option pairs stay below this
    small_week_clients: int = 100  # up to here that model aims at a proof (one worker), above at progress
    ejection_share: float = 0.07  # of the time limit, at most, for the ejection-chain search
    ejection_attempts_per_second: int = 2500  # its deterministic budget with one worker
    finish_seconds_per_request: float = (
        0.0006  # kept back for the last fill and the reasons (XL under load: 0.0003 ran 1.8 s over)
    )
    # the LP before the search (above 100 clients; solver.engine.relax): its time limit, about
    # twice what it was measured to take (scarce L, 87,570 candidate pairs: 1.4 s; M 0.15 s) ...
    relaxation_seconds_per_pair: float = 0.00003
    relaxation_min_seconds: float = 0.5
    advice_max_seconds: float = 20.0  # ... and the approximate LP's, on weeks too big for the exact one
    # a second start from the LP's solution (solver.advised), when the LP ran: scarce XL
    # 1.094x the greedy in 120 s against 1.082x without; M, L and flex M alike either way
    advised_start: bool = True
    continuity_guard: bool = True  # refuse rosters with a lower known share or more faces per client (solver.guard)
    # of the search time kept for neighbourhoods of the lower tiers (continuity, travel, fairness;
    # each coverage neighbourhood gives them time too): on scarce M a quarter kept 1 of 1,457
    # such neighbourhoods and cost coverage (1.092x against 1.117x with a tenth)
    polish_share: float = 0.1
    reinsert_share: float = 0.05  # of the search, at most, for the ejection chains between its two halves

    # --- one CP-SAT model (solver.model)
    first_stage_share: float = 0.85  # of a model's time, at most, for coverage; the rest for the lower tiers
    runaway_factor: float = 20.0  # deterministic runs: wall-clock safety net = max(runaway_min, factor * limit)
    runaway_min_seconds: float = 30.0
    linearization_level: int = 2  # CP-SAT's, for a model solved by one worker

    # --- large-neighbourhood search (solver.lns)
    initial_neighbours: int = 12  # volunteers freed by the first neighbourhood
    min_neighbours: int = 4
    max_neighbours: int = 80
    round_seconds: float = 1.0  # CP-SAT time per neighbourhood
    round_overhead: float = 0.01  # seconds a round counts at least (deterministic runs count CP-SAT time only)
    min_round_seconds: float = 0.2  # no new round with less time left
    max_uncovered: int = 12  # uncovered requests offered to one neighbourhood (beyond its target) ...
    lower_tiers_share: float = 0.3  # of a round, at most, for the lower tiers once coverage is settled
    quick_proof_share: float = 0.3  # a neighbourhood proven within this share of a round grows the next
    grow: int = 1  # at least, and at least times grow_factor
    grow_factor: float = 1.25
    shrink: int = 2  # at least, and at least down to times shrink_factor
    shrink_factor: float = 0.8
    uncovered_per_volunteer: int = 2  # ... or this many per volunteer in it, whichever is more
    lp_share: float = 0.7  # of neighbourhoods, built around a volunteer the LP keeps busier (when the LP ran)
    lp_idle_minutes: int = 60  # ... whose LP minutes exceed their roster minutes by this much
    lp_least_share: float = 0.25  # the LP's advice followed: a visit's share with a volunteer above this
    chain_share: float = 0.8  # of neighbourhoods, built around an uncovered request (else around a volunteer)
    chain_first_volunteers: int = 4  # the target's nearest candidates that start a chain neighbourhood
    chain_takers: int = 6  # per freed visit, candidates who could take it over
    # The benchmark's way to tell what N cores would bring without having them (0: off): the
    # whole solve runs on one core, on a clock of this thread's CPU time, and the
    # neighbourhood search replays its steps on N virtual workers (solver.run, solver.lns).
    simulated_workers: int = 0

    # --- insertion with ejection chains (solver.improve)
    ejection_candidates: int = 30  # of an uncovered request's nearest candidates, how many may make room
    ejection_next_candidates: int = 6  # ... and deeper in the chain
    ejection_depth: int = 3
    ejection_passes: int = 5
    continuity_attempts: int = 20_000  # placement attempts of the last pass giving visits back to known faces

    # --- repair and pins
    repair_seconds: float = 2.0
    pin_seconds: float = 10.0


DEFAULT_PARAMS = SearchParams()
