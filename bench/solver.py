"""Benchmark of the weekly matcher (`solver/`): the greedy warm start alone against the full
solve, per scenario and size. Not part of the test suite; figures go to docs/benchmarks.md,
and so do the targets they are read against.

    .venv/bin/python bench/solver.py [--scenarios easy,scarce,flex] [--sizes S,M,L,XL]
                                     [--time-limit S] [--seed N] [--workers N] [-o FILE]

Every solve runs in a fresh Python process, so that its peak memory (VmHWM) is its own
and one run's caches do not help the next. The figures of merit come from the independent
validator (`solver.check`), not from the solver's own statistics; only the proven ceiling
(and so the share of the distance greedy -> ceiling the solve closes) is the solver's word.

Cases besides greedy/full, each on the first scenario given:
- replan (L): the busiest volunteer becomes absent all week and the week is re-solved from
  the roster (`base=`): freed visits, rescued ones, other visits moved, against a fresh solve
  of the changed week;
- next week (M): the same people a week later, with this week's roster as `previous=`;
- cores (`--simulate-cores 1,4,8`, L): the whole solve on one core, on a clock of its CPU
  time, with the neighbourhood search replayed on N virtual workers (SearchParams'
  `simulated_workers`, docs/solver.md): what N cores would reach in the time limit. Such a
  run takes about N times its limit in wall time.
"""

from __future__ import annotations

import argparse
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

if __name__ == "__main__":  # run as a script, this file's folder must not hide the `solver` package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from solver.check import check  # noqa: E402
from solver.generate import SCENARIOS, SIZES, generate  # noqa: E402

TIME_LIMITS = {"S": 5.0, "M": 30.0, "L": 60.0, "XL": 120.0}
BENCH_WEEK = "2026-W48"
REPLAN_SIZE = "L"
NEXT_WEEK_SIZE = "M"
CEILING_MAX_OPTIONS = 5_000_000  # the LP ceilings of even XL weeks (the solver itself stops far earlier)
# The continuity-kept LP (its two dense rows slow GLOP down: L about a minute, where the plain
# LP takes 4 s) gets this long; beyond, the column stays empty.
GUARDED_CEILING_SECONDS = 120


@dataclass
class Run:
    """One solve of one instance, measured from outside."""

    scenario: str
    size: str
    method: str  # "greedy", "full", "replan", "fresh" (the changed week solved anew) or "next week"
    status: str
    seconds: float  # wall time of the whole solve call in the child, parsing included
    first_valid_seconds: float | None
    peak_bytes: int
    metrics: dict[str, Any]
    violations: int
    ceiling: float | None  # the proven ceiling on weighted coverage, as a share (see week_ceilings)
    stats: dict[str, Any] = field(default_factory=dict)
    roster: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """The solve finished and returned a roster (valid or not)."""
        return bool(self.roster)

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


@dataclass(frozen=True)
class Ceilings:
    """Upper bounds on a week's weighted coverage (priority units): no roster covers more."""

    tight: int  # the smallest proven one (solver.bounds: LP with per-day stretches, knapsack, candidates)
    relaxed: int | None  # the LP with overlaps and travel relaxed, as the issue tracker measures
    total: int  # the priorities of all requests (weighted demand)
    guarded: int | None = None  # the tight LP for rosters that keep the greedy's continuity (solver.guard)


def week_ceilings(instance: dict[str, Any]) -> Ceilings:
    """Computed once per week, outside the timed solves, with no time limit worth the name."""
    from solver.bounds import coverage_bound, relaxation_bound
    from solver.candidates import Candidates
    from solver.greedy import greedy
    from solver.guard import Guard, counts
    from solver.instance import load_instance
    from solver.pins import place_pins
    from solver.roster import previous_preferences

    inst = load_instance(instance)
    cands = Candidates(inst)
    lp = relaxation_bound(inst, cands, time_limit=3600, max_options=CEILING_MAX_OPTIONS)
    relaxed = relaxation_bound(inst, cands, time_limit=3600, spans=False, max_options=CEILING_MAX_OPTIONS)
    prefs = previous_preferences(inst, None)
    guard = Guard(counts(inst, prefs, greedy(cands, prefs, place_pins(inst)).assigned))
    guarded = relaxation_bound(
        inst, cands, time_limit=GUARDED_CEILING_SECONDS, max_options=CEILING_MAX_OPTIONS, guard=(prefs, guard)
    )
    tight = coverage_bound(inst, cands, lp)
    return Ceilings(
        tight, relaxed, sum(r.priority for r in inst.requests), None if guarded is None else min(tight, guarded)
    )


