"""Rules 6-8 and 10 have one home (solver.rules); its three forms mean the same.

Each rule on its own on a hand-made week, then on random rosters of generated weeks (valid
ones and ones made to break a rule): the whole-roster check (`violations`), the one visit
at a time checks of Schedule and the greedy, the narrowing of a model's starts against its
fixed visits, the week's CP-SAT model and the pins' CP-SAT model all agree.
"""

from __future__ import annotations

import random
from functools import cache

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from solver.candidates import Candidates
from solver.generate import generate
from solver.greedy import first_fit, greedy
from solver.instance import InstanceError, load_instance
from solver.model import SubProblem, WeekModel
from solver.objective import Preferences
from solver.params import DEFAULT_PARAMS
from solver.pins import place_pins
from solver.rules import violations
from solver.schedule import Schedule
from tests.solver.tiny_instances import client, instance, local, request, volunteer, window

# --- each rule on its own ---------------------------------------------------------------------


def tiny(vols=None, clients=None):
    doc = instance(vols or [volunteer("v1")], clients or [client("c1"), client("c2")])
    inst = load_instance(doc)
    return inst, Candidates(inst)


def at(inst, text: str) -> int:
    return inst.clock.parse_instant(local(text))


def rules_broken(inst, cands, visits: dict[str, tuple[str, str]]) -> list[int]:
    assigned = {inst.request_index[r]: (inst.volunteer_index[v], at(inst, t)) for r, (v, t) in visits.items()}
    return sorted(v.rule for v in violations(inst, cands.travel, assigned))


def test_rule_6_asks_for_the_travel_time_between_two_clients():
    far = {"lat": 50.8348 + 0.03, "lon": 12.9252}  # 3.3 km, 4.3 km with the detour: 23 minutes by transit
    inst, cands = tiny(clients=[client("c1"), client("c2", home=far)])
    assert rules_broken(inst, cands, {"c1-1": ("v1", "2026-11-24 13:00"), "c2-1": ("v1", "2026-11-24 15:00")}) == [
        6
    ]  # ends 15:00, starts 15:00 elsewhere
    assert rules_broken(inst, cands, {"c1-1": ("v1", "2026-11-24 13:00"), "c2-1": ("v1", "2026-11-24 15:30")}) == []
    assert cands.travel(0, 0, 1) == 23


def test_rule_7_weekly_minutes_and_visits_a_day():
    inst, cands = tiny(vols=[volunteer("v1", max_minutes_per_week=180, max_visits_per_day=1)])
    both = {"c1-1": ("v1", "2026-11-24 09:00"), "c2-1": ("v1", "2026-11-24 13:00")}
    assert rules_broken(inst, cands, both) == [7, 7]  # 240 minutes, two visits on one day
    assert rules_broken(inst, cands, {"c1-1": ("v1", "2026-11-24 09:00")}) == []


def test_rule_8_a_clients_visits_do_not_overlap_and_rule_10_counts_them_per_day():
    inst, cands = tiny(
        vols=[volunteer("v1"), volunteer("v2")],
        clients=[client("c1", [request("c1-1", 120), request("c1-2", 120)], max_visits_per_day=2)],
    )
    assert rules_broken(inst, cands, {"c1-1": ("v1", "2026-11-24 13:00"), "c1-2": ("v2", "2026-11-24 14:00")}) == [8]
    assert rules_broken(inst, cands, {"c1-1": ("v1", "2026-11-24 09:00"), "c1-2": ("v2", "2026-11-24 14:00")}) == []
    one_a_day = load_instance(
        instance([volunteer("v1"), volunteer("v2")], [client("c1", [request("c1-1"), request("c1-2")])])
    )
    assigned = {0: (0, at(one_a_day, "2026-11-24 09:00")), 1: (1, at(one_a_day, "2026-11-24 14:00"))}
    assert [v.rule for v in violations(one_a_day, Candidates(one_a_day).travel, assigned)] == [10]


# --- the forms agree on random rosters ------------------------------------------------------------


