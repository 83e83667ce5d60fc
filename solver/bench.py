"""Benchmark: the greedy warm start alone against the full solve, per instance size.

Every solve runs in a fresh Python process, so that its peak memory (ru_maxrss) is its own
and one run's caches do not help the next. The figures of merit come from the independent
validator (`solver.check`), not from the solver's own statistics; only the proven bound
(and so the gap) is the solver's word, since nobody else can know it.

The replan case: the L week is solved, then the volunteer with the most visits becomes
absent all week and the week is re-solved from that roster (`base=`). What matters is how
long the repair takes and that no visit of anybody else moved.

The next-week case: the M week's people a week later (same requests), solved with this
week's roster as `previous=`: how many visits keep their volunteer, weekday and time.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from solver.check import check
from solver.generate import generate

DEFAULT_SIZES = ("S", "M", "L", "XL")
TIME_LIMITS = {"S": 5.0, "M": 30.0, "L": 60.0, "XL": 120.0}
BENCH_WEEK = "2026-W48"
REPLAN_SIZE = "L"
NEXT_WEEK_SIZE = "M"


@dataclass
class Run:
    """One solve of one instance, measured from outside."""

    size: str
    method: str  # "greedy", "full", "replan" or "next week"
    status: str
    seconds: float  # wall time of the whole solve call in the child, parsing included
    solver_seconds: float | None  # what the solver reports as its own solving time
    first_valid_seconds: float | None
    peak_bytes: int
    metrics: dict[str, Any]
    violations: int
    gap: float | None
    coverage_bound: float | None  # the solver's proven ceiling on weighted coverage, as a share
    roster: dict = field(repr=False)

    @property
    def ok(self) -> bool:
        """The solve finished and returned a roster (valid or not)."""
        return bool(self.roster)

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


@dataclass
class Replan:
    absent_volunteer: str
    freed_visits: int
    recovered_visits: int
    changed_other_visits: int
    run: Run


@dataclass
class NextWeek:
    """The following week of the same people, solved with this week's roster as `previous`."""

    visits: int  # visits in the new roster whose request was also covered last week
    same_volunteer: int
    same_slot: int  # same volunteer, weekday and local time
    run: Run


@dataclass
class Bench:
    runs: list[Run]
    replan: Replan | None = None
    next_week: NextWeek | None = None


# --- child process: one solve, measured ---------------------------------------------------


def greedy_roster(instance: dict, on_complete=lambda: None) -> dict:
    """The solver's constructive warm start alone, as a roster (what a plain heuristic achieves).

    `on_complete` is called as soon as the roster is complete, before reasons are written."""
    from solver.candidates import Candidates
    from solver.greedy import greedy
    from solver.instance import load_instance
    from solver.pins import place_pins
    from solver.reasons import unassigned_reasons
    from solver.roster import previous_preferences, roster_document

    inst = load_instance(instance)
    cands = Candidates(inst)
    schedule = greedy(cands, previous_preferences(inst, None), place_pins(inst))
    on_complete()
    reasons = {
        r: unassigned_reasons(cands, schedule, r) for r in range(len(inst.requests)) if r not in schedule.assigned
    }
    return roster_document(
        inst, schedule.assigned, reasons, "FEASIBLE", {"objective": 0, "best_bound": 0, "solve_seconds": 0.0}
    )


def _child(spec_path: str) -> None:
    from solver import solve

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    instance = json.loads(Path(spec["instance"]).read_text(encoding="utf-8"))
    base, previous = (
        json.loads(Path(spec[key]).read_text(encoding="utf-8")) if spec.get(key) else None
        for key in ("base", "previous")
    )
    first_progress: list[float] = []
    started = time.perf_counter()

    def on_progress(_event: dict | None = None) -> None:
        if not first_progress:
            first_progress.append(time.perf_counter() - started)

    if spec["method"] == "greedy":
        roster = greedy_roster(instance, on_complete=on_progress)
    else:
        roster = solve(
            instance,
            time_limit=spec["time_limit"],
            workers=spec["workers"],
            seed=spec["seed"],
            base=base,
            previous=previous,
            on_progress=on_progress,
        )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "roster": roster,
                "seconds": seconds,
                "first_progress": first_progress[0] if first_progress else None,
                "peak_bytes": peak,
            }
        ),
        encoding="utf-8",
    )