@dataclass
class Replan:
    absent_volunteer: str
    freed: int
    rescued: int
    moved_others: int
    run: Run
    fresh: Run | None = None


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
    ceilings: dict[tuple[str, str], Ceilings] = field(default_factory=dict)  # (scenario, size) -> the week's


# --- child process: one solve, measured ---------------------------------------------------


def greedy_roster(instance: dict[str, Any], on_complete: Any = lambda: None) -> dict[str, Any]:
    """The solver's constructive warm start alone, as a roster (what a plain heuristic achieves).

    `on_complete` is called as soon as the roster is complete, before reasons are written."""
    from solver.candidates import Candidates
    from solver.greedy import greedy
    from solver.instance import load_instance
    from solver.pins import place_pins
    from solver.reasons import unassigned_reasons
    from solver.roster import previous_preferences, roster_document

    inst = load_instance(instance)
    pins = place_pins(inst)
    cands = Candidates(inst)
    schedule = greedy(cands, previous_preferences(inst, None), pins)
    on_complete()
    reasons = {
        r: unassigned_reasons(cands, schedule, r) for r in range(len(inst.requests)) if r not in schedule.assigned
    }
    return roster_document(
        inst, schedule.assigned, reasons, "FEASIBLE", {"objective": 0, "best_bound": 0, "solve_seconds": 0.0}
    )


