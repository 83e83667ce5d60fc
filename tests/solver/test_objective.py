"""The four tiers of "what is better", each on its own, and the model's encoding of them.

Exact scores on tiny rosters (one function per tier), weights that keep every tier above
all lower ones together, and CP-SAT's objective terms equal to `evaluate()` on fixed rosters.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from solver.candidates import Candidates
from solver.generate import generate
from solver.greedy import greedy
from solver.instance import load_instance
from solver.model import SubProblem, WeekModel
from solver.objective import (
    Preferences,
    Score,
    Weights,
    continuity_term,
    coverage_term,
    evaluate,
    fairness_term,
    travel_term,
)
from solver.params import DEFAULT_PARAMS
from tests.solver.tiny_instances import client, instance, request, volunteer, window

TUE_13 = 24 * 60 + 13 * 60  # week minutes of Tuesday 13:00 in a winter week
WED_13 = 2 * 24 * 60 + 13 * 60
BOTH_DAYS = [window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")]


def two_of_one_client(**client_fields):
    doc = instance(
        [volunteer("v1", availability=BOTH_DAYS), volunteer("v2", availability=BOTH_DAYS, max_minutes_per_week=240)],
        [
            client(
                "c1",
                [request("c1-1", priority=3), request("c1-2", windows=[window("wed", "13:00", "18:00")])],
                **client_fields,
            )
        ],
    )
    inst = load_instance(doc)
    return inst, Candidates(inst)


def test_coverage_is_the_sum_of_covered_priorities():
    inst, _ = two_of_one_client()
    assert coverage_term(inst, {}) == 0
    assert coverage_term(inst, {0: (0, TUE_13)}) == 3
    assert coverage_term(inst, {0: (0, TUE_13), 1: (1, WED_13)}) == 4


def test_continuity_counts_new_faces_moved_slots_and_distinct_volunteers():
    inst, _ = two_of_one_client(previous_volunteers=["v1"])
    prefs = Preferences.build(inst, {}, {})
    assert continuity_term(inst, prefs, {0: (0, TUE_13)}) == 2  # one face, known
    assert continuity_term(inst, prefs, {0: (0, TUE_13), 1: (0, WED_13)}) == 2  # still one face
    assert continuity_term(inst, prefs, {0: (0, TUE_13), 1: (1, WED_13)}) == 2 + 2 + 2  # a stranger: two faces
    usual = Preferences.build(inst, {}, {0: {TUE_13}})  # last week: Tuesday 13:00
    assert continuity_term(inst, usual, {0: (0, TUE_13), 1: (0, WED_13)}) == 2 + 1  # Wednesday is a moved slot
    assert continuity_term(inst, usual, {0: (1, TUE_13 + 15)}) == 2 + 1 + 2


def test_travel_is_home_to_home_in_hundred_metres():
    inst, cands = two_of_one_client()
    # the client lives 0.0026 degrees north of both volunteers: 0.289 km, 0.376 km with the detour
    assert travel_term(inst, cands, {0: (0, TUE_13)}) == 4
    assert travel_term(inst, cands, {0: (0, TUE_13), 1: (1, WED_13)}) == 8


def test_fairness_is_the_highest_share_of_weekly_minutes_rounded_up():
    inst, _ = two_of_one_client()
    assert fairness_term(inst, {}) == 0
    assert fairness_term(inst, {0: (0, TUE_13)}) == 20  # 120 of 600
    assert fairness_term(inst, {0: (0, TUE_13), 1: (1, WED_13)}) == 50  # 120 of 240
    assert fairness_term(inst, {0: (0, TUE_13), 1: (0, WED_13)}) == 40


def test_evaluate_is_the_four_terms():
    inst, cands = two_of_one_client(previous_volunteers=["v2"])
    prefs = Preferences.none(inst)
    assert evaluate(inst, cands, prefs, {0: (0, TUE_13), 1: (1, WED_13)}) == Score(4, 2 + 2 + 2, 8, 50)


@settings(max_examples=200, deadline=None)
@given(
    continuity=st.integers(0, 10_000),
    travel=st.integers(0, 100_000),
    better=st.sampled_from(["coverage", "continuity", "travel", "fairness"]),
    data=st.data(),
)
def test_weights_keep_every_tier_above_all_lower_ones(continuity, travel, better, data):
    """One unit better in a tier beats any swing of the lower tiers within their ranges."""
    w = Weights.from_ranges(continuity, travel)
    limits = {"coverage": 1000, "continuity": continuity, "travel": travel, "fairness": 100}
    tiers = list(limits)
    k = tiers.index(better)
    # `a` is one unit better at tier k, equal above it, and as bad as possible below it; `b` the opposite
    values_a, values_b = {}, {}
    for i, tier in enumerate(tiers):
        if i < k:
            values_a[tier] = values_b[tier] = data.draw(st.integers(0, limits[tier]))
        elif i == k:
            base = data.draw(st.integers(0, max(0, limits[tier] - 1)))
            step = 1 if tier == "coverage" else -1
            values_b[tier] = base if tier == "coverage" else base + 1
            values_a[tier] = values_b[tier] + step
        else:
            worst, best = (0, limits[tier]) if tier == "coverage" else (limits[tier], 0)
            values_a[tier], values_b[tier] = worst, best
    a, b = Score(**values_a), Score(**values_b)
    assert a.key() > b.key()
    assert a.combined(w) > b.combined(w)


def model_terms(inst, cands, prefs, assigned):
    """The model's own coverage, continuity, travel and peak for a roster fixed in it."""
    model = WeekModel(cands, prefs, SubProblem(free=list(range(len(inst.requests))), fixed={}, hint={}), DEFAULT_PARAMS)
    m = model.model
    for opt in model.opts:
        r, v, day = opt.request, opt.volunteer, opt.day
        chosen = assigned.get(r)
        if chosen is not None and chosen[0] == v and inst.clock.day_of(chosen[1]) == day:
            m.add(opt.x == 1)
            m.add(opt.s == chosen[1])
        else:
            m.add(opt.x == 0)
    w = model.weights
    m.minimize(w.continuity * model.continuity + w.travel * model.travel + w.fairness * model.peak)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m) == cp_model.OPTIMAL
    return Score(
        int(solver.value(model.coverage)),
        int(solver.value(model.continuity)),
        int(solver.value(model.travel)),
        int(solver.value(model.peak)),
    )


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(1, 10_000), drop=st.floats(0.0, 0.5), known=st.floats(0.0, 1.0))
def test_the_models_objective_terms_equal_evaluate_on_fixed_rosters(seed, drop, known):
    inst = load_instance(generate("S", seed % 7 + 1, "2026-W48", "flex" if seed % 2 else "easy"))
    cands = Candidates(inst)
    rng = random.Random(seed)
    roster = greedy(cands, Preferences.none(inst), {}).assigned
    assigned = {r: a for r, a in roster.items() if rng.random() >= drop}
    # wishes that sometimes hold and sometimes do not: known volunteers and last week's starts
    volunteers: dict[int, set[int]] = {}
    starts: dict[int, set[int]] = {}
    for r, (v, s) in roster.items():
        c = inst.requests[r].client
        if rng.random() < known:
            volunteers.setdefault(c, set()).add(v if rng.random() < 0.5 else rng.randrange(len(inst.volunteers)))
        if rng.random() < known:
            starts.setdefault(c, set()).add(s if rng.random() < 0.5 else s + inst.slot)
    prefs = Preferences.build(inst, volunteers, starts)
    assert model_terms(inst, cands, prefs, assigned) == evaluate(inst, cands, prefs, assigned)
