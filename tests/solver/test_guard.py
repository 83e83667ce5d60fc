"""The continuity guard (solver.guard): covering more never costs the faces clients know."""

from __future__ import annotations

import random

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from solver import SearchParams, solve
from solver.bounds import _guard_rows, _LinearProgram, relaxation_bound
from solver.candidates import Candidates
from solver.check import check
from solver.generate import generate
from solver.greedy import first_fit, greedy
from solver.guard import Counts, Guard, Tally, counts
from solver.instance import load_instance
from solver.model import SubProblem, WeekModel
from solver.objective import Preferences
from solver.params import DEFAULT_PARAMS
from solver.roster import roster_document
from tests.solver.tiny_instances import assignment_of, client, instance, request, volunteer, window

NEAR = {"lat": 50.8345, "lon": 12.9252}
TUESDAY = [window("tue", "13:00", "15:00")]
BOTH_DAYS = [window("tue", "13:00", "15:00"), window("wed", "13:00", "15:00")]
NO_GUARD = SearchParams(continuity_guard=False)


def test_guard_compares_the_known_share_and_faces_per_client():
    guard = Guard(Counts(known=2, with_history=4, faces=6, clients=5))  # 50 %, 1.2 faces
    assert guard.allows(Counts(known=3, with_history=6, faces=6, clients=5))  # equal
    assert not guard.allows(Counts(known=2, with_history=5, faces=6, clients=5))  # 40 %
    assert not guard.allows(Counts(known=3, with_history=6, faces=7, clients=5))  # 1.4 faces
    assert guard.allows(Counts(known=3, with_history=6, faces=7, clients=6))  # 1.17 faces
    nobody_known = Guard(Counts(known=0, with_history=0, faces=1, clients=1))  # the share reads 100 %
    assert nobody_known.allows(Counts(known=1, with_history=1, faces=2, clients=2))
    assert not nobody_known.allows(Counts(known=0, with_history=1, faces=2, clients=2))


def test_tally_follows_visits_added_and_removed():
    doc = instance([volunteer("v1"), volunteer("v2")], [client("c1", previous_volunteers=["v1"]), client("c2")])
    inst = load_instance(doc)
    tally = Tally(inst, Preferences.none(inst))
    tally.add(0, 0)
    tally.add(1, 1)
    assert tally.counts() == Counts(known=1, with_history=1, faces=2, clients=2)
    tally.remove(0, 0)
    tally.add(0, 1)
    assert tally.counts() == Counts(known=0, with_history=1, faces=2, clients=2)


def known_face_trap() -> dict:
    """The greedy gives c1 (priority 2) to v1, whom c1 knows; c2, whom only v1 can visit,
    stays open. Covering both needs v2, a stranger, for c1: the known share would fall."""
    return instance(
        [volunteer("v1", home=NEAR, availability=TUESDAY), volunteer("v2", languages=["ru"], availability=TUESDAY)],
        [
            client("c1", requests=[request("c1-1", priority=2)], previous_volunteers=["v1"]),
            client("c2", languages=["de"], requests=[request("c2-1")]),
        ],
    )


def two_faces_trap() -> dict:
    """The greedy gives both of c1's visits (Tuesday, Wednesday) to v1; c2 wants v1 on
    Wednesday, the only day v1 has. Covering c2 needs v2 for c1's Wednesday visit: c1 would
    see two faces, and faces per client would rise from 1 to 1.5."""
    wednesday = [window("wed", "13:00", "15:00")]
    return instance(
        [
            volunteer("v1", home=NEAR, availability=BOTH_DAYS, max_visits_per_day=1),
            volunteer("v2", languages=["ru"], availability=wednesday),
        ],
        [
            client(
                "c1",
                requests=[
                    request("c1-1", priority=2, windows=[TUESDAY[0]]),
                    request("c1-2", priority=2, windows=wednesday),
                ],
            ),
            client("c2", languages=["de"], requests=[request("c2-1", windows=wednesday)]),
        ],
    )