def on_the_edge(doc: dict) -> dict:
    """The week on a grid of single minutes (so that a visit can start exactly when the
    rules allow, or a minute earlier), every other client taking two visits a day (rule 10
    then allows what rule 8 forbids)."""
    clients = [c | {"max_visits_per_day": 2} if i % 2 else c for i, c in enumerate(doc["clients"])]
    return doc | {"clients": clients, "slot_minutes": 1}


WEEKS = {
    (scenario, seed): on_the_edge(generate("S", seed, "2026-W48", scenario))
    for scenario in ("scarce", "flex")
    for seed in (1, 2)
}


@cache
def week(key):
    doc = WEEKS[key]
    inst = load_instance(doc)
    cands = Candidates(inst)
    return doc, inst, cands, greedy(cands, Preferences.none(inst), {}).assigned


def any_visit(cands: Candidates, rng: random.Random, r: int) -> tuple[int, int] | None:
    """A visit for r that keeps rules 1-5 (one of its options), whatever else is booked."""
    options = cands.options[r]
    if not options:
        return None
    o = rng.choice(options)
    return o.volunteer, rng.choice(o.starts)


def beside_sibling(cands: Candidates, roster: dict[int, tuple[int, int]], rng: random.Random, r: int):
    """A visit for r (rules 1-5) on the day of another visit of its client, starting about
    when that one ends: on either side of rule 8's line."""
    inst = cands.inst
    siblings = [q for q in inst.client_of(r).requests if q != r and q in roster]
    if not siblings:
        return None
    q = rng.choice(siblings)
    day = inst.clock.day_of(roster[q][1])
    options = [o for o in cands.options[r] if o.day == day]
    if not options:
        return None
    o = rng.choice(options)
    target = roster[q][1] + inst.requests[q].duration + rng.choice([-1, 0, 0, 1])
    return o.volunteer, min(o.starts, key=lambda s: abs(s - target))


def beside_colleague(cands: Candidates, roster: dict[int, tuple[int, int]], rng: random.Random, r: int):
    """A visit for r (rules 1-5) by a volunteer who has another visit that day, starting about
    when the travel from that visit lets it: on either side of rule 6's line."""
    inst = cands.inst
    for v in rng.sample(cands.takers(r), len(cands.takers(r))):
        for o in cands.options_for(r, v):
            theirs = [q for q, (w, s) in roster.items() if w == v and inst.clock.day_of(s) == o.day and q != r]
            if theirs:
                q = rng.choice(theirs)
                ready = roster[q][1] + inst.requests[q].duration
                ready += cands.travel(v, inst.requests[q].client, inst.requests[r].client)
                target = ready + rng.choice([-1, 0, 0, 1])
                return v, min(o.starts, key=lambda s: abs(s - target))
    return None


def random_roster(cands: Candidates, greedy_roster, rng: random.Random) -> dict[int, tuple[int, int]]:
    """The greedy roster, a few of its visits moved (or added) anywhere rules 1-5 allow: beside
    another visit of their client, right after another visit of their volunteer, or anywhere."""
    roster = dict(greedy_roster)
    requests = list(range(len(cands.inst.requests)))
    moves = (beside_sibling, beside_colleague, beside_colleague, lambda c, _, g, r: any_visit(c, g, r))
    moved = set()
    for r in rng.sample(requests, rng.randrange(0, 5)):
        visit = rng.choice(moves)(cands, roster, rng, r)
        if visit is not None:
            roster[r] = visit
            moved.add(r)
    kept = rng.sample(sorted(roster), min(len(roster), rng.randrange(4, 30)))
    return {r: roster[r] for r in {*kept, *moved}}


def model_accepts(cands: Candidates, assigned: dict[int, tuple[int, int]]) -> bool:
    """The week's CP-SAT model, with exactly these visits fixed in it, is feasible."""
    inst = cands.inst
    sub = SubProblem(free=sorted(assigned), fixed={}, hint={})
    model = WeekModel(cands, Preferences.none(inst), sub, DEFAULT_PARAMS)
    for o in model.opts:
        v, s = assigned[o.request]
        chosen = o.volunteer == v and o.day == inst.clock.day_of(s)
        model.model.add(o.x == int(chosen))
        if chosen:
            model.model.add(o.s == s)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model.model)
    assert status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return status == cp_model.OPTIMAL


