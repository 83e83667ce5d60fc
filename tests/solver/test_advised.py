"""The LP-advised start (solver.advised): the greedy led by the LP's solution, kept within
the continuity guard."""

from __future__ import annotations

import pytest

from solver import SearchParams, solve
from solver.advised import advised_start, drop_until_guarded
from solver.bounds import relaxation
from solver.candidates import Candidates
from solver.check import check
from solver.generate import generate
from solver.greedy import greedy
from solver.guard import Counts, Guard, counts
from solver.instance import load_instance
from solver.objective import Preferences, coverage_term
from solver.params import DEFAULT_PARAMS
from solver.roster import roster_document
from solver.schedule import Schedule
from tests.solver.tiny_instances import client, instance, request, volunteer, window

ONE_SLOT = [window("tue", "13:00", "15:00")]
FURTHER = {"lat": 50.8500, "lon": 12.9252}  # about 2 km from the clients


def nearest_first_trap() -> dict:
    """c1 (priority 2) goes first in the greedy, to v1, the nearest; c2 speaks only German,
    which only v1 does, and stays open. The LP gives c1 to v2 and c2 to v1."""
    return instance(
        [
            volunteer("v1", availability=ONE_SLOT),
            volunteer("v2", home=FURTHER, languages=["ru"], availability=ONE_SLOT),
        ],
        [
            client("c1", requests=[request("c1-1", priority=2, windows=ONE_SLOT)]),
            client("c2", languages=["de"], requests=[request("c2-1", windows=ONE_SLOT)]),
        ],
    )


def test_the_advised_start_covers_what_the_nearest_first_greedy_leaves_open():
    inst = load_instance(nearest_first_trap())
    cands, prefs = Candidates(inst), Preferences.none(inst)
    warm = greedy(cands, prefs, {})
    assert coverage_term(inst, warm.assigned) == 2  # c2 open
    relaxed = relaxation(inst, cands)
    assert relaxed is not None
    guard = Guard(counts(inst, prefs, warm.assigned))
    advised, dropped = advised_start(cands, prefs, {}, relaxed.shares, guard, 100)
    assert dropped == 0
    assert {inst.requests[r].id: inst.volunteers[v].id for r, (v, _) in advised.assigned.items()} == {
        "c1-1": "v2",
        "c2-1": "v1",
    }


def test_a_solve_that_runs_the_lp_starts_from_the_advised_roster_when_it_covers_more():
    doc = nearest_first_trap()
    roster = solve(doc, time_limit=2, workers=1, params=SearchParams(small_week_clients=0))
    assert check(doc, roster).ok
    assert roster["stats"]["greedy_weighted_coverage"] == 2
    assert roster["stats"]["advised_weighted_coverage"] == roster["stats"]["weighted_coverage"] == 3
    without = solve(doc, time_limit=2, workers=1, params=SearchParams(small_week_clients=0, advised_start=False))
    assert "advised_weighted_coverage" not in without["stats"]


def swapped_faces():
    """c1 knows v1, but the roster gives c1-1 to v2 (a stranger) and c2-1 to v1; both
    Tuesday 13:00. Returns the instance, its candidates and that roster's assignment."""
    doc = instance(
        [volunteer("v1", availability=ONE_SLOT), volunteer("v2", home=FURTHER, availability=ONE_SLOT)],
        [
            client("c1", requests=[request("c1-1", windows=ONE_SLOT)], previous_volunteers=["v1"]),
            client("c2", requests=[request("c2-1", windows=ONE_SLOT)]),
        ],
    )
    inst = load_instance(doc)
    cands = Candidates(inst)
    tuesday_13 = cands.options_for(0, 1)[0].starts[0]
    return inst, cands, {0: (1, tuesday_13), 1: (0, tuesday_13)}


