"""The CP-SAT model of one week, or of any part of it with the rest held fixed.

One model builder serves the whole week (monolithic solve), a neighbourhood of the
large-neighbourhood search and the repair after a change: `free` requests are decided,
`fixed` visits stay as they are and only shrink what the free ones may do.

Variables, per option (request r, volunteer v, day d):
    x[r,v,d]  the visit happens          s[r,v,d]  its start (the option's grid starts)
    an optional fixed-size interval of `duration_min` on s, present iff x.
Hard rules (rules 1-4 and 5 are already in the options' starts):
    rule 6  per volunteer and day: no_overlap of the intervals, and for every pair that could
            clash, the travel gap in whichever order they come (order literal only when both
            orders are possible); starts are first narrowed against fixed visits
    rule 7  per volunteer: sum of minutes <= what the fixed visits leave;
            per volunteer and day: number of visits <= what the fixed visits leave
    rule 8  per request: at most one option (exactly one for a pin); per client: no_overlap
    rule 9  a pinned request's options are its pinned volunteer (and start) only
    rule 10 per client and day: number of visits <= what the fixed visits leave
Objective: see solver.objective for the tiers and the dominance argument for the weights.
Every variable, auxiliaries included, gets a hint from a complete feasible roster.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.candidates import Candidates, Option
from solver.guard import Counts, Guard, Tally, counts
from solver.instance import Instance
from solver.objective import (
    FAIRNESS_RANGE,
    NEW_FACE,
    PER_VOLUNTEER,
    SLOT_MOVED,
    Preferences,
    Weights,
    fairness_percent,
    ranges,
)
from solver.params import SearchParams
from solver.rules import MayVisit, booked, clear_starts, day_allows, post, weekly_minutes_allow

DEBUG = bool(os.environ.get("CARECAL_SOLVER_DEBUG"))
Assignment = dict[int, tuple[int, int]]  # request -> (volunteer, start)
STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


class WeekRoster:
    """A whole roster, indexed so that a neighbourhood's model reads only the visits it needs
    (those of its volunteers and of its clients) instead of walking the week: built once per
    roster and shared by every neighbourhood built on it."""

    def __init__(self, inst: Instance, prefs: Preferences, assigned: Assignment):
        self.assigned = assigned
        self.by_volunteer: dict[int, list[int]] = defaultdict(list)
        self.by_client: dict[int, list[int]] = defaultdict(list)
        self.minutes = [0] * len(inst.volunteers)
        self.tally = Tally(inst, prefs, assigned)
        for r, (v, _) in assigned.items():
            self.by_volunteer[v].append(r)
            self.by_client[inst.requests[r].client].append(r)
            self.minutes[v] += inst.requests[r].duration


@dataclass
class SubProblem:
    free: list[int]  # requests this model decides
    fixed: dict[int, tuple[int, int]]  # request -> (volunteer, start), held as they are
    hint: dict[int, tuple[int, int]]  # a feasible assignment of (some of) the free requests
    volunteers: set[int] | None = None  # who may take free requests (None: any candidate)
    forced: set[int] = field(default_factory=set)  # free requests that must be assigned (pins)
    guard: Guard | None = None  # the continuity guard over the whole week (solver.guard)
    # instead of `fixed` (left empty): this whole roster, of which everything but the free
    # requests is held; needs `volunteers` (only their visits and the free clients' are read)
    around: WeekRoster | None = None


@dataclass
class Outcome:
    assigned: dict[int, tuple[int, int]]  # the free requests' new assignment
    status: str
    seconds: float
    deterministic_seconds: float
    variables: int
    coverage: int  # priority-weighted coverage of the free requests
    coverage_bound: int | None  # ... and CP-SAT's proven upper bound on it
    coverage_seconds: float = 0.0  # the first stage's time (deterministic with one worker)


@dataclass(frozen=True)
class _Solving:
    """How one call of WeekModel.solve runs its stages."""

    started: float  # time.perf_counter() when it began
    workers: int
    seed: int
    deterministic: bool  # CP-SAT's deterministic time is the clock


class WeekModel:
    def __init__(
        self,
        cands: Candidates,
        prefs: Preferences,
        sub: SubProblem,
        params: SearchParams,
    ):
        self.inst, self.cands, self.prefs, self.sub, self.params = (
            cands.inst,
            cands,
            prefs,
            sub,
            params,
        )
        self.model = cp_model.CpModel()
        self.hints: list[tuple[cp_model.IntVar, int]] = []
        self.hint_coverage = sum(cands.inst.requests[r].priority for r in sub.hint if r in sub.free)
        self._det = 0.0  # CP-SAT's deterministic seconds spent on this model
        self.opts: list[MayVisit] = []
        self.by_request: dict[int, list[MayVisit]] = defaultdict(list)
        self._fixed_context()
        self._options()
        self._rules()
        self._objective()
        if sub.guard is not None:
            self._guard(sub.guard)
        # straight into the proto: add_hint's per-call overhead was a tenth of building an L neighbourhood
        hint = self.model.proto.solution_hint
        hint.vars.extend(var.index for var, _ in self.hints)
        hint.values.extend(value for _, value in self.hints)

    # -- data ------------------------------------------------------------------
    def _fixed_context(self) -> None:
        inst, sub = self.inst, self.sub
        self.fixed_visits: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        self.fixed_client: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.fixed_faces: set[tuple[int, int]] = set()
        self.fixed_client_day: dict[tuple[int, int], int] = defaultdict(int)
        if sub.around is None:
            self.fixed_minutes = [0] * len(inst.volunteers)
            for r, (v, s) in sub.fixed.items():
                self._hold(r, v, s, per_volunteer=True, per_client=True)
            return
        # Only what the model reads: the held visits of its volunteers (rules 6 and 7) and of
        # the free requests' clients (rules 8 and 10, faces), and everybody's held minutes.
        around, free = sub.around, set(sub.free)
        assert sub.volunteers is not None
        self.fixed_minutes = list(around.minutes)
        for r in free:
            if r in around.assigned:
                self.fixed_minutes[around.assigned[r][0]] -= inst.requests[r].duration
        for v in sub.volunteers:
            for r in around.by_volunteer.get(v, ()):
                if r not in free:
                    self._hold(r, v, around.assigned[r][1], per_volunteer=True, per_client=False)
        for c in {inst.requests[r].client for r in free}:
            for r in around.by_client.get(c, ()):
                if r not in free:
                    v, s = around.assigned[r]
                    self._hold(r, v, s, per_volunteer=False, per_client=True)

    def _hold(self, r: int, v: int, s: int, per_volunteer: bool, per_client: bool) -> None:
        """Note held visit r (v at s) in what its volunteer's and its client's options read."""
        request = self.inst.requests[r]
        e, day = s + request.duration, self.inst.clock.day_of(s)
        if per_volunteer:
            self.fixed_visits[(v, day)].append((s, e, request.client))
        if per_client:
            self.fixed_client[request.client].append((s, e))
            self.fixed_client_day[(request.client, day)] += 1
            self.fixed_faces.add((request.client, v))
        if self.sub.around is None:
            self.fixed_minutes[v] += request.duration

    def _allowed_starts(self, o: Option) -> tuple[int, ...]:
        """The option's starts that keep rules 6-8 and 10 with every fixed visit."""
        request, volunteer = self.inst.requests[o.request], self.inst.volunteers[o.volunteer]
        c = request.client
        same_day = self.fixed_visits.get((o.volunteer, o.day), ())
        if not (
            weekly_minutes_allow(self.fixed_minutes[o.volunteer], request.duration, volunteer)
            and day_allows(len(same_day), volunteer.max_visits_per_day)
            and day_allows(self.fixed_client_day.get((c, o.day), 0), self.inst.clients[c].max_visits_per_day)
        ):
            return ()
        day = booked(self.cands.travel, o.volunteer, c, same_day)
        return tuple(clear_starts(o.starts, request.duration, day, self.fixed_client.get(c, ())))

    # what the fixed visits leave (solver.rules.Room)
    def minutes_left(self, v: int) -> int:
        return self.inst.volunteers[v].max_minutes_per_week - self.fixed_minutes[v]

    def visits_left(self, v: int, day: int) -> int:
        return self.inst.volunteers[v].max_visits_per_day - len(self.fixed_visits.get((v, day), ()))

    def client_visits_left(self, c: int, day: int) -> int:
        return self.inst.clients[c].max_visits_per_day - self.fixed_client_day.get((c, day), 0)

    # -- variables ---------------------------------------------------------------
    def _options(self) -> None:
        m, sub = self.model, self.sub
        for r in sub.free:
            request = self.inst.requests[r]
            hinted = sub.hint.get(r)
            vols = [v for v in self.cands.volunteers_of[r] if sub.volunteers is None or v in sub.volunteers]
            for o in (o for v in vols for o in self.cands.options_for(r, v)):
                starts = self._allowed_starts(o)
                if not starts:
                    continue
                name = f"r{r}_v{o.volunteer}_d{o.day}"
                x = m.new_bool_var(f"x_{name}")
                chosen = (
                    hinted is not None
                    and hinted[0] == o.volunteer
                    and self.inst.clock.day_of(hinted[1]) == o.day
                    and hinted[1] in starts
                )
                self.hints.append((x, int(chosen)))
                s: cp_model.IntVar | int
                if len(starts) == 1:
                    s = starts[0]
                else:
                    s = m.new_int_var_from_domain(cp_model.Domain.from_values(starts), f"s_{name}")
                    self.hints.append((s, hinted[1] if hinted is not None and chosen else starts[0]))
                interval = m.new_optional_fixed_size_interval_var(s, request.duration, x, f"iv_{name}")
                opt = MayVisit(r, o.volunteer, request.client, o.day, request.duration, starts, x, s, interval)
                self.opts.append(opt)
                self.by_request[r].append(opt)

    def hint_value(self, opt: MayVisit) -> tuple[int, int] | None:
        hinted = self.sub.hint.get(opt.request)
        if (
            hinted is not None
            and hinted[0] == opt.volunteer
            and self.inst.clock.day_of(hinted[1]) == opt.day
            and hinted[1] in opt.starts
        ):
            return hinted
        return None

    # -- hard rules ----------------------------------------------------------------
    def _rules(self) -> None:
        m = self.model
        # rule 8 (and 9): each request at most once; pins exactly once
        for r, opts in self.by_request.items():
            if r in self.sub.forced:
                m.add_exactly_one([o.x for o in opts])
            else:
                m.add_at_most_one([o.x for o in opts])
        missing = [r for r in self.sub.forced if not self.by_request.get(r)]
        if missing:
            m.add_bool_or([])  # a pin without any option left: the model is infeasible, say so early
        # rules 6-8 and 10 among the options, beside what the fixed visits leave
        for order, a, b in post(m, self.opts, self, self.cands.travel):
            ha, hb = self.hint_value(a), self.hint_value(b)
            self.hints.append((order, int(ha is None or hb is None or ha[1] < hb[1])))
        self.by_vol: dict[int, list[MayVisit]] = defaultdict(list)
        for o in self.opts:
            self.by_vol[o.volunteer].append(o)

    # -- objective -------------------------------------------------------------------
    def _objective(self) -> None:
        m, inst, cands, prefs = self.model, self.inst, self.cands, self.prefs
        continuity_range, travel_range = ranges(inst, cands, self.sub.free, self.sub.volunteers)
        self.weights = Weights.from_ranges(continuity_range, travel_range)
        coverage: list[cp_model.LinearExprT] = []
        continuity: list[cp_model.LinearExprT] = []
        travel: list[cp_model.LinearExprT] = []
        faces: dict[tuple[int, int], list[MayVisit]] = defaultdict(list)
        self.new_faces: list[cp_model.IntVar] = []  # one term per (client, volunteer) not yet seen
        for o in self.opts:
            r, v = o.request, o.volunteer
            request = inst.requests[r]
            c = request.client
            coverage.append(request.priority * o.x)
            travel.append(cands.travel_units(v, c) * o.x)
            known, usual = prefs.volunteers[c], prefs.starts[c]
            if known and v not in known:
                continuity.append(NEW_FACE * o.x)
            if usual:
                at_usual = [s for s in o.starts if s in usual]
                if not at_usual:
                    continuity.append(SLOT_MOVED * o.x)
                else:
                    kept = m.new_bool_var(f"kept_slot_r{r}_v{v}_d{o.day}")
                    m.add_implication(kept, o.x)
                    if not isinstance(o.s, int):  # (a fixed start is a usual one here)
                        m.add_linear_expression_in_domain(o.s, cp_model.Domain.from_values(at_usual)).only_enforce_if(
                            kept
                        )
                    hinted = self.hint_value(o)
                    self.hints.append((kept, int(hinted is not None and hinted[1] in usual)))
                    continuity.append(SLOT_MOVED * (o.x - kept))
            if (c, v) in self.fixed_faces:
                continue
            if len(inst.clients[c].requests) == 1:
                self.new_faces.append(o.x)
            else:
                faces[(c, v)].append(o)
        for (c, v), opts in faces.items():
            seen = m.new_bool_var(f"sees_c{c}_v{v}")
            # per request (its options with v are exclusive): tighter for the relaxation than per option
            by_request: dict[int, list[cp_model.IntVar]] = defaultdict(list)
            for o in opts:
                by_request[o.request].append(o.x)
            for xs in by_request.values():
                m.add(sum(xs) <= seen)
            self.hints.append((seen, int(any(self.hint_value(o) for o in opts))))
            self.new_faces.append(seen)
        continuity.append(PER_VOLUNTEER * cp_model.LinearExpr.sum(self.new_faces))
        # fairness: the highest share of weekly minutes, at least what lies outside this model
        outside = 0
        for vol in inst.volunteers:
            if vol.index not in self.by_vol:
                outside = max(
                    outside,
                    fairness_percent(self.fixed_minutes[vol.index], vol.max_minutes_per_week),
                )
        peak = m.new_int_var(outside, max(outside, FAIRNESS_RANGE), "peak_share_percent")
        peak_hint = outside
        for v, opts in self.by_vol.items():
            vol = inst.volunteers[v]
            load = [inst.requests[o.request].duration * o.x for o in opts]
            m.add(100 * (self.fixed_minutes[v] + sum(load)) <= vol.max_minutes_per_week * peak)
            hinted_load = self.fixed_minutes[v] + sum(
                inst.requests[o.request].duration for o in opts if self.hint_value(o)
            )
            peak_hint = max(peak_hint, fairness_percent(hinted_load, vol.max_minutes_per_week))
        self.hints.append((peak, peak_hint))
        self.peak = peak
        self.coverage = cp_model.LinearExpr.sum(coverage)
        self.continuity = cp_model.LinearExpr.sum(continuity)
        self.travel = cp_model.LinearExpr.sum(travel)

    def _guard(self, guard: Guard) -> None:
        """The continuity guard's two rows (solver.guard) over the whole week: the held visits'
        counts plus the free ones'."""
        m, prefs = self.model, self.prefs
        held, held_clients = self._held_counts()
        known: list[cp_model.IntVar] = []
        with_history: list[cp_model.IntVar] = []
        by_client: dict[int, list[MayVisit]] = defaultdict(list)
        for o in self.opts:
            by_client[o.client].append(o)
            if prefs.volunteers[o.client]:
                with_history.append(o.x)
                if o.volunteer in prefs.volunteers[o.client]:
                    known.append(o.x)
        a, b = guard.share
        k = held.known + cp_model.LinearExpr.sum(known)
        h = held.with_history + cp_model.LinearExpr.sum(with_history)
        m.add(a * k - b * h >= 0)
        a, b = guard.faces
        if a == b == 0:
            return
        covered: list[cp_model.IntVar] = []
        for c, opts in by_client.items():
            if c in held_clients:
                continue
            seen = m.new_bool_var(f"covered_c{c}")
            m.add(seen <= sum(o.x for o in opts))
            self.hints.append((seen, int(any(self.hint_value(o) for o in opts))))
            covered.append(seen)
        f = held.faces + cp_model.LinearExpr.sum(self.new_faces)
        clients = held.clients + cp_model.LinearExpr.sum(covered)
        m.add(a * f - b * clients <= 0)

    def _held_counts(self) -> tuple[Counts, set[int]]:
        """The guard's counts over the held visits, and the clients they visit (of those the
        model's options reach: the only ones it asks about)."""
        sub = self.sub
        if sub.around is None:
            return counts(self.inst, self.prefs, sub.fixed), {self.inst.requests[r].client for r in sub.fixed}
        return sub.around.tally.without(sub.around.assigned, sub.free)

    # -- solving ------------------------------------------------------------------------
    def solve(
        self,
        time_limit: float,
        workers: int,
        seed: int,
        deterministic: bool,
        lower_tiers_limit: float | None = None,
        keep_hint: bool = False,
        lower_tiers_only: bool = False,
    ) -> Outcome:
        """Staged (lexicographic) solves, so that each search has a small objective:

        1. maximise priority-weighted coverage (with `keep_hint`, ties go to the roster that
           keeps most hinted visits with their volunteer and day: K*coverage + kept, K larger
           than the number of hinted visits, so coverage still comes first);
        2. holding that coverage, minimise the lower tiers, weighted as in solver.objective.

        One weighted objective over all four tiers was measured to be several times slower
        to reach, and to prove, the same roster. Stage 2 starts from stage 1's solution as a
        complete hint; `lower_tiers_limit` caps its time, and when stage 1 neither proved its
        coverage nor gained any, stage 2 is skipped. `lower_tiers_only` skips stage 1: the
        hint's coverage is held and all the time goes to the lower tiers."""
        how = _Solving(time.perf_counter(), workers, seed, deterministic)
        if lower_tiers_only:
            self.model.add(self.coverage >= self.hint_coverage)
            solver, status = self._lower_tiers(time_limit, how)
            found = self._assigned(solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else {}
            return self._outcome(how, found, STATUS.get(status, "UNKNOWN"), None, 0.0)

        # stage 1: coverage
        kept = cp_model.LinearExpr.sum([o.x for o in self.opts if self.hint_value(o)] if keep_hint else [])
        scale = len(self.sub.hint) + 1 if keep_hint else 1
        self.model.maximize(scale * self.coverage + kept)
        solver, status = self._run(max(0.01, time_limit * self.params.first_stage_share), how)
        bound = solver.best_objective_bound
        coverage_bound = math.floor(bound / scale + 1e-6) if math.isfinite(bound) else None
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # no roster in time, and no bound to trust
            return self._outcome(how, {}, STATUS.get(status, "UNKNOWN"), None, self._elapsed(how))
        assigned = self._assigned(solver)
        coverage = sum(self.inst.requests[r].priority for r in assigned)
        coverage_seconds = self._elapsed(how)
        proven = coverage == coverage_bound

        # stage 2: the lower tiers, coverage held
        limit = time_limit - self._elapsed(how)
        if lower_tiers_limit is not None:
            if not proven and coverage <= self.hint_coverage:
                limit = 0.0  # nothing gained and coverage not settled: the lower tiers can wait
            limit = min(limit, lower_tiers_limit)
        if limit <= 0.01:
            return self._outcome(how, assigned, "FEASIBLE", coverage_bound, coverage_seconds)
        first_values = list(solver.response_proto.solution)  # one value per variable, in proto order
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        self.model.proto.solution_hint.vars.extend(range(len(first_values)))
        self.model.proto.solution_hint.values.extend(first_values)
        self.model.add(self.coverage >= coverage)
        second, status2 = self._lower_tiers(limit, how)
        if status2 not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return self._outcome(how, assigned, "FEASIBLE", coverage_bound, coverage_seconds)
        done = proven and status2 == cp_model.OPTIMAL
        return self._outcome(
            how, self._assigned(second), "OPTIMAL" if done else "FEASIBLE", coverage_bound, coverage_seconds
        )

    def _lower_tiers(self, limit: float, how: _Solving) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
        """Minimise the lower tiers, weighted as in solver.objective (coverage is held by the caller)."""
        w = self.weights
        self.model.minimize(w.continuity * self.continuity + w.travel * self.travel + w.fairness * self.peak)
        return self._run(limit, how)

    def _elapsed(self, how: _Solving) -> float:
        """This solve's time so far: CP-SAT's deterministic seconds, or the wall clock's."""
        return self._det if how.deterministic else time.perf_counter() - how.started

    def _outcome(
        self, how: _Solving, assigned: Assignment, status: str, coverage_bound: int | None, coverage_seconds: float
    ) -> Outcome:
        return Outcome(
            assigned,
            status,
            time.perf_counter() - how.started,
            self._det,
            len(self.model.proto.variables),
            sum(self.inst.requests[r].priority for r in assigned),
            coverage_bound,
            coverage_seconds,
        )

    def _run(self, limit: float, how: _Solving) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = max(1, how.workers)
        p.random_seed = how.seed
        if how.workers <= 1:
            # one worker has no portfolio: the full LP relaxation (cuts on the knapsacks of
            # weekly minutes and the day caps) was measured to prove neighbourhoods about
            # twice as fast (9 of 10 L neighbourhoods of 700-1,900 variables within 2
            # deterministic seconds, against 7 of 10 in nearly twice the time)
            p.linearization_level = self.params.linearization_level
        if how.deterministic:
            p.max_deterministic_time = max(0.02, limit)
            # only a safety net against runaways
            p.max_time_in_seconds = max(self.params.runaway_min_seconds, self.params.runaway_factor * limit)
        else:
            p.max_time_in_seconds = max(0.02, limit)
        status = solver.solve(self.model)
        self._det += solver.response_proto.deterministic_time
        if DEBUG:
            print(
                f"  stage {solver.status_name(status)} obj {solver.objective_value} bound "
                f"{solver.best_objective_bound} in {solver.wall_time:.2f}s",
                file=sys.stderr,
            )
        return solver, status

    def _assigned(self, solver: cp_model.CpSolver) -> Assignment:
        return {o.request: (o.volunteer, int(solver.value(o.s))) for o in self.opts if solver.boolean_value(o.x)}
