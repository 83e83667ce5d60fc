"""Replanning with a base roster: what still holds stays exactly as it was."""

from __future__ import annotations

import copy

import pytest

from solver import solve
from solver.check import check
from tests.solver.tiny_instances import assignment_of, client, instance, local, request, unassigned_of, volunteer

HOMES = [{"lat": 50.8322 + 0.002 * i, "lon": 12.9252} for i in range(6)]


def week() -> dict:
    vols = [volunteer(f"v{i}", home=HOMES[i], max_visits_per_day=2) for i in (1, 2, 3)]
    clients = [client(f"c{i}", home=HOMES[i], requests=[request(f"c{i}-1", 90)]) for i in (1, 2, 3, 4, 5)]
    return instance(vols, clients)


def visits_not_involving(roster: dict, volunteer_id: str) -> list[tuple]:
    return sorted(
        (a["request"], a["volunteer"], a["start"]) for a in roster["assignments"] if a["volunteer"] != volunteer_id
    )


@pytest.fixture(scope="module")
def solved() -> tuple[dict, dict]:
    inst = week()
    return inst, solve(inst, time_limit=2)


def absent_all_tuesday(inst: dict, volunteer_id: str) -> dict:
    changed = copy.deepcopy(inst)
    for v in changed["volunteers"]:
        if v["id"] == volunteer_id:
            v["absences"] = [{"date": "2026-11-24"}]
    return changed


def busiest(roster: dict) -> str:
    counts = {}
    for a in roster["assignments"]:
        counts[a["volunteer"]] = counts.get(a["volunteer"], 0) + 1
    return max(sorted(counts), key=counts.get)


def test_repair_keeps_every_visit_the_absence_does_not_touch(solved):
    inst, base = solved
    gone = busiest(base)
    changed = absent_all_tuesday(inst, gone)
    result = solve(changed, time_limit=2, base=base, max_moves=0)
    assert check(changed, result).ok
    kept = visits_not_involving(base, gone)
    after = sorted((a["request"], a["volunteer"], a["start"]) for a in result["assignments"])
    assert set(kept) <= set(after)  # zero changes to untouched visits
    assert all(a["volunteer"] != gone for a in result["assignments"])
    assert result["stats"]["freed"] == sum(1 for a in base["assignments"] if a["volunteer"] == gone)


def test_repair_reassigns_freed_visits_where_someone_is_free():
    inst = instance([volunteer("v1", home=HOMES[1]), volunteer("v2", home=HOMES[2])], [client("c1", home=HOMES[3])])
    base = solve(inst, time_limit=2)
    first = assignment_of(base, "c1-1")["volunteer"]
    result = solve(absent_all_tuesday(inst, first), time_limit=2, base=base)
    moved = assignment_of(result, "c1-1")
    assert moved is not None and moved["volunteer"] != first
    assert result["stats"]["changed"] == 1


def test_held_request_is_not_handed_to_a_new_volunteer():
    inst = instance([volunteer("v1", home=HOMES[1]), volunteer("v2", home=HOMES[2])], [client("c1", home=HOMES[3])])
    base = solve(inst, time_limit=2)
    first = assignment_of(base, "c1-1")["volunteer"]
    result = solve(absent_all_tuesday(inst, first), time_limit=2, base=base, hold=["c1-1"])
    assert assignment_of(result, "c1-1") is None
    assert any("hold" in r for r in unassigned_of(result, "c1-1")["reasons"])


def test_held_request_that_still_holds_stays():
    inst = week()
    base = solve(inst, time_limit=2)
    held = base["assignments"][0]
    result = solve(inst, time_limit=2, base=base, hold=[held["request"]])
    assert assignment_of(result, held["request"]) == held


def test_repair_does_not_keep_a_visit_that_no_longer_fits_the_window(solved):
    inst, base = solved
    moved = base["assignments"][0]
    changed = copy.deepcopy(inst)
    for c in changed["clients"]:
        for r in c["requests"]:
            if r["id"] == moved["request"]:
                r["windows"] = [{"day": "wed", "from": "09:00", "to": "12:00"}]
    for v in changed["volunteers"]:
        v["availability"].append({"day": "wed", "from": "09:00", "to": "12:00"})
    result = solve(changed, time_limit=2, base=base)
    assert check(changed, result).ok
    again = assignment_of(result, moved["request"])
    assert again is not None and again["start"].startswith("2026-11-25")
    assert visits_not_involving(result, "") == sorted(
        [(a["request"], a["volunteer"], a["start"]) for a in base["assignments"] if a is not moved]
        + [(again["request"], again["volunteer"], again["start"])]
    )