def test_visits_are_taken_out_until_the_known_share_is_back():
    """The known share of the swapped roster is 0 against the greedy's 100 %: the
    stranger's visit goes; c2's visit stays."""
    inst, cands, swapped = swapped_faces()
    prefs = Preferences.none(inst)
    guard = Guard(counts(inst, prefs, greedy(cands, prefs, {}).assigned))
    roster = Schedule.holding(inst, cands, swapped)
    assert not guard.allows(counts(inst, prefs, roster.assigned))
    assert drop_until_guarded(roster, prefs, set(), guard) == 1
    assert set(roster.assigned) == {1}
    assert guard.allows(counts(inst, prefs, roster.assigned))
    # a pinned visit is never taken out, and c2-1 would not help: the roster stays as it is
    pinned = Schedule.holding(inst, cands, swapped)
    assert drop_until_guarded(pinned, prefs, {0}, guard) == 0
    assert set(pinned.assigned) == {0, 1}


def test_when_the_greedy_served_nobody_with_history_every_stranger_visit_to_such_a_client_goes():
    """The reference's known share then reads 100 % (solver.guard): one visit by a stranger
    to a client who knows volunteers is one too many."""
    inst, cands, swapped = swapped_faces()
    nobody_known = Guard(Counts(known=0, with_history=0, faces=1, clients=1))
    roster = Schedule.holding(inst, cands, swapped)
    assert drop_until_guarded(roster, Preferences.none(inst), set(), nobody_known) == 1
    assert set(roster.assigned) == {1}


def test_visits_are_taken_out_until_clients_see_no_more_faces_than_in_the_greedy():
    """The greedy gives both of c1's visits to v1 (one face). A roster with v1 on Tuesday
    and v2 on Wednesday shows c1 two faces: one of c1's visits goes, the other stays."""
    both_days = [window("tue", "13:00", "15:00"), window("wed", "13:00", "15:00")]
    doc = instance(
        [volunteer("v1", availability=both_days), volunteer("v2", home=FURTHER, availability=both_days)],
        [
            client(
                "c1",
                requests=[
                    request("c1-1", windows=[both_days[0]]),
                    request("c1-2", windows=[both_days[1]], priority=2),
                ],
            )
        ],
    )
    inst = load_instance(doc)
    cands, prefs = Candidates(inst), Preferences.none(inst)
    warm = greedy(cands, prefs, {})
    assert {v for v, _ in warm.assigned.values()} == {0}
    guard = Guard(counts(inst, prefs, warm.assigned))
    mixed = Schedule.holding(
        inst, cands, {0: (0, cands.options_for(0, 0)[0].starts[0]), 1: (1, cands.options_for(1, 1)[0].starts[0])}
    )
    assert drop_until_guarded(mixed, prefs, set(), guard) == 1
    assert set(mixed.assigned) == {1}  # the lower priority went
    assert guard.allows(counts(inst, prefs, mixed.assigned))


@pytest.mark.parametrize(("scenario", "seed"), [("scarce", 1), ("scarce", 3), ("flex", 2)])
def test_on_winter_weeks_the_advised_start_keeps_every_rule_and_the_guard(scenario, seed):
    """From the week's own LP, on generated weeks with known faces: every hard rule holds
    (the independent validator) and both continuity figures are no worse than the greedy's."""
    doc = generate("S", seed, "2026-W48", scenario)
    inst = load_instance(doc)
    cands, prefs = Candidates(inst), Preferences.none(inst)
    guard = Guard(counts(inst, prefs, greedy(cands, prefs, {}).assigned))
    relaxed = relaxation(inst, cands)
    assert relaxed is not None
    advised, _ = advised_start(cands, prefs, {}, relaxed.shares, guard, DEFAULT_PARAMS.continuity_attempts)
    assert guard.allows(counts(inst, prefs, advised.assigned))
    stats = {"objective": 0, "best_bound": 0, "solve_seconds": 0}
    assert check(doc, roster_document(inst, advised.assigned, {}, "FEASIBLE", stats)).ok