@pytest.mark.parametrize("trap", [known_face_trap, two_faces_trap])
@pytest.mark.parametrize("workers", [1, 2])
def test_the_guard_keeps_the_greedy_figures_where_covering_more_would_cost_them(trap, workers):
    doc = trap()
    guarded = solve(doc, time_limit=2, workers=workers)
    free = solve(doc, time_limit=2, workers=workers, params=NO_GUARD)
    assert check(doc, guarded).ok and check(doc, free).ok
    assert free["stats"]["weighted_coverage"] > guarded["stats"]["weighted_coverage"]  # the guard costs coverage here
    greedy_figures = check(doc, greedy_document(doc)).metrics
    for roster, holds in ((guarded, True), (free, False)):
        metrics = check(doc, roster).metrics
        kept = (
            metrics["continuity"] >= greedy_figures["continuity"]
            and metrics["distinct_volunteers_per_client"] <= greedy_figures["distinct_volunteers_per_client"]
        )
        assert kept is holds
    assert assignment_of(guarded, "c1-1")["volunteer"] == "v1"


@pytest.mark.parametrize("trap", [known_face_trap, two_faces_trap])
def test_the_continuity_kept_ceiling_bounds_what_the_guard_allows(trap):
    """The LP ceiling with the guard's two rows (solver.bounds) lies below the plain one where
    the guard costs coverage, and still above what the guarded solve reaches."""
    doc = trap()
    plain_bound, guarded_bound = ceilings(doc)
    guarded = solve(doc, time_limit=2, workers=1)
    free = solve(doc, time_limit=2, workers=1, params=NO_GUARD)
    assert free["stats"]["weighted_coverage"] <= plain_bound
    assert guarded["stats"]["weighted_coverage"] <= guarded_bound < plain_bound


def ceilings(doc: dict) -> tuple[int | None, int | None]:
    """(the LP ceiling, the same for rosters that keep the greedy's continuity)."""
    inst = load_instance(doc)
    cands = Candidates(inst)
    prefs = Preferences.none(inst)
    guard = Guard(counts(inst, prefs, greedy(cands, prefs, {}).assigned))
    return relaxation_bound(inst, cands), relaxation_bound(inst, cands, guard=(prefs, guard))


def greedy_document(doc: dict) -> dict:
    inst = load_instance(doc)
    cands = Candidates(inst)
    schedule = greedy(cands, Preferences.none(inst), {})
    return roster_document(
        inst, schedule.assigned, {}, "FEASIBLE", {"objective": 0, "best_bound": 0, "solve_seconds": 0}
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "workers", "params"),
    [
        ("scarce", 2, SearchParams()),
        ("scarce", 2, SearchParams(monolithic_max_clients=0)),
        ("flex", 1, SearchParams(monolithic_max_clients=0)),
    ],
)
def test_on_a_small_winter_week_the_solve_covers_more_and_keeps_both_figures(scenario, workers, params):
    """The whole-week model and the neighbourhood search (threaded and deterministic): at higher
    coverage, the share of visits by a known volunteer is no lower and the volunteers
    per client are no more than the greedy's, as the independent validator counts them."""
    doc = generate("S", 4, "2026-W48", scenario)
    greedy_figures = check(doc, greedy_document(doc)).metrics
    roster = solve(doc, time_limit=3, workers=workers, seed=1, params=params)
    report = check(doc, roster)
    assert report.ok
    assert report.metrics["weighted_coverage"] > greedy_figures["weighted_coverage"]
    assert report.metrics["continuity"] >= greedy_figures["continuity"] - 1e-9
    assert report.metrics["distinct_volunteers_per_client"] <= greedy_figures["distinct_volunteers_per_client"] + 1e-9
    plain_bound, guarded_bound = ceilings(doc)
    assert guarded_bound is not None and plain_bound is not None
    assert roster["stats"]["weighted_coverage"] <= guarded_bound <= plain_bound


# --- the guard's rule, written once, read alike by the model and the LP ------------------------