def peak_rss_bytes() -> int:
    """This process's peak resident memory. VmHWM belongs to the program this process runs;
    ru_maxrss would also count the parent's memory at the fork that started it (Linux keeps
    it across exec), which after an XL week's ceilings is more than a solve needs."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _child(spec_path: str) -> None:
    from solver import SearchParams, solve

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    instance = json.loads(Path(spec["instance"]).read_text(encoding="utf-8"))
    base, previous = (
        json.loads(Path(spec[key]).read_text(encoding="utf-8")) if spec.get(key) else None
        for key in ("base", "previous")
    )
    first_progress: list[float] = []
    started = time.perf_counter()

    def on_progress(_event: Any = None) -> None:
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
            params=SearchParams(simulated_workers=spec.get("simulated_workers", 0)),
        )
    seconds = time.perf_counter() - started
    peak = peak_rss_bytes()
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


def measure(
    workdir: Path,
    scenario: str,
    size: str,
    method: str,
    instance: dict[str, Any],
    instance_path: Path,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    base_path: Path | None = None,
    previous_path: Path | None = None,
    simulated_workers: int = 0,
    ceilings: Ceilings | None = None,
) -> Run:
    """Run one solve in a fresh process; a crash or a hang is recorded as such, not raised."""
    name = f"{scenario}-{size}-{method}".replace(" ", "-")
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
                "simulated_workers": simulated_workers,
            }
        )
    )
    try:
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=3 * time_limit * max(1, simulated_workers) + 300,
        )
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or [""]
        return _failed(scenario, size, method, f"crashed: {last[0][:120]}")
    except subprocess.TimeoutExpired:
        return _failed(scenario, size, method, "hung past three times its time limit")
    return _run(scenario, size, method, instance, json.loads(out_path.read_text(encoding="utf-8")), ceilings)


def _failed(scenario: str, size: str, method: str, status: str) -> Run:
    return Run(scenario, size, method, status, 0.0, None, 0, {}, 0, None)


def _run(
    scenario: str,
    size: str,
    method: str,
    instance: dict[str, Any],
    raw: dict[str, Any],
    ceilings: Ceilings | None = None,
) -> Run:
    roster = raw["roster"]
    report = check(instance, roster)
    stats = roster.get("stats", {})
    total_priority = sum(r.get("priority", 1) for c in instance["clients"] for r in c["requests"])
    known = [b for b in (stats.get("coverage_bound"), ceilings.tight if ceilings else None) if b is not None]
    ceiling = min(known) if known else None
    return Run(
        scenario=scenario,
        size=size,
        method=method,
        status=roster.get("status", "?"),
        seconds=raw["seconds"],
        first_valid_seconds=raw["first_progress"],
        peak_bytes=raw["peak_bytes"],
        metrics=report.metrics,
        violations=len(report.violations),
        ceiling=None if ceiling is None else ceiling / total_priority,
        stats=stats,
        roster=roster,
    )


# --- the replan case -------------------------------------------------------------------------


def _visit_key(a: dict[str, Any]) -> tuple[str, str, str]:
    return a["request"], a["volunteer"], a["start"]


def absent_all_week(instance: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """The same instance with one volunteer absent every day of the week."""
    year, week = instance["week"].split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    days = [{"date": (monday + timedelta(days=d)).isoformat()} for d in range(7)]
    volunteers = [v | {"absences": days} if v["id"] == volunteer_id else v for v in instance["volunteers"]]
    return instance | {"volunteers": volunteers}


def changed_visits(before: dict[str, Any], after: dict[str, Any], involved: str) -> tuple[int, int, int]:
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


def following_week(week: str) -> str:
    year, number = week.split("-W")
    year_, number_, _ = (date.fromisocalendar(int(year), int(number), 1) + timedelta(days=7)).isocalendar()
    return f"{year_}-W{number_:02d}"


def kept_from(previous: dict[str, Any], current: dict[str, Any]) -> tuple[int, int, int]:
    """(visits whose request was covered before, of those with the same volunteer, and also the same
    weekday and wall-clock time)."""
    before = {a["request"]: a for a in previous["assignments"]}

    def slot(a: dict[str, Any]) -> tuple[int, str]:
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


# --- the whole benchmark ----------------------------------------------------------------------


def run_bench(
    scenarios: tuple[str, ...] = SCENARIOS,
    sizes: tuple[str, ...] = tuple(TIME_LIMITS),
    time_limit: float | None = None,
    seed: int = 1,
    workers: int = 2,
    week: str = BENCH_WEEK,
    progress: Any = print,
    cases: bool = True,
    simulate_cores: tuple[int, ...] = (),
) -> Bench:
    """Greedy against the full solve per scenario and size, plus (with `cases`) the replan
    case (L) and the next week (M) on the first scenario."""
    bench = Bench(runs=[])
    with tempfile.TemporaryDirectory(prefix="carecal-bench-") as tmp:
        workdir = Path(tmp)
        for scenario in scenarios:
            for size in sizes:
                limit = time_limit if time_limit is not None else TIME_LIMITS[size]
                instance = generate(size, seed, week, scenario)
                instance_path = workdir / f"{scenario}-{size}.json"
                instance_path.write_text(json.dumps(instance))
                progress(f"{scenario} {size}: ceilings")
                ceilings = bench.ceilings[(scenario, size)] = week_ceilings(instance)
                progress(f"{scenario} {size}: greedy")
                bench.runs.append(
                    measure(
                        workdir,
                        scenario,
                        size,
                        "greedy",
                        instance,
                        instance_path,
                        time_limit=0.0,
                        workers=1,
                        seed=seed,
                        ceilings=ceilings,
                    )
                )
                progress(f"{scenario} {size}: full solve, {limit:g} s")
                full = measure(
                    workdir,
                    scenario,
                    size,
                    "full",
                    instance,
                    instance_path,
                    time_limit=limit,
                    workers=workers,
                    seed=seed,
                    ceilings=ceilings,
                )
                bench.runs.append(full)
                if scenario == scenarios[0] and size == REPLAN_SIZE:
                    for cores in simulate_cores:
                        progress(f"{scenario} {size}: {cores} simulated cores, {limit:g} s of CPU time")
                        bench.runs.append(
                            measure(
                                workdir,
                                scenario,
                                size,
                                f"{cores} cores (simulated)",
                                instance,
                                instance_path,
                                time_limit=limit,
                                workers=1,
                                seed=seed,
                                simulated_workers=cores,
                                ceilings=ceilings,
                            )
                        )
                if not (cases and scenario == scenarios[0] and full.ok):
                    continue
                if size == NEXT_WEEK_SIZE:
                    bench.next_week = _next_week(workdir, full, seed, week, limit, workers, progress)
                    bench.runs.append(bench.next_week.run)
                if size == REPLAN_SIZE:
                    bench.replan = _replan(workdir, instance, full, limit, workers, seed, progress)
                    bench.runs.append(bench.replan.run)
                    if bench.replan.fresh is not None:
                        bench.runs.append(bench.replan.fresh)
    return bench


def _next_week(workdir: Path, solved: Run, seed: int, week: str, limit: float, workers: int, progress: Any) -> NextWeek:
    """The same people a week later (the generator depends on size and seed only), with `previous`."""
    instance = generate(solved.size, seed, following_week(week), solved.scenario)
    instance_path, previous_path = workdir / "next-week.json", workdir / "next-week-previous.json"
    instance_path.write_text(json.dumps(instance))
    previous_path.write_text(json.dumps(solved.roster))
    progress(f"{solved.scenario} {solved.size}: the next week, with this one as previous")
    run = measure(
        workdir,
        solved.scenario,
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


def _replan(
    workdir: Path, instance: dict[str, Any], solved: Run, limit: float, workers: int, seed: int, progress: Any
) -> Replan:
    counts = Counter(a["volunteer"] for a in solved.roster["assignments"])
    absent = max(sorted(counts), key=counts.__getitem__)  # the busiest volunteer; ties by id
    changed = absent_all_week(instance, absent)
    changed_path, base_path = workdir / "replan.json", workdir / "replan-base.json"
    changed_path.write_text(json.dumps(changed))
    base_path.write_text(json.dumps(solved.roster))
    progress(f"{solved.scenario} {solved.size}: replan after {absent} is absent all week")
    run = measure(
        workdir,
        solved.scenario,
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
    freed, rescued, moved = changed_visits(solved.roster, run.roster, absent)
    progress(f"{solved.scenario} {solved.size}: the changed week solved anew")
    fresh = measure(
        workdir,
        solved.scenario,
        solved.size,
        "fresh",
        changed,
        changed_path,
        time_limit=limit,
        workers=workers,
        seed=seed,
    )
    return Replan(absent, freed, rescued, moved, run, fresh)


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
    "scenario",
    "size",
    "method",
    "covered",
    "weighted coverage",
    "× greedy",
    "ceiling",
    "ceiling × greedy",
    "relaxed ceiling × greedy",
    "continuity-kept ceiling × greedy",
    "share closed",
    "continuity",
    "volunteers per client",
    "travel km",
    "first valid s",
    "solve s",
    "LNS rounds/s (kept)",
    "peak MiB",
    "violations",
]


def ratio(run: Run, greedy: Run | None) -> float | None:
    """Weighted coverage of `run` over the greedy's (1.10 = 10 % more)."""
    if greedy is None or not greedy.ok or not greedy.metrics.get("weighted_coverage"):
        return None
    return float(run.metrics["weighted_coverage"]) / float(greedy.metrics["weighted_coverage"])


