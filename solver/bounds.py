"""Upper bounds on priority-weighted coverage, so a roster's quality can be judged.

- CP-SAT's first stage over the whole week (maximise coverage) proves a bound: used for
  weeks solved as one model.
- For larger weeks, the linear relaxation of a capacity model (solved with GLOP, OR-Tools'
  LP solver): one variable in [0, 1] per option (request, volunteer, day), and only
  constraints every roster obeys:
      each request at most once;
      each volunteer's minutes <= max_minutes_per_week;
      per volunteer and day: visits <= max_visits_per_day, and minutes <= the stretch of
      time their options that day span;
      per client and day: minutes <= the stretch their options that day span (rule 8), and
      visits <= the client's max_visits_per_day (rule 10).
  Its optimum, rounded down, bounds coverage from above. Given the continuity guard
  (solver.guard), the same LP with the guard's two rows bounds the rosters that keep it:
  known share K*H0 >= K0*H (linear in the options), and faces per client F*C0 <= F0*C with
  "sees" variables (>= each request's options with that volunteer) and "covered" variables
  (<= 1 and <= the client's options). Every roster that keeps the guard satisfies them.
- Always: the priority of every request that has any candidate at all (rules 1-5), and a
  fractional knapsack over everyone's minutes: no roster covers more visit minutes than the
  volunteers can give (each at most their weekly minutes, their available minutes, and
  visits-per-day times the longest visit on each available day), so the requests with the
  most priority per minute, filled into that total, bound coverage too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from solver.candidates import Candidates, Option
from solver.guard import Guard
from solver.instance import Instance
from solver.objective import Preferences

LP_MAX_OPTIONS = 200_000  # beyond this the relaxation costs more time than it is worth
# beyond this even the approximate LP does (on 3,000 clients: 779,000 pairs, 6 s; 1,287,000, 29 s)
ADVICE_MAX_PAIRS = 1_000_000


def trivial_bound(inst: Instance, cands: Candidates) -> int:
    return sum(inst.requests[r].priority for r in range(len(inst.requests)) if cands.has_option(r))


def capacity_bound(inst: Instance, cands: Candidates) -> int:
    """The fractional knapsack described above."""
    longest = max((r.duration for r in inst.requests), default=0)
    capacity = 0
    for v in inst.volunteers:
        days = {a.day for a in v.availability}
        available = sum(a.end - a.start for a in v.availability)
        capacity += min(v.max_minutes_per_week, available, v.max_visits_per_day * longest * len(days))
    bound, left = 0.0, float(capacity)
    coverable = [r for r in inst.requests if cands.has_option(r.index)]
    for r in sorted(coverable, key=lambda r: r.priority / r.duration, reverse=True):
        take = min(1.0, left / r.duration)
        bound += take * r.priority
        left -= take * r.duration
        if left <= 0:
            break
    return math.floor(bound + 1e-9)


def coverage_bound(inst: Instance, cands: Candidates, proven: int | None) -> int:
    known = min(trivial_bound(inst, cands), capacity_bound(inst, cands))
    return known if proven is None else min(known, proven)


def candidate_pairs(cands: Candidates) -> int:
    """(request, volunteer) pairs that pass rules 1-4: what the LP's size grows with."""
    return sum(len(v) for v in cands.volunteers_of)


def relaxation_fits(cands: Candidates, max_options: int = LP_MAX_OPTIONS) -> bool:
    """Whether relaxation_bound takes the week on at all (about two options per pair)."""
    return candidate_pairs(cands) * 2 <= max_options


@dataclass(frozen=True)
class Relaxation:
    """The LP's optimum rounded down (a bound on coverage), and its solution: per request, the
    share of it each volunteer takes (only shares above zero). The search reads the solution
    as advice: which volunteers the LP keeps busy where the roster leaves them idle."""

    bound: int | None  # None: solved approximately (see relaxation)
    shares: dict[int, dict[int, float]]


def relaxation_bound(inst: Instance, cands: Candidates, **options: Any) -> int | None:
    """The LP bound described above (`options`: those of `relaxation`), or None when the
    week has too many options or GLOP fails."""
    found = relaxation(inst, cands, **options)
    return None if found is None else found.bound


def advice_fits(cands: Candidates, max_pairs: int = ADVICE_MAX_PAIRS) -> bool:
    """Whether relaxation(approximate=True) takes the week on."""
    return candidate_pairs(cands) <= max_pairs


