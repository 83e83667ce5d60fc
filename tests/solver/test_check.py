"""The independent validator on hand-made rosters: completeness, offsets, conventions, metrics."""

from __future__ import annotations

import json
import math

import pytest

from solver.check import InstanceUnreadable, check, main_check
from tests.solver.tiny_instances import client, instance, request, roster, visit, volunteer, window


def rules(report) -> set[int]:
    return report.rules_broken()


def two_clients() -> dict:
    return instance(
        [volunteer("v1"), volunteer("v2")],
        [
            client("c1", [request("c1-1", priority=3)], previous_volunteers=["v1"]),
            client("c2", [request("c2-1", priority=1), request("c2-2", windows=[window("tue", "09:00", "12:00")])]),
        ],
    )


# --- completeness and format -----------------------------------------------------------


def test_valid_roster_passes():
    inst = two_clients()
    report = check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")]))
    assert report.ok, report.violations


def test_missing_request_is_named():
    inst = two_clients()
    doc = roster(inst, [])
    doc["unassigned"] = [u for u in doc["unassigned"] if u["request"] != "c2-1"]
    report = check(inst, doc)
    assert rules(report) == {0}
    assert any("c2-1" in v.message and "neither" in v.message for v in report.violations)


def test_request_both_assigned_and_unassigned():
    inst = two_clients()
    doc = roster(inst, [])
    doc["assignments"].append(visit(inst, "c1-1", "v1", "2026-11-24 13:00"))
    report = check(inst, doc)
    assert rules(report) == {0}
    assert "c1-1 is both assigned and unassigned" in report.violations[0].message


def test_unassigned_needs_a_reason():
    inst = two_clients()
    doc = roster(inst, [])
    doc["unassigned"][0]["reasons"] = ["  "]
    report = check(inst, doc)
    assert rules(report) == {0}
    assert any("gives no reason" in v.message for v in report.violations)


def test_assignment_must_name_the_requests_own_client_and_a_known_volunteer():
    inst = two_clients()
    wrong_client = visit(inst, "c1-1", "v1", "2026-11-24 13:00") | {"client": "c2"}
    ghost = visit(inst, "c2-2", "v9", "2026-11-24 09:00")
    report = check(inst, roster(inst, [wrong_client, ghost]))
    assert rules(report) == {0}
    messages = " ".join(v.message for v in report.violations)
    assert "belongs to client c1" in messages and "unknown volunteer 'v9'" in messages


def test_wrong_week_and_format_are_format_violations():
    inst = two_clients()
    doc = roster(inst, []) | {"week": "2026-W49", "format": "carecal-roster/2"}
    report = check(inst, doc)
    assert rules(report) == {0}
    assert len(report.violations) == 2


def test_offset_must_be_the_one_in_force():
    inst = two_clients()
    # 15:00+02:00 is 14:00 in Berlin in November, inside every window: only the offset is wrong.
    wrong = {
        "request": "c1-1",
        "client": "c1",
        "volunteer": "v1",
        "start": "2026-11-24T15:00:00+02:00",
        "end": "2026-11-24T17:00:00+02:00",
    }
    report = check(inst, roster(inst, [wrong]))
    assert rules(report) == {0}
    assert "+01:00 is in force" in report.violations[0].message


def test_naive_timestamp_is_rejected():
    inst = two_clients()
    naive = visit(inst, "c1-1", "v1", "2026-11-24 13:00") | {"start": "2026-11-24T13:00:00"}
    report = check(inst, roster(inst, [naive]))
    assert 0 in rules(report)


def test_unreadable_instance_names_the_place():
    inst = two_clients() | {"week": "2026-48"}
    with pytest.raises(InstanceUnreadable, match=r"\$\.week"):
        check(inst, roster(two_clients(), []))


# --- conventions where the spec leaves room ----------------------------------------------