def pins_accepted(doc: dict, inst, assigned: dict[int, tuple[int, int]]) -> bool:
    """place_pins takes these visits as the coordinator's pins."""
    pins = [
        {"request": inst.requests[r].id, "volunteer": inst.volunteers[v].id, "start": inst.clock.iso(s)}
        for r, (v, s) in sorted(assigned.items())
    ]
    try:
        placed = place_pins(load_instance(doc | {"pins": pins}))
    except InstanceError:
        return False
    assert placed == assigned
    return True


def schedule_accepts(cands: Candidates, assigned: dict[int, tuple[int, int]], rng: random.Random) -> bool:
    """Schedule takes the visits one at a time, in any order, each one fitting."""
    schedule = Schedule(cands.inst, cands)
    for r in rng.sample(sorted(assigned), len(assigned)):
        v, s = assigned[r]
        if not schedule.fits(r, v, s):
            return False
        schedule.add(r, v, s)
    return True


def roster_breaking(key, rules: set[int], seed: int) -> dict[int, tuple[int, int]] | None:
    """A random roster of the week that breaks exactly these rules (none: a valid one)."""
    _, inst, cands, greedy_roster = week(key)
    for attempt in range(300):
        assigned = random_roster(cands, greedy_roster, random.Random(seed * 1000 + attempt))
        if {v.rule for v in violations(inst, cands.travel, assigned)} == rules:
            return assigned
    return None


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(sorted(WEEKS)),
    breaks=st.sampled_from([(), (), (6,), (7,), (8,), (10,)]),
    seed=st.integers(0, 10_000),
)
def test_the_models_the_pins_and_the_schedules_rules_are_the_rules(key, breaks, seed):
    """Rosters that break one rule alone (so that a form missing it would show) or none."""
    doc, inst, cands, _ = week(key)
    assigned = roster_breaking(key, set(breaks), seed)
    assume(assigned is not None)
    assert assigned is not None
    rng = random.Random(seed)
    valid = not breaks
    event(f"breaks rule {breaks[0]}" if breaks else "valid")
    assert model_accepts(cands, assigned) == valid
    assert pins_accepted(doc, inst, assigned) == valid
    assert schedule_accepts(cands, assigned, rng) == valid