def relaxation(
    inst: Instance,
    cands: Candidates,
    time_limit: float = 10.0,
    spans: bool = True,
    max_options: int = LP_MAX_OPTIONS,
    guard: tuple[Preferences, Guard] | None = None,
    approximate: bool = False,
) -> Relaxation | None:
    """The LP described above, with its solution; None when the week has more than
    `max_options` options or the LP solver fails. `spans=False` leaves out the per-day
    stretches: overlaps and travel relaxed, the looser ceiling the issue tracker's figures
    use. `guard`: only the rosters that keep the continuity guard (with the preferences it
    was taken under). `approximate`: for weeks too big for the simplex method (GLOP took 53 s
    on a 3,000-client week), PDLP's first-order method to a 1 % tolerance (6 s there): its
    solution is advice only, and `bound` is None."""
    from ortools.linear_solver import pywraplp

    if not (advice_fits(cands) if approximate else relaxation_fits(cands, max_options)):
        return None
    lp = pywraplp.Solver.CreateSolver("PDLP" if approximate else "GLOP")
    if lp is None:
        return None
    if approximate:
        lp.SetSolverSpecificParametersAsString(
            "num_threads: 1 termination_criteria { simple_optimality_criteria "
            "{ eps_optimal_relative: 0.01 eps_optimal_absolute: 0.01 } }"
        )
    lp.SetTimeLimit(int(time_limit * 1000))
    # Rows are built coefficient by coefficient: pywraplp's expression syntax took most of
    # the time on 1,000 clients. (pywraplp has no type information: its objects are Any.)
    by_request: dict[int, list[Any]] = defaultdict(list)
    by_volunteer: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    by_volunteer_day: dict[tuple[int, int], list[tuple[int, Any, int, int]]] = defaultdict(list)
    by_client_day: dict[tuple[int, int], list[tuple[int, Any, int, int]]] = defaultdict(list)
    objective = lp.Objective()
    variables: list[tuple[Option, Any]] = []
    for r, request in enumerate(inst.requests):
        for o in cands.options[r]:
            x = lp.NumVar(0.0, 1.0, "")
            variables.append((o, x))
            objective.SetCoefficient(x, request.priority)
            end = o.starts[-1] + request.duration
            by_request[r].append(x)
            by_volunteer[o.volunteer].append((request.duration, x))
            by_volunteer_day[(o.volunteer, o.day)].append((request.duration, x, o.starts[0], end))
            by_client_day[(request.client, o.day)].append((request.duration, x, o.starts[0], end))
    objective.SetMaximization()

    def row(terms: list[tuple[float, Any]], upper: float) -> None:
        constraint = lp.Constraint(-lp.infinity(), float(upper))
        for coefficient, x in terms:
            constraint.SetCoefficient(x, coefficient)

    for xs in by_request.values():
        row([(1.0, x) for x in xs], 1)
    for v, minutes in by_volunteer.items():
        if sum(d for d, _ in minutes) > inst.volunteers[v].max_minutes_per_week:
            row([(d, x) for d, x in minutes], inst.volunteers[v].max_minutes_per_week)
    for (v, _), items in by_volunteer_day.items():
        if len(items) > inst.volunteers[v].max_visits_per_day:
            row([(1.0, x) for _, x, _, _ in items], inst.volunteers[v].max_visits_per_day)
    if spans:
        for stretch in (*by_volunteer_day.values(), *by_client_day.values()):
            span = max(e for *_, e in stretch) - min(s for _, _, s, _ in stretch)
            if sum(d for d, *_ in stretch) > span:
                row([(d, x) for d, x, _, _ in stretch], span)
    for (c, _), items in by_client_day.items():
        if len(items) > inst.clients[c].max_visits_per_day:
            row([(1.0, x) for _, x, _, _ in items], inst.clients[c].max_visits_per_day)
    if guard is not None:
        _guard_rows(lp, inst, cands, by_request, *guard)
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    shares: dict[int, dict[int, float]] = defaultdict(dict)
    for o, x in variables:
        value = x.solution_value()
        if value > 1e-6:
            shares[o.request][o.volunteer] = shares[o.request].get(o.volunteer, 0.0) + value
    bound = None if approximate else int(math.floor(objective.Value() + 1e-6))
    return Relaxation(bound, dict(shares))


def _guard_rows(
    lp: Any, inst: Instance, cands: Candidates, xs: dict[int, list[Any]], prefs: Preferences, guard: Guard
) -> None:
    """The continuity guard's two rows over the LP's option variables (`xs` per request, in
    the order of cands.options)."""
    ref = guard.reference
    share = lp.Constraint(0.0, lp.infinity()) if ref.with_history else lp.Constraint(0.0, 0.0)
    faces = lp.Constraint(-lp.infinity(), 0.0)  # C0 * sum(sees) - F0 * sum(covered) <= 0
    sees: dict[tuple[int, int], Any] = {}
    by_client: dict[int, list[Any]] = defaultdict(list)
    for r, request in enumerate(inst.requests):
        c, known = request.client, prefs.volunteers[request.client]
        per_volunteer: dict[int, Any] = {}
        for o, x in zip(cands.options[r], xs.get(r, ()), strict=True):
            by_client[c].append(x)
            if known:  # K*H0 - K0*H >= 0, or K - H == 0 when the greedy had no such visit
                is_known = o.volunteer in known
                coefficient = (ref.with_history * is_known - ref.known) if ref.with_history else (is_known - 1)
                share.SetCoefficient(x, float(coefficient))
            seen = sees.get((c, o.volunteer))
            if seen is None:
                seen = sees[(c, o.volunteer)] = lp.NumVar(0.0, 1.0, "")
                faces.SetCoefficient(seen, float(ref.clients))
            link = per_volunteer.get(o.volunteer)
            if link is None:  # sum of this request's options with the volunteer <= sees
                link = per_volunteer[o.volunteer] = lp.Constraint(-lp.infinity(), 0.0)
                link.SetCoefficient(seen, -1.0)
            link.SetCoefficient(x, 1.0)
    for options in by_client.values():
        covered = lp.NumVar(0.0, 1.0, "")
        faces.SetCoefficient(covered, -float(ref.faces))
        link = lp.Constraint(-lp.infinity(), 0.0)  # covered <= sum of the client's options
        link.SetCoefficient(covered, 1.0)
        for x in options:
            link.SetCoefficient(x, -1.0)
