"""The benchmark's own arithmetic (bench/solver.py), and one real (tiny) run end to end."""

from __future__ import annotations

import pytest

from bench.solver import (
    Run,
    absent_all_week,
    changed_visits,
    following_week,
    kept_from,
    markdown,
    measure,
    ratio,
    run_bench,
    share_closed,
)
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


def run_with(coverage: float, ceiling: float | None = None, method: str = "full") -> Run:
    metrics = {"weighted_coverage": coverage}
    return Run("scarce", "M", method, "FEASIBLE", 1.0, 0.1, 1, metrics, 0, ceiling, roster={"assignments": []})


def test_ratio_and_share_of_the_distance_to_the_ceiling():
    greedy = run_with(0.60, method="greedy")
    assert ratio(run_with(0.66, 0.70), greedy) == pytest.approx(1.10)
    assert share_closed(run_with(0.66, 0.70), greedy) == pytest.approx(0.6)
    assert share_closed(run_with(0.60, 0.60), greedy) == 1.0  # nothing to close
    assert share_closed(run_with(0.66, None), greedy) is None  # no ceiling, no share


@pytest.mark.slow
def test_small_run_end_to_end(tmp_path):
    bench = run_bench(("flex",), ("S",), time_limit=1.0, seed=3, workers=1, progress=lambda _: None, cases=False)
    assert [(r.scenario, r.size, r.method) for r in bench.runs] == [("flex", "S", "greedy"), ("flex", "S", "full")]
    greedy, full = bench.runs
    assert greedy.violations == full.violations == 0
    assert greedy.peak_bytes > 0 and full.first_valid_seconds is not None
    assert full.ceiling is not None and full.metrics["weighted_coverage"] <= full.ceiling + 1e-9
    week = bench.ceilings[("flex", "S")]  # the continuity-kept ceiling: between the roster and the plain one
    assert (
        week.guarded is not None
        and full.metrics["weighted_coverage"] * week.total <= week.guarded + 1e-6 <= week.tight + 1e-6
    )
    text = markdown(bench, "python bench/solver.py --sizes S")
    gain = f"{ratio(full, greedy):.3f}"
    assert f"| flex | S | full | {full.metrics['covered']}/{full.metrics['requests']} |" in text and gain in text
    assert text.startswith("Measured ") and "OR-Tools" in text.splitlines()[0]


def test_a_crashing_solve_is_recorded_not_raised(tmp_path):
    inst = instance([volunteer()], [client()])
    run = measure(tmp_path, "easy", "S", "full", inst, tmp_path / "missing.json", time_limit=1.0, workers=1, seed=0)
    assert not run.ok
    assert run.status.startswith("crashed: FileNotFoundError")


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