def guard_roster_and_reference(seed: int):
    """A generated week with known faces, a roster made of its greedy one with some visits
    handed to other candidates (strangers, second faces), and a reference on the edge of it."""
    doc = generate("S", seed % 3 + 1, "2026-W48", "flex" if seed % 2 else "scarce")
    inst = load_instance(doc)
    cands = Candidates(inst)
    rng = random.Random(seed)
    known = {c.index: {rng.randrange(len(inst.volunteers))} for c in inst.clients if rng.random() < 0.5}
    prefs = Preferences.build(inst, known, {})
    schedule = greedy(cands, prefs, {})
    for r in rng.sample(sorted(schedule.assigned), len(schedule.assigned) // 3):
        v, s = schedule.assigned[r]
        schedule.remove(r)
        for w in rng.sample(cands.takers(r), len(cands.takers(r))):
            start = first_fit(schedule, r, w, frozenset())
            if w != v and start is not None:
                schedule.add(r, w, start)  # a stranger, or a second face
                break
        else:
            schedule.add(r, v, s)
    roster = dict(schedule.assigned)
    now = counts(inst, prefs, roster)
    # references whose rows come out within one unit of zero on this roster: either side of the line
    near = [
        Counts(known, with_history, faces, clients)
        for with_history in range(max(1, now.with_history - 3), now.with_history + 4)
        for known in range(0, with_history + 1)
        if abs(with_history * now.known - known * now.with_history) <= 1
        for clients in range(max(1, now.clients - 3), now.clients + 4)
        for faces in range(clients, clients * 2)
        if abs(clients * now.faces - faces * now.clients) <= 1
    ]
    reference = rng.choice(near)
    return inst, cands, prefs, roster, Guard(reference)


def model_keeps(inst, cands, prefs, roster, guard) -> bool:
    """The week's CP-SAT model with its guard rows and this roster fixed: feasible?"""
    sub = SubProblem(free=sorted(roster), fixed={}, hint={}, guard=guard)
    model = WeekModel(cands, prefs, sub, DEFAULT_PARAMS)
    for o in model.opts:
        v, s = roster[o.request]
        model.model.add(o.x == int(o.volunteer == v and o.day == inst.clock.day_of(s)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model.model)
    assert status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return status == cp_model.OPTIMAL


def lp_keeps(inst, cands, prefs, roster, guard) -> bool:
    """The LP's guard rows (solver.bounds) with the roster's options fixed at 0 or 1: feasible?"""
    lp = _LinearProgram()
    options = [o for r in range(len(inst.requests)) for o in cands.options[r]]
    for o in options:
        chosen = o.request in roster and roster[o.request][0] == o.volunteer
        chosen = chosen and o.day == inst.clock.day_of(roster[o.request][1])
        x = lp.variable()
        lp.model.variable[x].lower_bound = lp.model.variable[x].upper_bound = float(chosen)
    _guard_rows(lp, inst, options, prefs, guard)
    return lp.solve(10, approximate=False) is not None


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_models_and_the_lps_guard_rows_are_the_guard(seed):
    """On rosters with strangers and second faces, against references on either side of them:
    the model's two rows and the LP's two rows hold exactly when Guard.allows the roster."""
    inst, cands, prefs, roster, guard = guard_roster_and_reference(seed)
    allowed = guard.allows(counts(inst, prefs, roster))
    event("allowed" if allowed else "refused")
    assert model_keeps(inst, cands, prefs, roster, guard) == allowed
    assert lp_keeps(inst, cands, prefs, roster, guard) == allowed


def test_tally_without_some_visits_counts_what_the_rest_hold():
    inst, cands, prefs, roster, _ = guard_roster_and_reference(5)
    rng = random.Random(5)
    tally = Tally(inst, prefs, roster)
    for _ in range(10):
        gone = rng.sample(range(len(inst.requests)), 20)
        rest = {r: a for r, a in roster.items() if r not in gone}
        held, still = tally.without(roster, gone)
        assert held == counts(inst, prefs, rest)
        assert still == {inst.requests[r].client for r in gone} & {inst.requests[r].client for r in rest}
