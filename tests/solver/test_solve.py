"""solve(): the roster document, stability, progress, determinism and the warm start floor."""

from __future__ import annotations

import json

import jsonschema
import pytest
from typer.testing import CliRunner

from solver import SCHEMA_DIR, InstanceError, SearchParams, solve
from solver.check import check
from solver.cli import app
from solver.generate import generate
from tests.solver.tiny_instances import (
    assignment_of,
    client,
    instance,
    local,
    local_start,
    request,
    volunteer,
    window,
)

ROSTER_SCHEMA = json.loads((SCHEMA_DIR / "roster.schema.json").read_text())
NEAR = {"lat": 50.8345, "lon": 12.9252}
FARTHER = {"lat": 50.8300, "lon": 12.9252}


def weighted_coverage(inst: dict, roster: dict) -> int:
    priority = {r["id"]: r.get("priority", 1) for c in inst["clients"] for r in c["requests"]}
    return sum(priority[a["request"]] for a in roster["assignments"])


def test_every_request_appears_exactly_once_and_the_roster_is_schema_valid():
    inst = instance(
        [volunteer()],
        [client("c1"), client("c2", languages=["ar"]), client("c3", requests=[request("c3-1"), request("c3-2")])],
    )
    result = solve(inst, time_limit=2)
    jsonschema.validate(result, ROSTER_SCHEMA)
    ids = [a["request"] for a in result["assignments"]] + [u["request"] for u in result["unassigned"]]
    assert sorted(ids) == ["c1-1", "c2-1", "c3-1", "c3-2"]
    assert all(u["reasons"] for u in result["unassigned"])
    assert check(inst, result).ok


def test_tiny_week_is_proven_optimal_with_bound_equal_to_objective():
    inst = instance([volunteer()], [client("c1"), client("c2")])
    result = solve(inst, time_limit=3)
    assert result["status"] == "OPTIMAL"
    assert result["stats"]["best_bound"] == result["stats"]["objective"]
    assert result["stats"]["weighted_coverage"] == result["stats"]["coverage_bound"] == 2


def test_higher_priority_wins_when_only_one_fits():
    inst = instance(
        [volunteer(availability=[window("tue", "13:00", "15:00")])],
        [client("c1", requests=[request("c1-1", priority=1)]), client("c2", requests=[request("c2-1", priority=3)])],
    )
    result = solve(inst, time_limit=2)
    assert [a["request"] for a in result["assignments"]] == ["c2-1"]


def test_continuity_beats_travel_previous_volunteer_is_kept():
    # v-near lives closer, but the client knows v-far: continuity ranks above travel
    inst = instance(
        [volunteer("v-near", home=NEAR), volunteer("v-far", home=FARTHER)], [client(previous_volunteers=["v-far"])]
    )
    assert assignment_of(solve(inst, time_limit=2), "c1-1")["volunteer"] == "v-far"
    inst["clients"][0]["previous_volunteers"] = []
    assert assignment_of(solve(inst, time_limit=2), "c1-1")["volunteer"] == "v-near"


def test_previous_roster_keeps_volunteer_and_weekday_time():
    inst = instance([volunteer("v-near", home=NEAR), volunteer("v-far", home=FARTHER)], [client()])
    last_week = {
        "format": "carecal-roster/1",
        "week": "2026-W47",
        "status": "OPTIMAL",
        "assignments": [
            {
                "request": "c1-1",
                "client": "c1",
                "volunteer": "v-far",
                "start": local("2026-11-17 15:30"),
                "end": local("2026-11-17 17:30"),
            }
        ],
        "unassigned": [],
        "stats": {"objective": 0, "best_bound": 0, "solve_seconds": 0},
    }
    a = assignment_of(solve(inst, time_limit=2, previous=last_week), "c1-1")
    assert a["volunteer"] == "v-far"
    assert local_start(a).strftime("%a %H:%M") == "Tue 15:30"


def test_one_volunteer_per_client_is_preferred():
    inst = instance(
        [volunteer("v1"), volunteer("v2", home=NEAR)],
        [client(requests=[request("c1-1"), request("c1-2", windows=[window("wed", "13:00", "18:00")])])],
    )
    inst["volunteers"][0]["availability"].append(window("wed", "09:00", "18:00"))
    inst["volunteers"][1]["availability"].append(window("wed", "09:00", "18:00"))
    result = solve(inst, time_limit=2)
    assert len({a["volunteer"] for a in result["assignments"]}) == 1
    assert len(result["assignments"]) == 2


