"""The improvement searches over the warm start: ejection chains and large neighbourhoods."""

from __future__ import annotations

import random

import pytest

import solver.engine as engine
from solver.candidates import Candidates
from solver.check import check
from solver.generate import generate
from solver.greedy import greedy
from solver.guard import Guard, counts
from solver.improve import insert_with_ejection
from solver.instance import load_instance
from solver.lns import _InFlight, _sequential, _Step, chain_neighbourhood, free_requests, large_neighbourhood_search
from solver.model import SubProblem, WeekModel, WeekRoster
from solver.objective import Preferences
from solver.params import DEFAULT_PARAMS, SearchParams
from solver.pins import place_pins
from solver.run import Run
from tests.solver.tiny_instances import assignment_of, client, instance, request, volunteer, window

NEAR = {"lat": 50.8345, "lon": 12.9252}
ONE_SLOT = [window("tue", "13:00", "15:00")]


def trap() -> dict:
    """The greedy gives c1 (priority 2) to v1, its nearest; then c2, whom only v1 can visit,
    stays open, though v2 could have taken c1."""
    return instance(
        [volunteer("v1", home=NEAR, availability=ONE_SLOT), volunteer("v2", languages=["ru"], availability=ONE_SLOT)],
        [
            client("c1", requests=[request("c1-1", priority=2)]),
            client("c2", languages=["de"], requests=[request("c2-1")]),
        ],
    )


def warm(doc: dict):
    inst = load_instance(doc)
    cands = Candidates(inst)
    prefs = Preferences.none(inst)
    pins = place_pins(inst)
    return inst, cands, prefs, pins, greedy(cands, prefs, pins)


def fixed_part(run: Run, free: list[int]) -> dict:
    """What a neighbourhood with these free requests holds fixed: the rest of the roster."""
    freed = set(free)
    return {r: a for r, a in run.best.items() if r not in freed}


def test_greedy_falls_into_the_trap_and_ejection_gets_out():
    inst, _, prefs, pins, schedule = warm(trap())
    assert [inst.requests[r].id for r in schedule.assigned] == ["c1-1"]
    assert insert_with_ejection(schedule, prefs, set(pins), DEFAULT_PARAMS) == 1
    placed = {inst.requests[r].id: inst.volunteers[v].id for r, (v, _) in schedule.assigned.items()}
    assert placed == {"c1-1": "v2", "c2-1": "v1"}


def test_ejection_never_moves_a_pin():
    doc = trap()
    doc["pins"] = [{"request": "c1-1", "volunteer": "v1"}]
    inst, _, prefs, pins, schedule = warm(doc)
    assert insert_with_ejection(schedule, prefs, set(pins), DEFAULT_PARAMS) == 0
    assert {inst.requests[r].id for r in schedule.assigned} == {"c1-1"}


def test_ejection_with_an_attempt_budget_is_deterministic():
    doc = generate("S", 5, "2026-W48")
    results = []
    for _ in range(2):
        inst, _, prefs, pins, schedule = warm(doc)
        insert_with_ejection(schedule, prefs, set(pins), DEFAULT_PARAMS, attempts=300)
        results.append(dict(schedule.assigned))
    assert results[0] == results[1]


def test_solve_gets_out_of_the_trap():
    result = engine.solve(trap(), time_limit=2)
    assert assignment_of(result, "c1-1")["volunteer"] == "v2"
    assert assignment_of(result, "c2-1")["volunteer"] == "v1"


@pytest.fixture(scope="module")
def small():
    return generate("S", 2, "2026-W48")


def test_chain_neighbourhood_starts_with_the_target_candidates(small):
    inst, cands, prefs, pins, schedule = warm(small)
    run = Run(inst, cands, prefs, 1.0, DEFAULT_PARAMS)
    run.offer(schedule.assigned, "greedy")
    target = next(r for r in range(len(inst.requests)) if r not in run.best and cands.takers(r))
    hood = chain_neighbourhood(run, target, 8, random.Random(0))
    assert len(hood) == 8
    assert set(cands.takers(target)[:4]) <= hood
    free = free_requests(run, hood, set(), random.Random(0), target, max_uncovered=3)
    fixed = fixed_part(run, free)
    assert target in free
    assert all(run.best[r][0] not in hood for r in fixed)
    assert all(r not in fixed for r in free)
    assert sum(1 for r in free if r not in run.best) <= 4