def share_closed(run: Run, greedy: Run | None) -> float | None:
    """Of the distance greedy -> proven ceiling, the share the solve covered."""
    if greedy is None or run.ceiling is None or not greedy.ok:
        return None
    distance = run.ceiling - greedy.metrics["weighted_coverage"]
    if distance <= 1e-9:
        return 1.0
    return float((run.metrics["weighted_coverage"] - greedy.metrics["weighted_coverage"]) / distance)


def lns_rate(run: Run) -> str:
    """Neighbourhoods solved per second of neighbourhood search, and kept."""
    rounds = sum(run.stats.get("lns_rounds", {}).values())
    kept = sum(run.stats.get("lns_improved", {}).values())
    first = run.stats.get("lns_first_at")
    seconds = (run.stats.get("total_seconds") or 0) - (first or 0)
    if not rounds or seconds <= 0:
        return ""
    return f"{rounds / seconds:.1f} ({kept / seconds:.2f})"


PROFILE_COLUMNS = [
    "scenario",
    "size",
    "method",
    "greedy s",
    "ejection: attempts/s, kept, gain",
    "first neighbourhood s",
    "neighbourhoods (kept) by kind",
    "coverage gained by kind",
    "volunteers / free requests (mean)",
    "Python build s",
    "CP-SAT s",
]