def test_summer_time_week_offsets_in_the_roster():
    inst = instance(
        [volunteer(availability=[window("sat", "09:00", "18:00"), window("sun", "09:00", "18:00")])],
        [
            client(
                requests=[
                    request("c1-1", windows=[window("sat", "10:00", "12:00")]),
                    request("c1-2", windows=[window("sun", "10:00", "12:00")]),
                ]
            )
        ],
        week="2026-W43",
    )
    result = solve(inst, time_limit=2)
    starts = {a["request"]: a["start"] for a in result["assignments"]}
    assert starts == {"c1-1": "2026-10-24T10:00:00+02:00", "c1-2": "2026-10-25T10:00:00+01:00"}
    ends = {a["request"]: a["end"] for a in result["assignments"]}
    assert ends["c1-2"] == "2026-10-25T12:00:00+01:00"


def test_invalid_instance_raises_instance_error_with_paths():
    inst = instance([volunteer(mode="teleport")], [client()])
    with pytest.raises(InstanceError) as caught:
        solve(inst)
    assert caught.value.errors[0][0] == "$.volunteers[0].mode"


def test_progress_reports_greedy_first_then_cp_sat():
    events = []
    solve(instance([volunteer()], [client("c1"), client("c2")]), time_limit=2, on_progress=events.append)
    assert events[0]["phase"] == "greedy" and "cp-sat" in [e["phase"] for e in events]
    assert set(events[0]) == {"phase", "elapsed", "time_limit", "covered", "requests", "objective"}
    assert events[-1]["requests"] == 2


@pytest.fixture(scope="module")
def small_week() -> dict:
    return generate("S", 3, "2026-W48")


def test_the_rosters_own_figures_agree_with_the_validators(small_week):
    result = solve(small_week, time_limit=1, workers=2, seed=1)
    report = check(small_week, result)
    assert report.ok, [(v.rule, v.message) for v in report.violations]
    stats, metrics = result["stats"], report.metrics
    assert stats["covered"] == metrics["covered"] == len(result["assignments"])
    total = sum(r.get("priority", 1) for c in small_week["clients"] for r in c["requests"])
    assert stats["weighted_coverage"] == weighted_coverage(small_week, result)
    assert stats["weighted_coverage"] / total == pytest.approx(metrics["weighted_coverage"])
    # travel: the solver counts whole 100 m per visit, the validator exact kilometres
    assert stats["travel_km"] == pytest.approx(metrics["travel_km"], abs=0.05 * stats["covered"] + 0.05)
    assert stats["weighted_coverage"] <= stats["coverage_bound"]


def test_same_seed_and_one_worker_give_the_same_roster(small_week):
    first = solve(small_week, time_limit=0.5, workers=1, seed=7)
    second = solve(small_week, time_limit=0.5, workers=1, seed=7)
    assert first["assignments"] == second["assignments"]


def test_large_neighbourhood_search_is_deterministic_and_valid(small_week):
    lns_only = SearchParams(monolithic_max_clients=0)  # force the path large weeks take
    first = solve(small_week, time_limit=0.5, workers=1, seed=4, params=lns_only)
    second = solve(small_week, time_limit=0.5, workers=1, seed=4, params=lns_only)
    assert first["assignments"] == second["assignments"]
    assert check(small_week, first).ok
    assert "cp_sat_seconds" not in first["stats"] and sum(first["stats"]["lns_rounds"].values()) > 0


# --- CLI ----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_solve_writes_the_roster(tmp_path):
    path, out = tmp_path / "week.json", tmp_path / "roster.json"
    path.write_text(json.dumps(instance([volunteer()], [client()])))
    result = runner.invoke(app, ["solve", str(path), "-o", str(out), "--time-limit", "2", "--workers", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["assignments"][0]["request"] == "c1-1"


def test_cli_bad_input_exits_2_with_the_path_and_no_traceback(tmp_path):
    path = tmp_path / "week.json"
    path.write_text(json.dumps(instance([volunteer(languages=["xx"])], [client()])))
    result = runner.invoke(app, ["solve", str(path), "-q"])
    assert result.exit_code == 2
    assert "$.volunteers[0].languages[0]" in result.output and "Traceback" not in result.output


def test_cli_unreadable_json_exits_2(tmp_path):
    path = tmp_path / "week.json"
    path.write_text("{not json")
    result = runner.invoke(app, ["solve", str(path), "-q"])
    assert result.exit_code == 2 and "not JSON" in result.output