def test_neighbourhood_search_gets_out_of_the_trap_and_never_moves_a_pin():
    params = SearchParams(min_neighbours=1)
    for pinned, expected in ((False, {"c1-1": "v2", "c2-1": "v1"}), (True, {"c1-1": "v1"})):
        doc = trap()
        if pinned:
            doc["pins"] = [{"request": "c1-1", "volunteer": "v1"}]
        inst, cands, prefs, pins, schedule = warm(doc)
        run = Run(inst, cands, prefs, 2.0, params, workers=1)
        run.offer(schedule.assigned, "greedy")
        large_neighbourhood_search(run, pins, seed=0, budget=1.0)
        placed = {inst.requests[r].id: inst.volunteers[v].id for r, (v, _) in run.best.items()}
        assert placed == expected


def test_neighbourhood_search_keeps_pins_on_a_generated_week(small):
    doc = dict(small)
    first = doc["clients"][0]["requests"][0]["id"]
    inst = load_instance(doc)
    cands = Candidates(inst)
    r = inst.request_index[first]
    v = cands.volunteers_of[r][0]
    start = cands.options_for(r, v)[0].starts[0]
    doc["pins"] = [{"request": first, "volunteer": inst.volunteers[v].id, "start": inst.clock.iso(start)}]
    inst, cands, prefs, pins, schedule = warm(doc)
    run = Run(inst, cands, prefs, 1.5, DEFAULT_PARAMS, workers=2, seed=3)
    run.offer(schedule.assigned, "greedy")
    large_neighbourhood_search(run, pins, seed=3, budget=1.0)
    assert sum(run.stats["lns"]["rounds"].values()) > 0
    assert run.best[r] == (v, start)


def test_forced_neighbourhood_path_gives_a_valid_roster_with_previous(small):
    lns_only = SearchParams(monolithic_max_clients=0)
    first = engine.solve(small, time_limit=1.5, params=lns_only)
    again = engine.solve(small, time_limit=1.5, previous=first, params=lns_only)
    assert check(small, again).ok
    kept = {(a["client"], a["volunteer"]) for a in first["assignments"]}
    same = sum(1 for a in again["assignments"] if (a["client"], a["volunteer"]) in kept)
    assert same >= 0.8 * len(again["assignments"])