def profile_rows(runs: list[Run]) -> list[list[str]]:
    """Where a solve's time went, from its own statistics (solver/engine.py)."""
    table = []
    for r in runs:
        st = r.stats
        if r.method == "greedy" or not r.ok or "greedy_seconds" not in st:
            continue
        ejection_seconds = st.get("ejection_seconds") or 0
        attempts = st.get("ejection_attempts", 0)
        rate = f"{attempts / ejection_seconds:,.0f}" if ejection_seconds else "–"
        rounds, kept = st.get("lns_rounds", {}), st.get("lns_improved", {})
        sizes = {int(k): n for k, n in st.get("lns_sizes", {}).items()}
        mean_size = sum(k * n for k, n in sizes.items()) / sum(sizes.values()) if sizes else 0
        table.append(
            [
                r.scenario,
                r.size,
                r.method,
                f"{st['greedy_seconds']:.2f}",
                f"{rate}, {st.get('ejection_kept', 0)}, +{st.get('ejection_gain', 0)}",
                "" if st.get("lns_first_at") is None else f"{st['lns_first_at']:.2f}",
                ", ".join(f"{k} {n} ({kept.get(k, 0)})" for k, n in sorted(rounds.items())) or "whole-week model",
                ", ".join(f"{k} +{n}" for k, n in sorted(st.get("lns_gain", {}).items()) if n) or "",
                f"{mean_size:.0f} / {st.get('lns_free_requests_mean', 0):.0f}" if sizes else "",
                f"{st.get('lns_build_seconds', 0):.1f}" if rounds else "",
                f"{st.get('lns_solve_seconds', st.get('cp_sat_seconds', 0)):.1f}",
            ]
        )
    return table