def _measure(
    workdir: Path,
    size: str,
    method: str,
    instance: dict,
    instance_path: Path,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    base_path: Path | None = None,
    previous_path: Path | None = None,
) -> Run:
    """Run one solve in a fresh process; a crash or a hang is recorded as such, not raised."""
    name = f"{size}-{method}".replace(" ", "-")
    spec_path, out_path = workdir / f"{name}.spec.json", workdir / f"{name}.out.json"
    spec_path.write_text(
        json.dumps(
            {
                "method": method,
                "instance": str(instance_path),
                "base": str(base_path) if base_path else None,
                "previous": str(previous_path) if previous_path else None,
                "out": str(out_path),
                "time_limit": time_limit,
                "workers": workers,
                "seed": seed,
            }
        )
    )
    try:
        subprocess.run(
            [sys.executable, "-m", "solver.bench", str(spec_path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=3 * time_limit + 300,
        )
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or [""]
        return _failed(size, method, f"crashed: {last[0][:120]}")
    except subprocess.TimeoutExpired:
        return _failed(size, method, "hung past three times its time limit")
    return _run(size, method, instance, json.loads(out_path.read_text(encoding="utf-8")))


def _failed(size: str, method: str, status: str) -> Run:
    return Run(
        size=size,
        method=method,
        status=status,
        seconds=0.0,
        solver_seconds=None,
        first_valid_seconds=None,
        peak_bytes=0,
        metrics={},
        violations=0,
        gap=None,
        coverage_bound=None,
        roster={},
    )


def _gap(stats: dict) -> float | None:
    """Relative distance between the roster's objective and the proven bound (CP-SAT's definition)."""
    if "gap" in stats:
        return float(stats["gap"])
    objective, bound = stats.get("objective"), stats.get("best_bound")
    if objective is None or bound is None:
        return None
    return abs(bound - objective) / max(1.0, abs(objective))


def _run(size: str, method: str, instance: dict, raw: dict) -> Run:
    roster = raw["roster"]
    report = check(instance, roster)
    stats = roster.get("stats", {})
    total_priority = sum(r.get("priority", 1) for c in instance["clients"] for r in c["requests"])
    ceiling = stats.get("coverage_bound")
    return Run(
        size=size,
        method=method,
        status=roster.get("status", "?"),
        seconds=raw["seconds"],
        solver_seconds=stats.get("solve_seconds") if method != "greedy" else None,
        first_valid_seconds=raw["first_progress"],
        peak_bytes=raw["peak_bytes"],
        metrics=report.metrics,
        violations=len(report.violations),
        gap=None if method == "greedy" else _gap(stats),
        coverage_bound=None if method == "greedy" or ceiling is None else ceiling / total_priority,
        roster=roster,
    )


# --- the replan case -------------------------------------------------------------------------


def _visit_key(a: dict) -> tuple[str, str, str]:
    return a["request"], a["volunteer"], a["start"]


def absent_all_week(instance: dict, volunteer_id: str) -> dict:
    """The same instance with one volunteer absent every day of the week."""
    year, week = instance["week"].split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    days = [{"date": (monday + timedelta(days=d)).isoformat()} for d in range(7)]
    volunteers = [v | {"absences": days} if v["id"] == volunteer_id else v for v in instance["volunteers"]]
    return instance | {"volunteers": volunteers}


def changed_visits(before: dict, after: dict, involved: str) -> tuple[int, int, int]:
    """(visits of `involved` freed, of those re-covered, visits of anybody else that changed)."""
    new = {_visit_key(a) for a in after["assignments"]}
    assigned_after = {a["request"] for a in after["assignments"]}
    freed = [a for a in before["assignments"] if a["volunteer"] == involved]
    others = [a for a in before["assignments"] if a["volunteer"] != involved]
    return (
        len(freed),
        sum(1 for a in freed if a["request"] in assigned_after),
        sum(1 for a in others if _visit_key(a) not in new),
    )


# --- the whole benchmark ----------------------------------------------------------------------


def run_bench(
    sizes=DEFAULT_SIZES,
    time_limit: float | None = None,
    seed: int = 1,
    out: str | Path | None = None,
    workers: int = 2,
    week: str = BENCH_WEEK,
    progress=print,
    command: str = "python -m solver bench",
) -> Bench:
    """Greedy against the full solve per size, plus the replan case (L) and the next week (M)."""
    bench = Bench(runs=[])
    with tempfile.TemporaryDirectory(prefix="carecal-bench-") as tmp:
        workdir = Path(tmp)
        for size in sizes:
            limit = time_limit if time_limit is not None else TIME_LIMITS[size]
            instance = generate(size, seed, week)
            instance_path = workdir / f"{size}.json"
            instance_path.write_text(json.dumps(instance))
            progress(f"{size}: greedy")
            bench.runs.append(
                _measure(workdir, size, "greedy", instance, instance_path, time_limit=0.0, workers=1, seed=seed)
            )
            progress(f"{size}: full solve, {limit:g} s")
            full = _measure(
                workdir, size, "full", instance, instance_path, time_limit=limit, workers=workers, seed=seed
            )
            bench.runs.append(full)
            if size == NEXT_WEEK_SIZE and full.ok:
                bench.next_week = _next_week(workdir, full, seed, week, limit, workers, progress)
                bench.runs.append(bench.next_week.run)
            if size == REPLAN_SIZE and full.ok:
                bench.replan = _replan(workdir, instance, full, limit, workers, seed, progress)
                bench.runs.append(bench.replan.run)

    if out is not None:
        Path(out).write_text(markdown(bench, command), encoding="utf-8")
    return bench


def following_week(week: str) -> str:
    year, number = week.split("-W")
    year, number, _ = (date.fromisocalendar(int(year), int(number), 1) + timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


def kept_from(previous: dict, current: dict) -> tuple[int, int, int]:
    """(visits whose request was covered before, of those with the same volunteer, and also the same
    weekday and wall-clock time)."""
    before = {a["request"]: a for a in previous["assignments"]}

    def slot(a: dict) -> tuple[int, str]:
        start = datetime.fromisoformat(a["start"])  # carries the local offset: weekday and time are local
        return start.weekday(), start.strftime("%H:%M")

    visits = same_volunteer = same_slot = 0
    for a in current["assignments"]:
        old = before.get(a["request"])
        if old is None:
            continue
        visits += 1
        if old["volunteer"] == a["volunteer"]:
            same_volunteer += 1
            same_slot += slot(old) == slot(a)
    return visits, same_volunteer, same_slot


def _next_week(workdir: Path, solved: Run, seed: int, week: str, limit: float, workers: int, progress) -> NextWeek:
    """The same people a week later (the generator depends on size and seed only), with `previous`."""
    instance = generate(solved.size, seed, following_week(week))
    instance_path, previous_path = workdir / "next-week.json", workdir / "next-week-previous.json"
    instance_path.write_text(json.dumps(instance))
    previous_path.write_text(json.dumps(solved.roster))
    progress(f"{solved.size}: the next week, with this one as previous")
    run = _measure(
        workdir,
        solved.size,
        "next week",
        instance,
        instance_path,
        time_limit=limit,
        workers=workers,
        seed=seed,
        previous_path=previous_path,
    )
    if not run.ok:
        return NextWeek(0, 0, 0, run)
    return NextWeek(*kept_from(solved.roster, run.roster), run)


def _replan(workdir: Path, instance: dict, solved: Run, limit: float, workers: int, seed: int, progress) -> Replan:
    counts = Counter(a["volunteer"] for a in solved.roster["assignments"])
    absent = max(sorted(counts), key=counts.__getitem__)  # the busiest volunteer; ties by id
    changed = absent_all_week(instance, absent)
    changed_path, base_path = workdir / "replan.json", workdir / "replan-base.json"
    changed_path.write_text(json.dumps(changed))
    base_path.write_text(json.dumps(solved.roster))
    progress(f"{solved.size}: replan after {absent} is absent all week")
    run = _measure(
        workdir,
        solved.size,
        "replan",
        changed,
        changed_path,
        time_limit=limit,
        workers=workers,
        seed=seed,
        base_path=base_path,
    )
    if not run.ok:
        return Replan(absent, 0, 0, 0, run)
    freed, recovered, moved = changed_visits(solved.roster, run.roster, absent)
    return Replan(absent, freed, recovered, moved, run)


# --- reporting ----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    try:
        ortools = metadata.version("ortools")
    except metadata.PackageNotFoundError:
        ortools = "?"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kib / 2**20:.1f} GiB",
        "python": platform.python_version(),
        "ortools": ortools,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


COLUMNS = [
    "size",
    "method",
    "status",
    "covered",
    "weighted coverage",
    "vs greedy",
    "coverage bound",
    "continuity",
    "volunteers per client",
    "travel km",
    "first valid s",
    "solve s",
    "gap to bound",
    "peak MiB",
    "violations",
]


def rows(runs: list[Run]) -> list[list[str]]:
    greedy = {r.size: r for r in runs if r.method == "greedy"}
    table = []
    for r in runs:
        if not r.ok:
            table.append([r.size, r.method, r.status] + ["–"] * (len(COLUMNS) - 3))
            continue
        m = r.metrics
        base = greedy.get(r.size)
        gain = (
            ""
            if r.method == "greedy" or base is None or not base.metrics.get("weighted_coverage")
            else f"{(m['weighted_coverage'] / base.metrics['weighted_coverage'] - 1) * 100:+.1f} %"
        )
        table.append(
            [
                r.size,
                r.method,
                r.status,
                f"{m['covered']}/{m['requests']}",
                f"{m['weighted_coverage'] * 100:.1f} %",
                gain,
                "" if r.coverage_bound is None else f"≤ {r.coverage_bound * 100:.1f} %",
                f"{m['continuity'] * 100:.1f} %",
                f"{m['distinct_volunteers_per_client']:.2f}",
                f"{m['travel_km']:.0f}",
                "" if r.first_valid_seconds is None else f"{r.first_valid_seconds:.2f}",
                f"{r.seconds:.1f}",
                "" if r.gap is None else f"{r.gap * 100:.2f} %",
                f"{r.peak_mib:.0f}",
                str(r.violations),
            ]
        )
    return table


def cases(bench: Bench) -> list[str]:
    """The replan and next-week cases in a sentence each."""
    found = []
    replan, nxt = bench.replan, bench.next_week
    if replan is not None and replan.run.ok:
        found.append(
            f"Replan ({replan.run.size}): {replan.absent_volunteer} absent all week; {replan.freed_visits} "
            f"of their visits freed, {replan.recovered_visits} re-covered by others, "
            f"{replan.changed_other_visits} visits of other volunteers changed; solving "
            f"{replan.run.solver_seconds} s, whole call {replan.run.seconds:.2f} s."
        )
    if nxt is not None and nxt.run.ok and nxt.visits:
        found.append(
            f"Next week ({nxt.run.size}, same people and requests, this week's roster as `previous`): of "
            f"{nxt.visits} visits whose request was covered last week, {nxt.same_volunteer} "
            f"({nxt.same_volunteer / nxt.visits:.0%}) kept their volunteer and {nxt.same_slot} "
            f"({nxt.same_slot / nxt.visits:.0%}) also their weekday and time."
        )
    return found


def targets(bench: Bench) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target of the issue that these runs measure."""
    runs, replan = bench.runs, bench.replan
    by = {(r.size, r.method): r for r in runs if r.ok}
    found: list[tuple[str, str, bool | None]] = [
        (f"{r.size} {r.method}: the solve finishes", r.status, False) for r in runs if not r.ok
    ]

    def gain(size: str) -> float:
        return (
            by[(size, "full")].metrics["weighted_coverage"]
            / max(1e-9, by[(size, "greedy")].metrics["weighted_coverage"])
            - 1
        )

    def gain_text(size: str) -> str:
        """The gain, and the most the solver's proven ceiling would allow at all."""
        full, greedy = by[(size, "full")], by[(size, "greedy")]
        text = f"{gain(size) * 100:+.1f} % in {full.seconds:.0f} s"
        if full.coverage_bound is not None and greedy.metrics["weighted_coverage"]:
            ceiling = full.coverage_bound / greedy.metrics["weighted_coverage"] - 1
            text += f" (proven ceiling: {ceiling * 100:+.1f} %)"
        return text

    if ("S", "full") in by:
        s = by[("S", "full")]
        found.append(
            (
                "S proven optimal in ≤ 5 s",
                f"{s.status} in {s.seconds:.1f} s",
                s.status == "OPTIMAL" and s.seconds <= 5.0,
            )
        )
    if ("M", "full") in by and ("M", "greedy") in by:
        m = by[("M", "full")]
        first = m.first_valid_seconds
        found.append(
            (
                "M first valid roster ≤ 2 s",
                "n/a" if first is None else f"{first:.2f} s",
                None if first is None else first <= 2.0,
            )
        )
        found.append(("M ≥ greedy + 15 % weighted coverage in 30 s", gain_text("M"), gain("M") >= 0.15))
        found.append(
            (
                "M ≤ 3 % from the proven bound",
                "n/a" if m.gap is None else f"{m.gap * 100:.2f} %",
                None if m.gap is None else m.gap <= 0.03,
            )
        )
    for size, wanted, memory in (("L", 0.15, 2), ("XL", 0.12, 4)):
        if (size, "full") in by and (size, "greedy") in by:
            r = by[(size, "full")]
            found.append(
                (
                    f"{size} ≥ greedy + {wanted * 100:.0f} % in {TIME_LIMITS[size]:.0f} s",
                    gain_text(size),
                    gain(size) >= wanted,
                )
            )
            found.append((f"{size} within {memory} GiB", f"{r.peak_mib / 1024:.2f} GiB", r.peak_mib <= memory * 1024))
    if replan is not None and replan.run.ok:
        solving = replan.run.solver_seconds
        found.append(
            (
                "replan L after one absence ≤ 1 s of solving",
                f"{solving} s solving (whole call with parsing and pruning: {replan.run.seconds:.2f} s)",
                None if solving is None else solving <= 1.0,
            )
        )
        found.append(
            (
                "replan: zero changes to visits not involving the absent volunteer",
                f"{replan.changed_other_visits} changed",
                replan.changed_other_visits == 0,
            )
        )
    for r in runs:
        if r.violations:
            found.append((f"{r.size} {r.method}: roster passes the validator", f"{r.violations} violations", False))
    return found


def markdown(bench: Bench, command: str = "python -m solver bench") -> str:
    about = machine()
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` on {about['cores']} cores "
        f"({about['cpu']}), {about['memory']} RAM, Python {about['python']}, OR-Tools {about['ortools']}; "
        f"load average at the end {about['load']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(bench.runs)]
    for sentence in cases(bench):
        lines += ["", sentence]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else 'n/a' if ok is None else '**no**'} |" for t, m, ok in targets(bench)]
    return "\n".join(lines) + "\n"


def print_report(bench: Bench) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if console.width < 180:  # a cramped table is unreadable; let a narrow terminal wrap instead
        console = Console(width=180)
    table = Table(title="greedy vs full solve (metrics recomputed by solver.check)", title_justify="left")
    for column in COLUMNS:
        table.add_column(
            column,
            justify="left" if column in ("size", "method", "status") else "right",
            min_width=max(len(word) for word in column.split()),
        )
    for row in rows(bench.runs):
        table.add_row(*row)
    console.print(table)
    for sentence in cases(bench):
        console.print(sentence, markup=False)
    goals = Table(title="targets", title_justify="left")
    for column in ("target", "measured", "met"):
        goals.add_column(column)
    for target, measured, ok in targets(bench):
        goals.add_row(target, measured, "[green]yes[/green]" if ok else "n/a" if ok is None else "[red]no[/red]")
    console.print(goals)
    console.print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()))


def main_bench(
    sizes=DEFAULT_SIZES, time_limit: float | None = None, seed: int = 1, out: str | Path | None = None, workers: int = 2
) -> int:
    """CLI edge: run, print, optionally write Markdown; 1 when a roster fails the validator."""
    from rich.console import Console

    err = Console(stderr=True)
    unknown = [size for size in sizes if size not in TIME_LIMITS]
    if unknown:
        err.print(f"error: unknown size {', '.join(unknown)}; expected some of {', '.join(TIME_LIMITS)}")
        return 2
    command = f"python -m solver bench --sizes {','.join(sizes)} --seed {seed} --workers {workers}"
    if time_limit is not None:
        command += f" --time-limit {time_limit:g}"
    bench = run_bench(
        sizes, time_limit, seed, out, workers, progress=lambda msg: err.print(f"[dim]{msg}[/dim]"), command=command
    )
    print_report(bench)
    return 1 if any(r.violations for r in bench.runs) else 0


if __name__ == "__main__":
    _child(sys.argv[1])