def test_repair_honours_pins(solved):
    inst, base = solved
    target = base["assignments"][0]
    other = next(v["id"] for v in inst["volunteers"] if v["id"] != target["volunteer"])
    pinned = copy.deepcopy(inst)
    pinned["pins"] = [{"request": target["request"], "volunteer": other, "start": local("2026-11-24 16:00")}]
    result = solve(pinned, time_limit=2, base=base)
    a = assignment_of(result, target["request"])
    assert (a["volunteer"], a["start"]) == (other, local("2026-11-24 16:00"))
    assert check(pinned, result).ok


def test_repair_keeps_rule_10_when_a_freed_visit_finds_a_new_day():
    both = [{"day": "tue", "from": "09:00", "to": "18:00"}, {"day": "wed", "from": "09:00", "to": "18:00"}]
    vols = [volunteer("v1", availability=both), volunteer("v2", home=HOMES[1], availability=both)]
    inst = instance(
        vols, [client("c1", requests=[request("c1-1", 90, windows=both), request("c1-2", 90, windows=both)])]
    )
    base = solve(inst, time_limit=2)
    assert len(base["assignments"]) == 2
    gone = base["assignments"][0]["volunteer"]
    changed = absent_all_tuesday(inst, gone)
    result = solve(changed, time_limit=2, base=base)
    report = check(changed, result)
    assert report.ok, [(v.rule, v.message) for v in report.violations]
    assert len({a["start"][:10] for a in result["assignments"]}) == len(result["assignments"])


def rescue_week() -> dict:
    """v1 and v2 share Tuesday 13:00-15:00; c1 knows only v1's language, c2 both. v1 gets
    ill: c1 can be rescued only if c2 moves from v2 to ... nobody; with v3 free (ru only,
    c2's language) c2 moves to v3 and v2 takes c1."""
    slot = [{"day": "tue", "from": "13:00", "to": "15:00"}]
    return instance(
        [
            volunteer("v1", home=HOMES[1], languages=["de", "ru"], availability=slot),
            volunteer("v2", home=HOMES[2], languages=["de", "ru"], availability=slot),
            volunteer("v3", home=HOMES[3], languages=["ru"], availability=slot),
        ],
        [
            client("c1", home=HOMES[1], languages=["de"], requests=[request("c1-1", priority=2, windows=slot)]),
            client("c2", home=HOMES[2], languages=["ru"], requests=[request("c2-1", windows=slot)]),
        ],
    )


def test_rescue_moves_another_visit_to_re_cover_a_freed_one_and_lists_the_move():
    inst = rescue_week()
    base = {
        "format": "carecal-roster/1",
        "week": inst["week"],
        "status": "FEASIBLE",
        "assignments": [
            {
                "request": "c1-1",
                "client": "c1",
                "volunteer": "v1",
                "start": local("2026-11-24 13:00"),
                "end": local("2026-11-24 15:00"),
            },
            {
                "request": "c2-1",
                "client": "c2",
                "volunteer": "v2",
                "start": local("2026-11-24 13:00"),
                "end": local("2026-11-24 15:00"),
            },
        ],
        "unassigned": [],
        "stats": {"objective": 0, "best_bound": 0, "solve_seconds": 0},
    }
    changed = absent_all_tuesday(inst, "v1")
    without = solve(changed, time_limit=2, base=base, max_moves=0)
    assert assignment_of(without, "c1-1") is None  # today's behaviour: nobody else moves
    assert assignment_of(without, "c2-1")["volunteer"] == "v2"
    result = solve(changed, time_limit=2, base=base)
    assert check(changed, result).ok
    assert assignment_of(result, "c1-1")["volunteer"] == "v2"
    assert assignment_of(result, "c2-1")["volunteer"] == "v3"
    stats = result["stats"]
    assert (stats["freed"], stats["rescued"], stats["moved"]) == (1, 1, 1)
    assert stats["moves"] == [
        {
            "request": "c2-1",
            "for": "c1-1",
            "from": {"volunteer": "v2", "start": local("2026-11-24 13:00")},
            "to": {"volunteer": "v3", "start": local("2026-11-24 13:00")},
        }
    ]
    held = solve(changed, time_limit=2, base=base, hold=["c2-1"])  # within 48 hours: never moves
    assert assignment_of(held, "c2-1")["volunteer"] == "v2" and assignment_of(held, "c1-1") is None
