"""The LP's advice to the search: candidates who can really take a request (`takers`), the
relaxation's solution, neighbourhoods built from it, and solves that use it."""

from __future__ import annotations

import random

import pytest

import solver.engine as engine
from solver.bounds import Relaxation, coverage_bound, relaxation, relaxation_bound
from solver.candidates import Candidates
from solver.check import check
from solver.generate import generate
from solver.greedy import greedy
from solver.instance import load_instance
from solver.lns import free_requests, large_neighbourhood_search, lp_neighbourhood, remember_relaxation
from solver.objective import Preferences
from solver.params import DEFAULT_PARAMS, SearchParams
from solver.pins import place_pins
from solver.run import Run
from tests.solver.tiny_instances import client, instance, request, volunteer, window

NEAR = {"lat": 50.8345, "lon": 12.9252}
ONE_SLOT = [window("tue", "13:00", "15:00")]


@pytest.fixture(scope="module")
def small():
    return generate("S", 2, "2026-W48")


def trap() -> dict:
    """The greedy gives c1 (priority 2) to v1, its nearest, and c2, whom only v1 can visit,
    stays open; the LP gives c1 to v2 and c2 to v1 (its only optimum)."""
    return instance(
        [volunteer("v1", home=NEAR, availability=ONE_SLOT), volunteer("v2", languages=["ru"], availability=ONE_SLOT)],
        [
            client("c1", requests=[request("c1-1", priority=2)]),
            client("c2", languages=["de"], requests=[request("c2-1")]),
        ],
    )


def greedy_run(doc: dict, params: SearchParams = DEFAULT_PARAMS) -> tuple[Run, dict]:
    inst = load_instance(doc)
    cands = Candidates(inst)
    prefs = Preferences.none(inst)
    pins = place_pins(inst)
    run = Run(inst, cands, prefs, 2.0, params, workers=1)
    run.offer(greedy(cands, prefs, pins).assigned, "greedy")
    return run, pins


def test_takers_are_the_candidates_with_a_start_inside_both_windows():
    doc = instance(
        [volunteer("v1"), volunteer("v2", availability=[window("wed", "09:00", "18:00")])],
        [client("c1")],  # wants Tuesday: v2 passes rules 1-4 but has no Tuesday
    )
    inst = load_instance(doc)
    cands = Candidates(inst)
    assert sorted(cands.volunteers_of[0]) == [0, 1]
    assert cands.takers(0) == [0]
    assert cands.takes(0) == [0]
    assert cands.takes(1) == []


def test_takers_keep_the_nearest_first_order_on_a_generated_week(small):
    inst = load_instance(small)
    cands = Candidates(inst)
    for r in range(len(inst.requests)):
        assert cands.takers(r) == [v for v in cands.volunteers_of[r] if cands.options_for(r, v)]
    for v in range(len(inst.volunteers)):
        assert cands.takes(v) == [r for r in range(len(inst.requests)) if v in cands.takers(r)]


def test_the_relaxation_returns_its_bound_and_a_solution_that_keeps_its_rows(small):
    inst = load_instance(small)
    cands = Candidates(inst)
    exact = relaxation(inst, cands)
    assert exact is not None and exact.bound is not None
    assert exact.bound == relaxation_bound(inst, cands)
    value = sum(inst.requests[r].priority * share for r, by in exact.shares.items() for share in by.values())
    assert exact.bound <= value < exact.bound + 1
    minutes = [0.0] * len(inst.volunteers)
    for r, by_volunteer in exact.shares.items():
        assert sum(by_volunteer.values()) <= 1 + 1e-6  # each request at most once
        assert set(by_volunteer) <= set(cands.takers(r))
        for v, share in by_volunteer.items():
            minutes[v] += share * inst.requests[r].duration
    assert all(m <= v.max_minutes_per_week + 1e-6 for m, v in zip(minutes, inst.volunteers, strict=True))
    approximate = relaxation(inst, cands, approximate=True)
    assert approximate is not None and approximate.bound is None  # advice only: no bound
    near = sum(inst.requests[r].priority * share for r, by in approximate.shares.items() for share in by.values())
    assert near == pytest.approx(value, rel=0.02)


def test_the_lp_neighbourhood_joins_an_idle_volunteer_and_who_holds_their_advised_visit():
    run, _ = greedy_run(trap())
    assert {run.inst.requests[r].id: run.inst.volunteers[v].id for r, (v, _) in run.best.items()} == {"c1-1": "v1"}
    found = relaxation(run.inst, run.cands)
    assert found is not None
    remember_relaxation(run, found)
    assert lp_neighbourhood(run, 1, 2, random.Random(0)) == {0, 1}  # v2 (idle per the LP) and v1 (holds c1)


def test_one_lp_neighbourhood_gets_out_of_the_trap():
    params = SearchParams(min_neighbours=1, lp_share=1.0)
    run, pins = greedy_run(trap(), params)
    found = relaxation(run.inst, run.cands)
    assert found is not None
    remember_relaxation(run, found)
    large_neighbourhood_search(run, pins, seed=0, budget=1.0, rounds=1)
    assert run.stats["lns"]["rounds"] == {"lp": 1}
    placed = {run.inst.requests[r].id: run.inst.volunteers[v].id for r, (v, _) in run.best.items()}
    assert placed == {"c1-1": "v2", "c2-1": "v1"}


def test_a_neighbourhood_takes_the_uncovered_requests_the_lp_gives_it_first(small):
    run, _ = greedy_run(small)
    cands = run.cands
    v = max(range(len(run.inst.volunteers)), key=lambda w: sum(1 for r in cands.takes(w) if r not in run.best))
    uncovered = [r for r in cands.takes(v) if r not in run.best]
    assert len(uncovered) >= 3
    advised = uncovered[-1]
    remember_relaxation(run, Relaxation(None, {advised: {v: 1.0}}))
    for seed in range(5):
        free = free_requests(run, {v}, set(), random.Random(seed), max_uncovered=1)
        assert [r for r in free if r not in run.best] == [advised]


@pytest.mark.slow
@pytest.mark.parametrize("exact", [True, False])
def test_a_week_above_100_clients_is_searched_with_the_lps_advice(monkeypatch, exact):
    """Exact LP (a bound too) where it fits, else PDLP's approximate one (advice, no bound).
    (One worker, and the LP given all the time it needs: on a busy machine the LP's own
    time limit must not decide whether there is advice.)"""
    doc = generate("M", 1, "2026-W48", scenario="scarce")
    if not exact:
        monkeypatch.setattr(engine, "relaxation_fits", lambda cands: False)
    patient = SearchParams(relaxation_min_seconds=300, advice_max_seconds=300)
    result = engine.solve(doc, time_limit=4, workers=1, params=patient)
    stats = result["stats"]
    assert check(doc, result).ok
    assert stats["relaxation_seconds"] > 0
    assert stats["lns_rounds"].get("lp", 0) > 0
    inst = load_instance(doc)
    cands = Candidates(inst)
    lp = relaxation_bound(inst, cands)
    assert lp is not None
    if exact:
        assert stats["coverage_bound"] == min(lp, coverage_bound(inst, cands, None))
    else:
        assert stats["coverage_bound"] == coverage_bound(inst, cands, None) > lp
    assert stats["weighted_coverage"] <= stats["coverage_bound"]