def rows(runs: list[Run], ceilings: dict[tuple[str, str], Ceilings] | None = None) -> list[list[str]]:
    greedy = {(r.scenario, r.size): r for r in runs if r.method == "greedy"}
    table = []
    for r in runs:
        if not r.ok:
            table.append([r.scenario, r.size, r.method, r.status] + ["–"] * (len(COLUMNS) - 4))
            continue
        m = r.metrics
        base = greedy.get((r.scenario, r.size)) if r.method != "greedy" and r.method != "replan" else None
        gain, closed = ratio(r, base), share_closed(r, base)
        ceiling_gain = (
            None
            if r.ceiling is None or base is None or not base.metrics["weighted_coverage"]
            else r.ceiling / base.metrics["weighted_coverage"]
        )
        week = (ceilings or {}).get((r.scenario, r.size))
        relaxed_gain = guarded_gain = None
        if r.method == "greedy" and week is not None and week.relaxed is not None and m["weighted_coverage"]:
            relaxed_gain = week.relaxed / week.total / m["weighted_coverage"]
        if r.method == "greedy" and week is not None and week.guarded is not None and m["weighted_coverage"]:
            guarded_gain = week.guarded / week.total / m["weighted_coverage"]
        if r.method == "greedy" and week is not None and m["weighted_coverage"]:
            ceiling_gain = week.tight / week.total / m["weighted_coverage"]
        table.append(
            [
                r.scenario,
                r.size,
                r.method,
                f"{m['covered']}/{m['requests']}",
                f"{m['weighted_coverage'] * 100:.1f} %",
                "" if gain is None else f"{gain:.3f}",
                "" if r.ceiling is None else f"≤ {r.ceiling * 100:.1f} %",
                "" if ceiling_gain is None else f"{ceiling_gain:.3f}",
                "" if relaxed_gain is None else f"{relaxed_gain:.3f}",
                "" if guarded_gain is None else f"{guarded_gain:.3f}",
                "" if closed is None else f"{closed * 100:.0f} %",
                f"{m['continuity'] * 100:.1f} %",
                f"{m['distinct_volunteers_per_client']:.2f}",
                f"{m['travel_km']:.0f}",
                "" if r.first_valid_seconds is None else f"{r.first_valid_seconds:.2f}",
                f"{r.seconds:.1f}",
                lns_rate(r),
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
        stats = replan.run.stats
        text = (
            f"Replan ({replan.run.scenario} {replan.run.size}): {replan.absent_volunteer} absent all week; "
            f"{replan.freed} of their visits freed, {replan.rescued} re-covered, {replan.moved_others} visits of "
            f"other volunteers moved (solver: {stats.get('rescued', 0)} rescued by {stats.get('moved', 0)} moves); "
            f"solving {stats.get('solve_seconds')} s, whole call {replan.run.seconds:.2f} s; weighted coverage "
            f"{replan.run.metrics['weighted_coverage'] * 100:.1f} %"
        )
        if replan.fresh is not None and replan.fresh.ok:
            fresh = replan.fresh
            moved = changed_visits(replan.run.roster, fresh.roster, replan.absent_volunteer)[2]
            text += (
                f" against {fresh.metrics['weighted_coverage'] * 100:.1f} % for a fresh solve of the changed week "
                f"(which moves {moved} visits of the replanned roster)"
            )
        found.append(text + ".")
    if nxt is not None and nxt.run.ok and nxt.visits:
        found.append(
            f"Next week ({nxt.run.scenario} {nxt.run.size}, same people and requests, this week's roster as "
            f"`previous`): of {nxt.visits} visits whose request was covered last week, {nxt.same_volunteer} "
            f"({nxt.same_volunteer / nxt.visits:.0%}) kept their volunteer and {nxt.same_slot} "
            f"({nxt.same_slot / nxt.visits:.0%}) also their weekday and time."
        )
    return found


def markdown(bench: Bench, command: str) -> str:
    about = machine()
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` on {about['cores']} cores "
        f"({about['cpu']}), {about['memory']} RAM, Python {about['python']}, OR-Tools {about['ortools']}; "
        f"load average at the end {about['load']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(bench.runs, bench.ceilings)]
    profile = profile_rows(bench.runs)
    if profile:
        lines += ["", "| " + " | ".join(PROFILE_COLUMNS) + " |", "|" + "---|" * len(PROFILE_COLUMNS)]
        lines += ["| " + " | ".join(row) + " |" for row in profile]
    for sentence in cases(bench):
        lines += ["", sentence]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: easy, scarce, flex")
    parser.add_argument("--sizes", default=",".join(TIME_LIMITS), help="comma-separated: S, M, L, XL")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve (default per size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-cases", action="store_true", help="skip the replan and next-week cases")
    parser.add_argument("--simulate-cores", default="", help="comma-separated core counts to simulate on L, e.g. 1,4,8")
    parser.add_argument("-o", "--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    sizes = tuple(s.strip() for s in args.sizes.split(",") if s.strip())
    unknown = [s for s in scenarios if s not in SCENARIOS] + [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"error: unknown scenario or size {', '.join(unknown)}", file=sys.stderr)
        return 2
    command = "python bench/solver.py " + " ".join(argv if argv is not None else sys.argv[1:])
    bench = run_bench(
        scenarios,
        sizes,
        args.time_limit,
        args.seed,
        args.workers,
        progress=lambda msg: print(msg, file=sys.stderr),
        cases=not args.no_cases,
        simulate_cores=tuple(int(n) for n in args.simulate_cores.split(",") if n.strip()),
    )
    report = markdown(bench, command.strip())
    print(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    return 1 if any(r.violations for r in bench.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
