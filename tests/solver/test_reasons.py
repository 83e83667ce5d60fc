"""Reasons for uncovered requests, and `explain`: words a coordinator can act on."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from solver import explain, solve
from solver.cli import app
from tests.solver.tiny_instances import client, instance, request, unassigned_of, volunteer, window

FAR = {"lat": 50.9000, "lon": 12.9252}  # about 7.5 km north of the client


def reasons(inst: dict, request_id: str) -> list[str]:
    result = solve(inst, time_limit=2)
    return unassigned_of(result, request_id)["reasons"]


def test_no_speaker_within_reach_names_the_nearest_speaker_and_reach():
    inst = instance(
        [volunteer("v1"), volunteer("v012", languages=["uk"], home=FAR, max_km=5)], [client(languages=["uk"])]
    )
    [reason] = reasons(inst, "c1-1")
    assert reason.startswith("no volunteer within reach speaks uk (nearest: v012 at ")
    assert reason.endswith("km, reach 5 km)")
    km = float(reason.split(" at ")[1].split(" km")[0])
    assert 7.0 < km < 10.0


def test_no_speaker_at_all():
    assert reasons(instance([volunteer()], [client(languages=["ar"])]), "c1-1") == ["no volunteer speaks ar"]


def test_gender_wish_nobody_meets():
    [reason] = reasons(instance([volunteer(gender="f")], [client(gender_preference="m")]), "c1-1")
    assert reason.startswith("client wants a male volunteer") and "v1" in reason


def test_dementia_training_missing():
    [reason] = reasons(instance([volunteer(dementia_trained=False)], [client(dementia=True)]), "c1-1")
    assert "dementia-trained" in reason


def test_candidates_fully_booked_in_the_window():
    vols = [volunteer("v1", max_visits_per_day=1), volunteer("v2", max_visits_per_day=1)]
    clients = [client(f"c{i}", requests=[request(f"c{i}-1", 120, priority=2 if i < 3 else 1)]) for i in (1, 2, 3)]
    [reason] = reasons(instance(vols, clients), "c3-1")
    assert reason == "2 candidate(s) (v1, v2), all fully booked in Tue 13:00–18:00"


def test_candidate_out_of_weekly_minutes_is_named():
    vols = [
        volunteer(
            "v1",
            max_minutes_per_week=150,
            availability=[window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")],
        )
    ]
    clients = [
        client("c1", requests=[request("c1-1", 120, priority=2)]),
        client("c2", requests=[request("c2-1", 120, windows=[window("wed", "13:00", "18:00")])]),
    ]
    [reason] = reasons(instance(vols, clients), "c2-1")
    assert "v1" in reason and "weekly minutes" in reason


def test_matching_volunteers_never_free_in_the_window():
    inst = instance([volunteer(availability=[window("mon", "09:00", "12:00")])], [client()])
    [reason] = reasons(inst, "c1-1")
    assert reason == "1 volunteer(s) match (v1), but none is free for 120 minutes in Tue 13:00–18:00"


def test_explain_lists_every_volunteer_with_the_rules_they_break():
    inst = instance(
        [volunteer("v1"), volunteer("v2", languages=["en"], gender="m"), volunteer("v3", home=FAR)],
        [client(gender_preference="f")],
    )
    result = explain(inst, "c1-1")
    rows = {row["volunteer"]: row for row in result["candidates"]}
    assert rows["v1"]["ok"] and rows["v1"]["breaks"] == []
    assert rows["v2"]["breaks"] == [
        "rule 1: speaks none of the client's languages (ru)",
        "rule 3: the client asked for a female volunteer",
    ]
    assert rows["v3"]["breaks"][0].startswith("rule 4: ")
    assert result["assigned_to"]["volunteer"] == "v1"
    assert [row["volunteer"] for row in result["candidates"]][0] == "v1"  # nearest first


def test_explain_against_a_roster_says_who_is_booked():
    vols = [volunteer("v1", max_visits_per_day=1)]
    clients = [client("c1", requests=[request("c1-1", priority=2)]), client("c2")]
    inst = instance(vols, clients)
    roster = solve(inst, time_limit=2)
    result = explain(inst, "c2-1", roster=roster)
    assert result["assigned_to"] is None
    assert result["candidates"][0]["breaks"] == ["rule 7: v1 already has 1 visit that day"]
    assert result["reasons"]


def test_cli_explain_prints_candidates_and_json(tmp_path):
    path = tmp_path / "week.json"
    path.write_text(json.dumps(instance([volunteer("v1"), volunteer("v2", languages=["en"])], [client()])))
    runner = CliRunner()
    table = runner.invoke(app, ["explain", str(path), "c1-1"])
    assert table.exit_code == 0 and "v2" in table.output and "rule 1" in table.output
    as_json = runner.invoke(app, ["explain", str(path), "c1-1", "--json"])
    assert json.loads(as_json.output)["assigned_to"]["volunteer"] == "v1"
    unknown = runner.invoke(app, ["explain", str(path), "nope"])
    assert unknown.exit_code == 2 and "unknown request" in unknown.output


def test_explain_names_rule_10_when_the_client_already_has_a_visit_that_day():
    one_day = [window("tue", "09:00", "18:00")]
    inst = instance(
        [volunteer("v1"), volunteer("v2")],
        [client(requests=[request("c1-1", 60, priority=2, windows=one_day), request("c1-2", 60, windows=one_day)])],
    )
    result = explain(inst, "c1-2")
    assert result["assigned_to"] is None
    assert all(row["breaks"] == ["rule 10: c1 already has 1 visit on Tue"] for row in result["candidates"])
    assert result["reasons"] == ["c1 already has 1 visit on Tue (1 a day at most)"]
