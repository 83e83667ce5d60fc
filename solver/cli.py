"""`python -m solver ...`: a thin shell over the library; files are read and written here only.

Bad input is reported on stderr as `PATH: reason` lines with exit code 2, never a traceback.
Each command is a small function that calls one library function.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver.instance import InstanceError
from solver.reader import MAX_BYTES, parse_document

app = typer.Typer(
    help="carecal's weekly matcher (carecal-instance/1 -> carecal-roster/1).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)
BAD_INPUT = 2


def fail(lines: list[str]) -> NoReturn:
    for line in lines:
        err.print(line, markup=False, highlight=False)
    raise typer.Exit(BAD_INPUT)


def read_json(path: Path, what: str) -> Any:
    """A JSON document from a file ('-' is stdin) within the reader's limits (solver.reader),
    or exit 2 saying what is wrong where."""
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        elif path.stat().st_size > MAX_BYTES:
            fail([f"{path}: the {what} is larger than {MAX_BYTES // 2**20} MiB"])
        else:
            data = path.read_bytes()
    except OSError as exc:
        fail([f"{path}: cannot read {what}: {exc.strerror or exc}"])
    try:
        return parse_document(data, what)
    except InstanceError as exc:
        report_invalid(path, exc)


def write_json(doc: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def report_invalid(path: Path, exc: InstanceError) -> NoReturn:
    fail([f"{path}: invalid input"] + [f"  {p}: {reason}" for p, reason in exc.errors])


TimeLimit = Annotated[float, typer.Option("--time-limit", "-t", help="Seconds to search.", min=0.1)]
Workers = Annotated[
    int,
    typer.Option("--workers", "-w", help="CP-SAT workers (1: deterministic).", min=1),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed.")]


@app.command("solve")
def solve_command(
    instance: Annotated[Path, typer.Argument(help="carecal-instance/1 JSON file ('-' for stdin).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the roster here (default stdout)."),
    ] = None,
    time_limit: TimeLimit = 10.0,
    workers: Workers = 2,
    seed: Seed = 0,
    previous: Annotated[Path | None, typer.Option(help="Last week's roster: keep volunteers and slots.")] = None,
    base: Annotated[
        Path | None,
        typer.Option(help="This week's roster to repair: keep what still holds."),
    ] = None,
    hold: Annotated[
        list[str] | None,
        typer.Option(help="Request id never to hand to a new volunteer (repeatable)."),
    ] = None,
    max_moves: Annotated[
        int,
        typer.Option(
            "--max-moves",
            min=0,
            help="With --base: other visits each freed request may move to be re-covered.",
        ),
    ] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Find the week's roster."""
    from solver.engine import solve

    doc = read_json(instance, "instance")
    previous_doc = read_json(previous, "previous roster") if previous else None
    base_doc = read_json(base, "base roster") if base else None
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("solving", total=time_limit, status="")

        def on_progress(event: dict[str, Any]) -> None:
            progress.update(
                task,
                completed=min(event["elapsed"], time_limit),
                description=event["phase"],
                status=f"{event['covered']}/{event['requests']} covered",
            )

        try:
            roster = solve(
                doc,
                time_limit=time_limit,
                workers=workers,
                seed=seed,
                previous=previous_doc,
                base=base_doc,
                hold=hold or (),
                max_moves=max_moves,
                on_progress=on_progress,
            )
        except InstanceError as exc:
            progress.stop()
            report_invalid(instance, exc)
        progress.update(task, completed=time_limit, description=roster["status"])
    stats = roster["stats"]
    if not quiet:
        err.print(
            f"{roster['status']}: {stats['covered']}/{stats['requests']} requests covered, weighted "
            f"coverage {stats['weighted_coverage']} (bound {stats['coverage_bound']}), "
            f"{stats['solve_seconds']} s",
            highlight=False,
        )
    write_json(roster, output)


@app.command("explain")
def explain_command(
    instance: Annotated[Path, typer.Argument(help="carecal-instance/1 JSON file.")],
    request: Annotated[str, typer.Argument(help="Request id.")],
    roster: Annotated[
        Path | None,
        typer.Option(help="Explain against this roster (default: the greedy one)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the candidates for one request and which rules each breaks."""
    from solver.engine import explain

    doc = read_json(instance, "instance")
    roster_doc = read_json(roster, "roster") if roster else None
    try:
        result = explain(doc, request, roster=roster_doc)
    except InstanceError as exc:
        report_invalid(instance, exc)
    if as_json:
        write_json(result, None)
        return
    out = Console()
    assigned = result["assigned_to"]
    out.print(
        f"[bold]{result['request']}[/] (client {result['client']}, {result['duration_min']} min, "
        f"{', '.join(result['windows'])})"
    )
    out.print(f"assigned to {assigned['volunteer']} {assigned['start']}" if assigned else "not assigned")
    for reason in result["reasons"]:
        out.print(f"  reason: {reason}", markup=False)
    table = Table("volunteer", "km", "ok", "breaks")
    for row in result["candidates"]:
        table.add_row(
            row["volunteer"],
            f"{row['distance_km']:.1f}",
            "yes" if row["ok"] else "no",
            "; ".join(row["breaks"]),
        )
    out.print(table)


@app.command("check")
def check_command(
    instance: Annotated[Path, typer.Argument(help="carecal-instance/1 JSON file.")],
    roster: Annotated[Path, typer.Argument(help="carecal-roster/1 JSON file.")],
) -> None:
    """Validate a roster against its instance (independent of the solver); exit 1 on any violation."""
    from solver.check import main_check

    raise typer.Exit(main_check(instance, roster))


@app.command("generate")
def generate_command(
    size: Annotated[str, typer.Option("--size", help="S, M, L or XL.")] = "S",
    seed: Seed = 1,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48 (default: next week).")] = None,
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="easy, scarce (demand 1.5x supply) or flex (series on several weekdays).",
        ),
    ] = "easy",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (default stdout).")] = None,
) -> None:
    """Write a synthetic Chemnitz week of the given size and scenario."""
    from solver.generate import main_generate, next_iso_week

    week = week or next_iso_week(date.today())  # the one place the solver asks for today
    raise typer.Exit(main_generate(size, seed, week, str(output) if output else None, scenario))


def run() -> None:
    app()