def test_ejection_moves_a_series_visit_to_another_day_rule_10():
    """c1's first visit sits on Tuesday, the only day c1-2 can have; moving it to Wednesday
    (rule 10: one visit a day) makes room."""
    both = [window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")]
    doc = instance(
        [volunteer("v1", availability=both)],
        [
            client(
                requests=[
                    request("c1-1", 60, priority=2, windows=both),
                    request("c1-2", 60, windows=[window("tue", "09:00", "18:00")]),
                ]
            )
        ],
    )
    inst, _, prefs, pins, schedule = warm(doc)
    assert [inst.requests[r].id for r in schedule.assigned] == ["c1-1"]
    assert insert_with_ejection(schedule, prefs, set(pins), DEFAULT_PARAMS) == 1
    days = sorted(inst.clock.day_of(s) for _, s in schedule.assigned.values())
    assert days == [1, 2]
    assert check(doc, engine.solve(doc, time_limit=1)).ok


def test_simulated_cores_give_a_valid_roster_and_count_their_steps(small):
    """`simulated_workers` (the benchmark's model of more cores, on the CPU clock): the solve
    runs its neighbourhoods on virtual workers, counts their Python and CP-SAT time, and its
    roster keeps every rule. (How the virtual workers share time: the tests below.)"""
    params = SearchParams(monolithic_max_clients=0, simulated_workers=4, initial_neighbours=5, max_neighbours=6)
    result = engine.solve(small, time_limit=1.0, workers=1, seed=2, params=params)
    assert check(small, result).ok
    assert sum(result["stats"]["lns_rounds"].values()) > 0
    assert result["stats"]["lns_build_seconds"] > 0 and result["stats"]["lns_solve_seconds"] > 0


class TickingClock:
    """A CPU clock that moves only when a fake step says it spent time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Steps:
    """Stands in for the neighbourhood search: every step takes `build` seconds of Python
    (under the lock) and `solve` seconds of CP-SAT, on the ticking clock."""

    def __init__(self, run: Run, clock: TickingClock, build: float, solve: float):
        self.run, self.params, self.clock = run, run.params, clock
        self.build_cost, self.solve_cost = build, solve
        self.rng = random.Random(0)
        self.flight = _InFlight()
        self.counts = {"build_seconds": 0.0, "solve_seconds": 0.0, "first_at": None}
        self.begun: list[float] = []
        self.merged = 0

    def pick(self):
        return _Step("chain", {len(self.begun)}, [], set())

    def note_start(self) -> None:
        pass

    def build(self, step) -> None:
        self.clock.now += self.build_cost

    def solve(self, step, limit, seed, workers) -> None:
        self.clock.now += self.solve_cost

    def merge(self, step) -> None:
        self.merged += 1


def replay(workers: int, build: float, solve: float, budget: float = 4.0):
    """The simulated search's timeline for steps of these costs: (steps, the run's clock at the end)."""
    clock = TickingClock()
    doc = instance([volunteer("v1")], [client("c1")])
    inst, cands, prefs, _, _ = warm(doc)
    params = SearchParams(simulated_workers=workers, min_round_seconds=0.25)
    run = Run(inst, cands, prefs, budget, params, workers=1, cpu_time=clock)
    steps = Steps(run, clock, build, solve)
    _sequential(steps, budget, None)
    assert steps.merged == steps.counts["solve_seconds"] / solve  # every step merged, once
    return round(steps.counts["build_seconds"] / build), run.elapsed()


def test_one_virtual_worker_runs_step_after_step_on_the_cpu_clock():
    """Half-second steps in four seconds: eight of them, the last starting at 3.5 s (half a
    second left, more than the 0.25 s a round needs); the clock then reads 4 s."""
    assert replay(1, build=0.125, solve=0.375) == (8, 4.0)


def test_four_virtual_workers_overlap_their_solving():
    """Solving (0.375 s) overlaps, building (0.125 s) holds the lock: a step starts every
    0.125 s, the last at 3.75 s, 31 steps; the clock reads when the last one ends (4.25 s)."""
    assert replay(4, build=0.125, solve=0.375) == (31, 4.25)


def test_four_virtual_workers_queue_behind_each_others_python():
    """Building (0.375 s) holds the lock, as the GIL does: a step starts only every 0.375 s,
    11 of them by 3.75 s, however many workers wait; the last ends at 4.25 s."""
    assert replay(4, build=0.375, solve=0.125) == (11, 4.25)
    assert replay(1, build=0.375, solve=0.125) == (8, 4.0)


def test_a_neighbourhood_model_read_from_the_whole_roster_is_the_one_built_from_its_fixed_visits():
    """WeekRoster (the neighbourhoods' shortcut) holds exactly what `fixed` would, guard included."""
    doc = generate("M", 1, "2026-W48", scenario="flex")
    inst, cands, prefs, pins, schedule = warm(doc)
    run = Run(inst, cands, prefs, 1.0, DEFAULT_PARAMS)
    run.offer(schedule.assigned, "greedy")
    guard = Guard(counts(inst, prefs, run.best))
    roster = WeekRoster(inst, prefs, run.best)
    rng = random.Random(3)
    for target in rng.sample([r for r in range(len(inst.requests)) if r not in run.best and cands.takers(r)], 5):
        hood = chain_neighbourhood(run, target, 20, rng)
        free = free_requests(run, hood, set(pins), rng, target, max_uncovered=10)
        fixed = fixed_part(run, free)
        hint = {r: run.best[r] for r in free if r in run.best}
        by_fixed = WeekModel(cands, prefs, SubProblem(free, fixed, hint, hood, guard=guard), DEFAULT_PARAMS)
        by_roster = WeekModel(
            cands, prefs, SubProblem(free, {}, hint, hood, guard=guard, around=roster), DEFAULT_PARAMS
        )
        assert str(by_roster.model.proto) == str(by_fixed.model.proto)
        assert len(by_fixed.opts) > 0
