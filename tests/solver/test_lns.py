"""The improvement searches over the warm start: ejection chains and large neighbourhoods."""

from __future__ import annotations

import gc
import random
import time

import pytest

import solver.engine as engine
from solver.candidates import Candidates
from solver.check import check
from solver.generate import generate
from solver.greedy import greedy
from solver.guard import Guard, counts
from solver.improve import insert_with_ejection
from solver.instance import load_instance
from solver.lns import chain_neighbourhood, free_requests, large_neighbourhood_search
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


def test_simulated_cores_solve_more_neighbourhoods_in_the_same_time(small):
    """`simulated_workers` replays the neighbourhoods on that many virtual workers, counting
    each step's CPU time (Python included): four of them get through more steps than one."""
    steps = {}
    for cores in (1, 4):
        params = SearchParams(monolithic_max_clients=0, simulated_workers=cores, initial_neighbours=5, max_neighbours=6)
        result = engine.solve(small, time_limit=1.0, workers=1, seed=2, params=params)
        assert check(small, result).ok
        steps[cores] = sum(result["stats"]["lns_rounds"].values())
        assert result["stats"]["lns_build_seconds"] > 0 and result["stats"]["lns_solve_seconds"] > 0
    assert steps[4] > 1.5 * steps[1]


def test_simulated_clock_counts_cpu_time_and_credits_overlap(small):
    """The simulated run's clock is this thread's CPU time (CP-SAT solves in this thread),
    less what parallel workers would have overlapped: one virtual worker overlaps nothing,
    so its clock moves with the CPU time; four overlap their solves, so theirs moves less."""
    moved, used, solving = {}, {}, {}
    for cores in (1, 4):
        inst, cands, prefs, pins, schedule = warm(small)
        run = Run(inst, cands, prefs, 1.0, SearchParams(simulated_workers=cores), workers=1)
        assert run.mode == "simulated" and run.deterministic
        run.offer(schedule.assigned, "greedy")
        # A collection of the whole test worker's heap would land in one step and swamp the
        # small figures compared below (CI once saw 1.7 s of CPU outside CP-SAT here).
        gc.collect()
        gc.disable()
        try:
            cpu = time.thread_time()
            before = run.elapsed()
            large_neighbourhood_search(run, pins, seed=1, budget=0.6)
            used[cores] = time.thread_time() - cpu
            moved[cores] = run.elapsed() - before
        finally:
            gc.enable()
        lns = run.stats["lns"]
        # CP-SAT solves in this thread and its CPU time is counted (it dominates building)
        assert lns["solve_seconds"] > lns["build_seconds"] > 0
        solving[cores] = lns["solve_seconds"]
    assert moved[1] == pytest.approx(used[1], rel=0.02)
    # four virtual workers overlap their solves: the clock is credited a good part of them
    # (measured: about half), compared with the solving itself, not with other CPU time
    assert 0 < moved[4] < used[4] - 0.25 * solving[4]


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