@settings(max_examples=25, deadline=None)
@given(key=st.sampled_from(sorted(WEEKS)), seed=st.integers(0, 10_000))
def test_one_visit_checks_and_a_models_starts_are_the_rules(key, seed):
    """Beside a valid roster: the starts a model keeps for an option of a request left out,
    the starts Schedule lets it take, and the greedy's first fit are those that break no rule."""
    _, inst, cands, roster = week(key)
    rng = random.Random(seed)
    fixed = {r: roster[r] for r in rng.sample(sorted(roster), len(roster) // 2)}
    schedule = Schedule.holding(inst, cands, fixed)
    left_out = [r for r in range(len(inst.requests)) if r not in fixed and cands.options[r]]
    for r in rng.sample(left_out, min(5, len(left_out))):
        model = WeekModel(cands, Preferences.none(inst), SubProblem([r], fixed, {}), DEFAULT_PARAMS)
        for o in cands.options[r]:
            allowed = [s for s in o.starts if not violations(inst, cands.travel, fixed | {r: (o.volunteer, s)})]
            event("some start allowed" if allowed else "no start allowed")
            assert list(model._allowed_starts(o)) == allowed
            assert [s for s in o.starts if schedule.fits(r, o.volunteer, s)] == allowed
        v = cands.takers(r)[0]
        fitting = [
            s
            for o in cands.options_for(r, v)
            for s in o.starts
            if not violations(inst, cands.travel, fixed | {r: (v, s)})
        ]
        assert first_fit(schedule, r, v, frozenset()) == (fitting[0] if fitting else None)


def edge_week(first: tuple[str, str], second: tuple[str, str]):
    """Two clients 4.3 km apart (23 minutes by transit), c1 wanting two hours in the window
    `first`, c2 an hour in `second`, on a grid of single minutes."""
    far = {"lat": 50.8348 + 0.03, "lon": 12.9252}
    doc = instance(
        [volunteer("v1", availability=[window("tue", "08:00", "20:00")])],
        [
            client("c1", [request("c1-1", 120, windows=[window("tue", *first)])]),
            client("c2", [request("c2-1", 60, windows=[window("tue", *second)])], home=far),
        ],
    )
    return doc | {"slot_minutes": 1}


WHOLE_DAY = ("08:00", "20:00")


@pytest.mark.parametrize(
    "windows, second, valid",
    [
        ((WHOLE_DAY, WHOLE_DAY), "15:23", True),  # either order possible: an order literal
        ((WHOLE_DAY, WHOLE_DAY), "15:22", False),
        ((WHOLE_DAY, WHOLE_DAY), "11:37", True),
        ((WHOLE_DAY, WHOLE_DAY), "11:38", False),
        ((("13:00", "15:30"), ("14:00", "17:00")), "15:23", True),  # only c1-1 first: an implication
        ((("13:00", "15:30"), ("14:00", "17:00")), "15:22", False),
        ((("13:00", "15:30"), ("14:00", "16:23")), "15:23", True),  # ... its last start only
        ((("13:00", "17:00"), ("10:00", "12:40")), "11:37", True),  # only c2-1 first
        ((("13:00", "17:00"), ("10:00", "12:40")), "11:38", False),
    ],
)
def test_every_form_draws_rule_6s_line_at_the_same_minute(windows, second, valid):
    """c1-1 from 13:00 to 15:00; c2-1 (an hour, 23 minutes away) after it or before it."""
    doc = edge_week(*windows)
    inst = load_instance(doc)
    cands = Candidates(inst)
    assigned = {0: (0, at(inst, "2026-11-24 13:00")), 1: (0, at(inst, f"2026-11-24 {second}"))}
    assert cands.travel(0, 0, 1) == 23
    assert (not violations(inst, cands.travel, assigned)) == valid
    assert model_accepts(cands, assigned) == valid
    assert pins_accepted(doc, inst, assigned) == valid
    assert schedule_accepts(cands, assigned, random.Random(0)) == valid
    fixed = {0: assigned[0]}
    model = WeekModel(cands, Preferences.none(inst), SubProblem([1], fixed, {}), DEFAULT_PARAMS)
    assert (assigned[1][1] in model._allowed_starts(cands.options[1][0])) == valid


@pytest.mark.parametrize("second, valid", [("15:00", True), ("14:59", False), ("12:00", True), ("12:01", False)])
def test_every_form_draws_rule_8s_line_at_the_same_minute(second, valid):
    """A client's visits back to back by two volunteers: 13:00-15:00 and an hour after or before."""
    both = [window("tue", "08:00", "20:00")]
    doc = instance(
        [volunteer("v1", availability=both), volunteer("v2", availability=both)],
        [client("c1", [request("c1-1", 120, windows=both), request("c1-2", 60, windows=both)], max_visits_per_day=2)],
    ) | {"slot_minutes": 1}
    inst = load_instance(doc)
    cands = Candidates(inst)
    assigned = {0: (0, at(inst, "2026-11-24 13:00")), 1: (1, at(inst, f"2026-11-24 {second}"))}
    assert (not violations(inst, cands.travel, assigned)) == valid
    assert model_accepts(cands, assigned) == valid
    assert pins_accepted(doc, inst, assigned) == valid
    assert schedule_accepts(cands, assigned, random.Random(0)) == valid


def test_random_rosters_show_both_kinds():
    """The rosters the tests above draw are valid, or break each of the rules."""
    seen: set[int | None] = set()
    for key in sorted(WEEKS):
        _, inst, cands, greedy_roster = week(key)
        for seed in range(30):
            found = violations(inst, cands.travel, random_roster(cands, greedy_roster, random.Random(seed)))
            seen |= {v.rule for v in found} if found else {None}
    assert seen == {None, 6, 7, 8, 10}
