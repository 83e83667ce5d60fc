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
from collections.abc import Sequence
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
    on a 3,000-client week), PDLP's first-order method to a 1 % tolerance (1 s there): its
    solution is advice only, and `bound` is None."""
    if not (advice_fits(cands) if approximate else relaxation_fits(cands, max_options)):
        return None
    lp = _LinearProgram()
    # one variable per option, its index in `options`; the rows gather them
    options: list[Option] = []
    by_request: dict[int, list[int]] = defaultdict(list)
    by_volunteer: dict[int, list[tuple[int, int]]] = defaultdict(list)
    by_volunteer_day: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
    by_client_day: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
    for r, request in enumerate(inst.requests):
        for o in cands.options[r]:
            x = lp.variable(request.priority)
            options.append(o)
            end = o.starts[-1] + request.duration
            by_request[r].append(x)
            by_volunteer[o.volunteer].append((request.duration, x))
            by_volunteer_day[(o.volunteer, o.day)].append((request.duration, x, o.starts[0], end))
            by_client_day[(request.client, o.day)].append((request.duration, x, o.starts[0], end))

    for xs in by_request.values():
        lp.row([(1, x) for x in xs], upper=1)
    for v, minutes in by_volunteer.items():
        if sum(d for d, _ in minutes) > inst.volunteers[v].max_minutes_per_week:
            lp.row(minutes, upper=inst.volunteers[v].max_minutes_per_week)
    for (v, _), items in by_volunteer_day.items():
        if len(items) > inst.volunteers[v].max_visits_per_day:
            lp.row([(1, x) for _, x, _, _ in items], upper=inst.volunteers[v].max_visits_per_day)
    if spans:
        for stretch in (*by_volunteer_day.values(), *by_client_day.values()):
            span = max(e for *_, e in stretch) - min(s for _, _, s, _ in stretch)
            if sum(d for d, *_ in stretch) > span:
                lp.row([(d, x) for d, x, _, _ in stretch], upper=span)
    for (c, _), items in by_client_day.items():
        if len(items) > inst.clients[c].max_visits_per_day:
            lp.row([(1, x) for _, x, _, _ in items], upper=inst.clients[c].max_visits_per_day)
    if guard is not None:
        _guard_rows(lp, inst, options, *guard)
    solved = lp.solve(time_limit, approximate)
    if solved is None:
        return None
    optimum, values = solved
    shares: dict[int, dict[int, float]] = defaultdict(dict)
    for o, value in zip(options, values, strict=False):  # (the guard's own variables follow)
        if value > 1e-6:
            shares[o.request][o.volunteer] = shares[o.request].get(o.volunteer, 0.0) + value
    bound = None if approximate else int(math.floor(optimum + 1e-6))
    return Relaxation(bound, dict(shares))


class _LinearProgram:
    """A maximisation over variables in [0, 1], written straight into OR-Tools' model proto
    (row by row, a list at a time) and solved by its C++ side in one call. pywraplp's
    coefficient-by-coefficient calls took 3.5 of 4.5 s on a 3,000-client week, and held
    the GIL while solving."""

    # PDLP to a 1 % relative gap, on one thread: advice need not be exact
    APPROXIMATE = (
        "num_threads: 1 termination_criteria { simple_optimality_criteria "
        "{ eps_optimal_relative: 0.01 eps_optimal_absolute: 0.01 } }"
    )

    def __init__(self) -> None:
        import ortools.linear_solver.linear_solver_pb2 as proto

        self._proto = proto
        self.model = proto.MPModelProto(maximize=True)

    def variable(self, objective: float = 0.0) -> int:
        self.model.variable.add(lower_bound=0.0, upper_bound=1.0, objective_coefficient=objective)
        return len(self.model.variable) - 1

    def row(self, terms: Sequence[tuple[float, int]], lower: float = -math.inf, upper: float = math.inf) -> None:
        """lower <= sum(coefficient * variable) <= upper, over (coefficient, variable) terms."""
        constraint = self.model.constraint.add(lower_bound=float(lower), upper_bound=float(upper))
        constraint.var_index.extend(x for _, x in terms)
        constraint.coefficient.extend(float(c) for c, _ in terms)

    def solve(self, time_limit: float, approximate: bool) -> tuple[float, list[float]] | None:
        """The optimum and the variables' values (GLOP's simplex method, or PDLP's approximate
        solution); None when the solver does not reach one within the time limit."""
        from ortools.linear_solver.python.model_builder_helper import ModelSolverHelper

        pb = self._proto
        request = pb.MPModelRequest(
            model=self.model,
            solver_type=pb.MPModelRequest.PDLP_LINEAR_PROGRAMMING
            if approximate
            else pb.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
            solver_time_limit_seconds=time_limit,
            solver_specific_parameters=self.APPROXIMATE if approximate else "",
        )
        answer = ModelSolverHelper("pdlp" if approximate else "glop").solve_serialized_request(
            request.SerializeToString()
        )
        response = pb.MPSolutionResponse.FromString(answer)
        if response.status != pb.MPSOLVER_OPTIMAL:
            return None
        return response.objective_value, list(response.variable_value)


def _guard_rows(lp: _LinearProgram, inst: Instance, options: list[Option], prefs: Preferences, guard: Guard) -> None:
    """The continuity guard's two rows (solver.guard) over the LP's option variables
    (`options[x]` is variable x's option): known share a*K - b*H >= 0 over the options, and
    faces per client a*F - b*C <= 0 with fractional "sees" and "covered" variables."""
    a, b = guard.share
    share: list[tuple[float, int]] = []
    fa, fb = guard.faces
    faces: list[tuple[float, int]] = []
    sees: dict[tuple[int, int], int] = {}
    links: dict[tuple[int, int], list[tuple[float, int]]] = {}  # (request, volunteer) -> its options - sees <= 0
    by_client: dict[int, list[int]] = defaultdict(list)
    for x, o in enumerate(options):
        c = inst.requests[o.request].client
        known = prefs.volunteers[c]
        by_client[c].append(x)
        if known:
            share.append((a * (o.volunteer in known) - b, x))
        seen = sees.get((c, o.volunteer))
        if seen is None:
            seen = sees[(c, o.volunteer)] = lp.variable()
            faces.append((fa, seen))
        link = links.get((o.request, o.volunteer))
        if link is None:
            link = links[(o.request, o.volunteer)] = [(-1, seen)]
        link.append((1, x))
    lp.row(share, lower=0)
    for link in links.values():
        lp.row(link, upper=0)
    for xs in by_client.values():
        covered = lp.variable()  # covered <= the client's options
        faces.append((-fb, covered))
        lp.row([(1, covered)] + [(-1, x) for x in xs], upper=0)
    lp.row(faces, upper=0)
