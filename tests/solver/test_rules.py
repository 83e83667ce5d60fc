"""One test per hard rule of docs/format.md, each on the smallest instance that brings it into play.

Every test asserts three things:
(a) the solver's roster obeys the rule in the way the instance forces,
(b) the independent validator finds nothing wrong with that roster, and
(c) the validator flags a hand-made roster that breaks exactly that rule.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest

from solver import InstanceError, solve
from solver.check import check
from tests.solver.tiny_instances import (
    CLIENT_HOME,
    assignment_of,
    client,
    instance,
    local,
    local_end,
    local_start,
    request,
    roster,
    unassigned_of,
    visit,
    volunteer,
    window,
)

FAR_HOME = {"lat": 50.8448, "lon": 12.9252}  # 0.01 degrees north of the client, 1.45 km with detour


def solved(inst: dict) -> dict:
    """Solve a tiny instance and check the result with the validator: part (b) of every test."""
    result = solve(inst, time_limit=2.0, workers=1, seed=0)
    report = check(inst, result)
    assert report.ok, [v.message for v in report.violations]
    return result


def breaks_only(inst: dict, assignments: list[dict], rule: int) -> None:
    """Part (c): the validator flags exactly `rule` on a hand-made roster."""
    report = check(inst, roster(inst, assignments))
    assert report.rules_broken() == {rule}, [(v.rule, v.message) for v in report.violations]


def assert_left_open(result: dict, request_id: str) -> list[str]:
    assert assignment_of(result, request_id) is None
    reasons = unassigned_of(result, request_id)["reasons"]
    assert reasons and all(r.strip() for r in reasons)
    return reasons


# --- rule 1: language ----------------------------------------------------------------------


def test_rule_1_language_shared():
    inst = instance(
        [volunteer("v1", languages=["ru", "de"]), volunteer("v2", languages=["uk"], home=FAR_HOME)],
        [client(languages=["uk"], previous_volunteers=["v1"])],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v2"
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=1)


def test_rule_1_language_no_speaker_leaves_request_open_with_reason():
    inst = instance([volunteer("v1", languages=["ru", "de"])], [client(languages=["ar"])])
    reasons = assert_left_open(solved(inst), "c1-1")
    assert any("ar" in r for r in reasons)


def test_rule_1_dementia_mother_tongue():
    inst = instance(
        [volunteer("v1", languages=["ru"]), volunteer("v2", languages=["uk"], home=FAR_HOME)],
        [client(languages=["uk", "ru"], dementia=True, previous_volunteers=["v1"])],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v2"
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=1)


# --- rule 2: dementia training -----------------------------------------------------------


def test_rule_2_dementia_training():
    inst = instance(
        [volunteer("v1", dementia_trained=False), volunteer("v2", home=FAR_HOME)],
        [client(dementia=True, previous_volunteers=["v1"])],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v2"
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=2)


# --- rule 3: gender wish and exclusions ------------------------------------------------------


def test_rule_3_gender_preference():
    inst = instance(
        [volunteer("v1", gender="m"), volunteer("v2", gender="f", home=FAR_HOME)],
        [client(gender_preference="f", previous_volunteers=["v1"])],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v2"
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=3)


def test_rule_3_excluded_volunteer():
    inst = instance([volunteer("v1")], [client(excluded_volunteers=["v1"])])
    assert_left_open(solved(inst), "c1-1")
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=3)


# --- rule 4: reach -----------------------------------------------------------------------


def test_rule_4_reach():
    inst = instance([volunteer("v1", max_km=0.3)], [client()])  # the client lives 0.37 km away
    reasons = assert_left_open(solved(inst), "c1-1")
    assert any("km" in r for r in reasons)
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=4)


@pytest.mark.parametrize("inside", [True, False])
def test_rule_4_reach_decided_exactly_at_the_limit(inside):
    # The candidates' array distances may differ from docs/format.md's in the last bits; at
    # exactly the reach (or a hair below it) the formula's own value must decide, as in the validator.
    from solver.instance import load_instance
    from solver.travel import distance_km

    probe = load_instance(instance([volunteer("v1")], [client()]))
    km = distance_km(probe.travel, probe.volunteers[0].home, probe.clients[0].home)
    inst = instance([volunteer("v1", max_km=km if inside else math.nextafter(km, 0.0))], [client()])
    result = solved(inst)
    if inside:
        assert assignment_of(result, "c1-1")["volunteer"] == "v1"
    else:
        assert any("km" in r for r in assert_left_open(result, "c1-1"))


# --- rule 5: time ------------------------------------------------------------------------


def test_rule_5_duration():
    inst = instance([volunteer()], [client(requests=[request("c1-1", duration_min=90)])])
    a = assignment_of(solved(inst), "c1-1")
    assert local_end(a) - local_start(a) == timedelta(minutes=90)
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00", minutes=120)], rule=5)


def test_rule_5_slot_grid():
    # On a 30-minute grid no 120-minute visit fits 13:10-15:20: 13:30 would end 15:30.
    inst = instance(
        [volunteer()], [client(requests=[request("c1-1", windows=[window("tue", "13:10", "15:20")])])], slot_minutes=30
    )
    assert_left_open(solved(inst), "c1-1")
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:10")], rule=5)


def test_rule_5_request_window():
    inst = instance([volunteer()], [client(requests=[request("c1-1", windows=[window("tue", "13:00", "15:00")])])])
    assert assignment_of(solved(inst), "c1-1")["start"] == local("2026-11-24 13:00")
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:15")], rule=5)


def test_rule_5_availability_window():
    inst = instance(
        [volunteer(availability=[window("tue", "14:00", "18:00")])],
        [client(requests=[request("c1-1", windows=[window("tue", "13:00", "17:00")])])],
    )
    start = local_start(assignment_of(solved(inst), "c1-1"))
    assert (14, 0) <= (start.hour, start.minute) <= (15, 0)
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=5)


def test_rule_5_absence_whole_day():
    inst = instance(
        [volunteer("v1", absences=[{"date": "2026-11-24"}]), volunteer("v2", home=FAR_HOME)],
        [client(previous_volunteers=["v1"])],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v2"
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")], rule=5)


def test_rule_5_absence_partial():
    inst = instance([volunteer(absences=[{"date": "2026-11-24", "from": "13:00", "to": "15:00"}])], [client()])
    start = local_start(assignment_of(solved(inst), "c1-1"))
    assert (start.hour, start.minute) >= (15, 0)
    breaks_only(inst, [visit(inst, "c1-1", "v1", "2026-11-24 14:00")], rule=5)


# --- rule 6: a volunteer's day -------------------------------------------------------------


def test_rule_6_overlap():
    fixed = [window("tue", "13:00", "15:00")]
    inst = instance(
        [volunteer()], [client("c1", [request("c1-1", windows=fixed)]), client("c2", [request("c2-1", windows=fixed)])]
    )
    result = solved(inst)
    assert len(result["assignments"]) == 1 and len(result["unassigned"]) == 1
    assert result["unassigned"][0]["reasons"]
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c2-1", "v1", "2026-11-24 13:00")], rule=6
    )


def test_rule_6_travel_time_between_visits():
    inst = instance(
        [volunteer(mode="walk")],
        [
            client("c1", [request("c1-1", windows=[window("tue", "13:00", "15:00")])]),
            client("c2", [request("c2-1", windows=[window("tue", "15:00", "18:00")])], home=FAR_HOME),
        ],
    )
    # Walking 1.45 km at 4.5 km/h, plus the fixed 5 minutes.
    km = 6371.0088 * math.radians(FAR_HOME["lat"] - CLIENT_HOME["lat"]) * 1.3
    walk = math.ceil(km / 4.5 * 60) + 5
    result = solved(inst)
    first, second = assignment_of(result, "c1-1"), assignment_of(result, "c2-1")
    assert first and second
    assert local_start(second) - local_end(first) >= timedelta(minutes=walk)
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c2-1", "v1", "2026-11-24 15:15")], rule=6
    )


# --- rule 7: load --------------------------------------------------------------------------


def test_rule_7_weekly_minutes():
    inst = instance(
        [
            volunteer(
                max_minutes_per_week=180,
                availability=[window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")],
            )
        ],
        [client(requests=[request("c1-1"), request("c1-2", windows=[window("wed", "13:00", "18:00")])])],
    )
    result = solved(inst)
    assert len(result["assignments"]) == 1
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c1-2", "v1", "2026-11-25 13:00")], rule=7
    )


def test_rule_7_visits_per_day():
    inst = instance(
        [volunteer(max_visits_per_day=1)],
        [
            client("c1", [request("c1-1", duration_min=60, windows=[window("tue", "09:00", "12:00")])]),
            client("c2", [request("c2-1", duration_min=60, windows=[window("tue", "14:00", "18:00")])]),
        ],
    )
    result = solved(inst)
    assert len(result["assignments"]) == 1
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 09:00"), visit(inst, "c2-1", "v1", "2026-11-24 14:00")], rule=7
    )


# --- rule 8: requests and clients ------------------------------------------------------------


def test_rule_8_request_assigned_at_most_once():
    inst = instance([volunteer("v1"), volunteer("v2")], [client(max_visits_per_day=2)])
    result = solved(inst)
    assert [a["request"] for a in result["assignments"]] == ["c1-1"]
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c1-1", "v2", "2026-11-24 15:00")], rule=8
    )


def test_rule_8_client_visits_do_not_overlap():
    fixed = [window("tue", "13:00", "15:00")]
    inst = instance(
        [volunteer("v1"), volunteer("v2")],
        [client(requests=[request("c1-1", windows=fixed), request("c1-2", windows=fixed)], max_visits_per_day=2)],
    )
    result = solved(inst)
    assert len(result["assignments"]) == 1 and len(result["unassigned"]) == 1
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c1-2", "v2", "2026-11-24 13:00")], rule=8
    )


# --- rule 10: a client's visits per day ------------------------------------------------------


def test_rule_10_client_visits_per_day():
    # two visits of one series, each allowed on Tuesday or Wednesday: never both on one day
    both = [window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")]
    inst = instance(
        [volunteer(availability=both)],
        [client(requests=[request("c1-1", 60, windows=both), request("c1-2", 60, windows=both)])],
    )
    result = solved(inst)
    days = {local_start(a).date() for a in result["assignments"]}
    assert len(result["assignments"]) == 2 and len(days) == 2
    breaks_only(
        inst, [visit(inst, "c1-1", "v1", "2026-11-24 09:00"), visit(inst, "c1-2", "v1", "2026-11-24 14:00")], rule=10
    )
    # a client who takes two a day may get them on one day
    twice = instance(inst["volunteers"], [client(requests=inst["clients"][0]["requests"], max_visits_per_day=2)])
    assert check(
        twice,
        roster(twice, [visit(twice, "c1-1", "v1", "2026-11-24 09:00"), visit(twice, "c1-2", "v1", "2026-11-24 14:00")]),
    ).ok


def test_rule_10_leaves_the_second_visit_open_with_the_reason():
    one_day = [window("tue", "09:00", "18:00")]
    inst = instance(
        [volunteer()],
        [client(requests=[request("c1-1", 60, priority=2, windows=one_day), request("c1-2", 60, windows=one_day)])],
    )
    result = solved(inst)
    assert [a["request"] for a in result["assignments"]] == ["c1-1"]
    assert any("c1 already has 1 visit on Tue" in r for r in assert_left_open(result, "c1-2"))


# --- rule 9: pins --------------------------------------------------------------------------


def test_rule_9_pin_may_break_rules_1_to_4():
    inst = instance(
        [volunteer("v1", languages=["de"], gender="m", max_km=0.1), volunteer("v2", languages=["uk"])],
        [client(languages=["uk"], gender_preference="f")],
        pins=[{"request": "c1-1", "volunteer": "v1"}],
    )
    assert assignment_of(solved(inst), "c1-1")["volunteer"] == "v1"
    breaks_only(inst, [visit(inst, "c1-1", "v2", "2026-11-24 13:00")], rule=9)


def test_rule_9_pin_start_holds():
    pinned_start = local("2026-11-24 14:30")
    inst = instance(
        [volunteer("v1"), volunteer("v2")],
        [client()],
        pins=[{"request": "c1-1", "volunteer": "v2", "start": pinned_start}],
    )
    a = assignment_of(solved(inst), "c1-1")
    assert (a["volunteer"], a["start"]) == ("v2", pinned_start)
    breaks_only(inst, [visit(inst, "c1-1", "v2", "2026-11-24 13:00")], rule=9)


def test_rule_9_pin_breaking_rule_5_makes_the_instance_invalid():
    inst = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 11:00")}]
    )
    with pytest.raises(InstanceError) as caught:
        solve(inst, time_limit=1.0, workers=1)
    assert [path for path, _ in caught.value.errors] == ["$.pins[0]"]
    assert "rule 5" in caught.value.errors[0][1]


def _contradicting_pins(rule: str) -> dict:
    two_days = [window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")]
    both = [{"request": "c1-1", "volunteer": "v1"}, {"request": "c2-1", "volunteer": "v1"}]
    at_two = local("2026-11-24 14:00")
    if rule == "6":  # one volunteer, two places at once
        return instance([volunteer()], [client("c1"), client("c2")], pins=[pin | {"start": at_two} for pin in both])
    if rule == "7":  # more minutes than the volunteer gives in a week
        return instance(
            [volunteer(max_minutes_per_week=180, availability=two_days)],
            [client("c1"), client("c2", [request("c2-1", windows=[window("wed", "13:00", "18:00")])])],
            pins=both,
        )
    if rule == "10":  # one client, two visits on one day
        return instance(
            [volunteer("v1"), volunteer("v2")],
            [client(requests=[request("c1-1", 60), request("c1-2", 60)])],
            pins=[
                {"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 13:00")},
                {"request": "c1-2", "volunteer": "v2", "start": local("2026-11-24 16:00")},
            ],
        )
    if rule == "8":  # one client, two visits at once
        fixed = [window("tue", "13:00", "15:00")]
        return instance(
            [volunteer("v1"), volunteer("v2")],
            [client(requests=[request("c1-1", windows=fixed), request("c1-2", windows=fixed)])],
            pins=[{"request": "c1-1", "volunteer": "v1"}, {"request": "c1-2", "volunteer": "v2"}],
        )
    raise ValueError(rule)


@pytest.mark.parametrize("rule", ["6", "7", "8", "10"])
def test_rule_9_pins_contradicting_each_other_make_the_instance_invalid(rule):
    with pytest.raises(InstanceError) as caught:
        solve(_contradicting_pins(rule), time_limit=1.0, workers=1)
    named = " ".join(f"{path} {reason}" for path, reason in caught.value.errors)
    assert "pins[0]" in named and "pins[1]" in named
    assert re.search(rf"rules? ([\d-]* and )?[\d-]*{rule}\b", named), named  # "rule 7: ...", "rules 6-7: ..."


def test_rule_9_request_pinned_twice_makes_the_instance_invalid():
    inst = instance(
        [volunteer("v1"), volunteer("v2")],
        [client()],
        pins=[{"request": "c1-1", "volunteer": "v1"}, {"request": "c1-1", "volunteer": "v2"}],
    )
    with pytest.raises(InstanceError) as caught:
        solve(inst, time_limit=1.0, workers=1)
    assert any("pinned twice" in reason for _, reason in caught.value.errors)


# --- summer time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "saturday", "sunday", "before", "after"),
    [
        ("2026-W43", "2026-10-24", "2026-10-25", "+02:00", "+01:00"),  # summer time ends
        ("2026-W13", "2026-03-28", "2026-03-29", "+01:00", "+02:00"),
    ],  # summer time begins
)
def test_rule_5_offsets_follow_the_switch_of_summer_time(week, saturday, sunday, before, after):
    weekend = [window("sat", "10:00", "16:00"), window("sun", "10:00", "16:00")]
    inst = instance(
        [volunteer(availability=weekend)],
        [
            client(
                requests=[
                    request("c1-1", windows=[window("sat", "10:00", "14:00")]),
                    request("c1-2", windows=[window("sun", "10:00", "14:00")]),
                ]
            )
        ],
        week=week,
    )
    result = solved(inst)
    sat, sun = assignment_of(result, "c1-1"), assignment_of(result, "c1-2")
    assert sat["start"].startswith(saturday) and sat["start"].endswith(before) and sat["end"].endswith(before)
    assert sun["start"].startswith(sunday) and sun["start"].endswith(after) and sun["end"].endswith(after)
    # The right moment with last week's offset is still a format error (rule 0), nothing else.
    good = visit(inst, "c1-2", "v1", f"{sunday} 11:00")
    stale = {"start": good["start"], "end": good["end"]}
    for key in stale:
        moment = local_start({"start": good[key]})
        shifted = moment.replace(tzinfo=None) + (timedelta(hours=1) if before > after else timedelta(hours=-1))
        stale[key] = shifted.isoformat() + before
    report = check(inst, roster(inst, [good | stale]))
    assert report.rules_broken() == {0}, [(v.rule, v.message) for v in report.violations]
