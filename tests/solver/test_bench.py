"""The benchmark's own arithmetic, and one real (tiny) run end to end."""

from __future__ import annotations

import pytest

from solver.bench import Bench, _measure, absent_all_week, changed_visits, following_week, kept_from, run_bench, targets
from tests.solver.tiny_instances import client, instance, roster, visit, volunteer, window


def test_absent_all_week_covers_every_day_of_that_volunteer_only():
    inst = instance([volunteer("v1"), volunteer("v2")], [client()])
    changed = absent_all_week(inst, "v2")
    assert [a["date"] for a in changed["volunteers"][1]["absences"]] == [f"2026-11-{d}" for d in range(23, 30)]
    assert "absences" not in changed["volunteers"][0]
    assert "absences" not in inst["volunteers"][1]  # the original is left alone


def test_changed_visits_counts_freed_recovered_and_disturbed():
    both_days = [window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")]
    inst = instance(
        [volunteer("v1", availability=both_days), volunteer("v2", availability=both_days)],
        [
            client("c1"),
            client("c2"),
            client("c3", [{"id": "c3-1", "duration_min": 60, "windows": [window("wed", "09:00", "12:00")]}]),
        ],
    )
    before = roster(
        inst,
        [
            visit(inst, "c1-1", "v1", "2026-11-24 13:00"),
            visit(inst, "c2-1", "v1", "2026-11-24 16:00"),
            visit(inst, "c3-1", "v2", "2026-11-25 09:00"),
        ],
    )
    after = roster(inst, [visit(inst, "c1-1", "v2", "2026-11-24 13:00"), visit(inst, "c3-1", "v2", "2026-11-25 10:00")])
    assert changed_visits(before, after, "v1") == (2, 1, 1)


@pytest.mark.slow
def test_small_run_end_to_end(tmp_path):
    out = tmp_path / "bench.md"
    bench = run_bench(sizes=["S"], time_limit=1.0, seed=3, out=out, workers=1, progress=lambda _: None)
    assert [(r.size, r.method) for r in bench.runs] == [("S", "greedy"), ("S", "full")]
    assert bench.replan is None and bench.next_week is None
    greedy, full = bench.runs
    assert greedy.violations == full.violations == 0
    assert full.metrics["weighted_coverage"] >= greedy.metrics["weighted_coverage"]  # never worse than the warm start
    assert greedy.peak_bytes > 0 and full.first_valid_seconds is not None
    text = out.read_text()
    assert "| S | full |" in text and "S proven optimal in ≤ 5 s" in text
    assert text.startswith("Measured ") and "OR-Tools" in text.splitlines()[0]


def test_a_crashing_solve_is_recorded_not_raised(tmp_path):
    inst = instance([volunteer()], [client()])
    run = _measure(tmp_path, "S", "full", inst, tmp_path / "missing.json", time_limit=1.0, workers=1, seed=0)
    assert not run.ok
    assert run.status.startswith("crashed: FileNotFoundError")
    assert ("S full: the solve finishes", run.status, False) in targets(Bench([run]))


def test_following_week_crosses_the_year():
    assert following_week("2026-W48") == "2026-W49"
    assert following_week("2026-W53") == "2027-W01"


def test_kept_from_compares_volunteer_then_weekday_and_local_time():
    inst = instance([volunteer("v1"), volunteer("v2")], [client("c1"), client("c2"), client("c3")])
    last = roster(
        inst,
        [
            visit(inst, "c1-1", "v1", "2026-11-24 13:00"),
            visit(inst, "c2-1", "v1", "2026-11-24 15:00"),
            visit(inst, "c3-1", "v2", "2026-11-24 13:00"),
        ],
    )
    this = roster(
        inst,
        [
            visit(inst, "c1-1", "v1", "2026-12-01 13:00"),
            visit(inst, "c2-1", "v1", "2026-12-01 16:00"),
            visit(inst, "c3-1", "v1", "2026-12-01 13:00"),
        ],
    )
    assert kept_from(last, this) == (3, 2, 1)