def test_visit_may_end_when_an_absence_begins():
    inst = instance([volunteer(absences=[{"date": "2026-11-24", "from": "15:00", "to": "18:00"}])], [client()])
    assert check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")])).ok
    assert rules(check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:15")]))) == {5}


def test_window_may_end_at_midnight():
    inst = instance(
        [volunteer(availability=[window("sat", "20:00", "24:00")])],
        [client(requests=[request("c1-1", windows=[window("sat", "18:00", "24:00")])])],
    )
    assert check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-28 22:00")])).ok


def test_night_the_clocks_go_back_has_a_five_hour_window():
    """Sunday 25 October 2026: 00:00-04:00 on the wall clock is five real hours."""
    inst = instance(
        [volunteer(availability=[window("sun", "00:00", "04:00")], max_minutes_per_week=600)],
        [client(requests=[request("c1-1", duration_min=300, windows=[window("sun", "00:00", "04:00")])])],
        week="2026-W43",
    )
    doc = roster(inst, [visit(inst, "c1-1", "v1", "2026-10-25 00:00")])
    assert doc["assignments"][0]["end"] == "2026-10-25T04:00:00+01:00"
    assert check(inst, doc).ok
    too_long = visit(inst, "c1-1", "v1", "2026-10-25 00:00", minutes=315)
    assert rules(check(inst, roster(inst, [too_long]))) == {5}


def test_slot_grid_counts_from_local_midnight():
    inst = instance([volunteer()], [client()], slot_minutes=30)
    assert check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:30")])).ok
    report = check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:15")]))
    assert rules(report) == {5} and "30-minute grid" in report.violations[0].message


def test_travel_between_visits_at_the_same_home_is_zero():
    inst = instance(
        [volunteer()],
        [client("c1", [request("c1-1", duration_min=60)]), client("c2", [request("c2-1", duration_min=60)])],
    )
    back_to_back = [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c2-1", "v1", "2026-11-24 14:00")]
    assert check(inst, roster(inst, back_to_back)).ok


def test_pin_may_break_rules_1_to_4_but_only_where_it_holds():
    inst = instance(
        [volunteer(languages=["de"], max_km=0.1)],
        [client(languages=["uk"])],
        pins=[{"request": "c1-1", "volunteer": "v1"}],
    )
    pinned = roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")])
    assert check(inst, pinned).ok
    unpinned = inst | {"pins": []}
    assert rules(check(unpinned, pinned)) == {1, 4}


# --- metrics ---------------------------------------------------------------------------


def test_weighted_coverage_counts_priorities():
    inst = two_clients()  # priorities 3, 1 and 1 (default)
    report = check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")]))
    assert report.metrics["requests"] == 3
    assert report.metrics["covered"] == 1
    assert report.metrics["weighted_coverage"] == pytest.approx(3 / 5)


def test_travel_km_is_haversine_times_detour():
    far = {"lat": 50.8422, "lon": 12.9252}  # 0.01 degrees due north of the volunteer
    inst = instance(
        [volunteer()],
        [client(home=far)],
        travel={
            "detour_factor": 1.5,
            "fixed_minutes": 5,
            "speed_kmh": {"walk": 4.5, "bike": 12, "transit": 15, "car": 25},
        },
    )
    report = check(inst, roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")]))
    assert report.ok
    assert report.metrics["travel_km"] == pytest.approx(6371.0088 * math.radians(0.01) * 1.5, rel=1e-9)


def test_continuity_and_distinct_volunteers_per_client():
    inst = instance(
        [volunteer("v1"), volunteer("v2")],
        [
            client(
                "c1",
                [request("c1-1", windows=[window("tue", "09:00", "12:00")]), request("c1-2")],
                previous_volunteers=["v1"],
                max_visits_per_day=2,
            )
        ],
    )
    report = check(
        inst,
        roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 09:00"), visit(inst, "c1-2", "v2", "2026-11-24 14:00")]),
    )
    assert report.ok, report.violations
    assert report.metrics["continuity"] == pytest.approx(0.5)
    assert report.metrics["distinct_volunteers_per_client"] == pytest.approx(2.0)


def test_load_shares_spread():
    inst = instance([volunteer("v1", max_minutes_per_week=600), volunteer("v2", max_minutes_per_week=240)], [client()])
    report = check(inst, roster(inst, [visit(inst, "c1-1", "v2", "2026-11-24 13:00")]))
    assert report.metrics["load_share_spread"] == pytest.approx(120 / 240)
    assert report.metrics["visit_minutes"] == 120


# --- the command-line edge ----------------------------------------------------------------


def test_main_check_exit_codes(tmp_path, capsys):
    inst = two_clients()
    (tmp_path / "i.json").write_text(json.dumps(inst))
    (tmp_path / "good.json").write_text(json.dumps(roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")])))
    (tmp_path / "bad.json").write_text(json.dumps(roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 12:00")])))
    assert main_check(tmp_path / "i.json", tmp_path / "good.json") == 0
    assert "weighted_coverage" in capsys.readouterr().out
    assert main_check(tmp_path / "i.json", tmp_path / "bad.json") == 1
    assert "outside the request's windows" in capsys.readouterr().out
    assert main_check(tmp_path / "i.json", tmp_path / "missing.json") == 2


def test_window_starting_in_the_skipped_hour_starts_at_the_jump():
    """Sunday 29 March 2026: 02:30 never shows on the clock, so a window from 02:30 opens at 03:00."""
    inst = instance(
        [volunteer(availability=[window("sun", "00:00", "12:00")])],
        [client(requests=[request("c1-1", windows=[window("sun", "02:30", "06:00")])])],
        week="2026-W13",
    )
    at_jump = roster(inst, [visit(inst, "c1-1", "v1", "2026-03-29 03:00")])
    assert at_jump["assignments"][0]["start"] == "2026-03-29T03:00:00+02:00"
    assert check(inst, at_jump).ok
    before = {
        "request": "c1-1",
        "client": "c1",
        "volunteer": "v1",
        "start": "2026-03-29T01:45:00+01:00",
        "end": "2026-03-29T04:45:00+02:00",
    }
    assert check(inst, roster(inst, [before])).rules_broken() == {5}


def test_repeated_hour_when_the_clocks_go_back_counts_both_times():
    """Sunday 25 October 2026: a window to 02:30 ends at the second 02:30 (+01:00)."""
    inst = instance(
        [volunteer(availability=[window("sun", "00:00", "12:00")])],
        [client(requests=[request("c1-1", duration_min=180, windows=[window("sun", "00:30", "02:30")])])],
        week="2026-W43",
    )
    three_hours = {
        "request": "c1-1",
        "client": "c1",
        "volunteer": "v1",
        "start": "2026-10-25T00:30:00+02:00",
        "end": "2026-10-25T02:30:00+01:00",
    }
    assert check(inst, roster(inst, [three_hours])).ok


def test_roster_shape_is_checked_against_the_published_schema():
    inst = two_clients()
    doc = roster(inst, [visit(inst, "c1-1", "v1", "2026-11-24 13:00")])
    del doc["unassigned"], doc["stats"]
    report = check(inst, doc)
    assert rules(report) == {0}
    messages = [v.message for v in report.violations]
    assert "$: 'unassigned' is a required property" in messages
    assert "$: 'stats' is a required property" in messages
    assert any("c2-1 is neither assigned nor unassigned" in m for m in messages)


def test_rule_10_default_is_one_visit_a_day_and_the_field_raises_it():
    inst = instance(
        [volunteer()],
        [client(requests=[request("c1-1", 60), request("c1-2", 60)])],
    )
    same_day = [visit(inst, "c1-1", "v1", "2026-11-24 13:00"), visit(inst, "c1-2", "v1", "2026-11-24 15:00")]
    report = check(inst, roster(inst, same_day))
    assert rules(report) == {10}
    assert "client c1: 2 visits on 2026-11-24 (c1-1, c1-2), at most 1" in report.violations[0].message
    inst["clients"][0]["max_visits_per_day"] = 2
    assert check(inst, roster(inst, same_day)).ok
