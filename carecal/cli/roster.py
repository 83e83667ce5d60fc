"""`carecal roster ...`: plan, look at, replan, compare and publish a week.

A plan reads in one transaction, solves with none open, and stores in a second one, so a
failed or interrupted solve leaves every stored version exactly as it was. What is shown
comes from carecal.roster.views as data; this module only prints it.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carecal import config, organisation, tables
from carecal.cli.common import (
    ActorOption,
    WeekOption,
    console,
    err_console,
    noun,
    print_json,
    session,
    write_output,
)
from carecal.errors import InputError
from carecal.instance import roster_document
from carecal.roster import advice, planning, versions, views
from carecal.roster.diff import diff as roster_diff
from carecal.roster.diff import local_slot
from carecal.weeks import IsoWeek, to_local

app = noun("roster", "Plan, review, replan and publish a week's roster.")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class TableOrJson(str, Enum):
    """For commands without a CSV form: `--format csv` is refused there, not ignored."""

    table = "table"
    json = "json"


# --------------------------------------------------------------------------- plan / replan


def _solve_with_progress(prepared, time_limit: float, max_moves: int = planning.RESCUE_MOVES):
    with Progress(
        TextColumn("[bold]solving {task.fields[week]}"),
        BarColumn(),
        TextColumn("{task.fields[covered]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("solve", total=time_limit, week=str(prepared.build.week), covered="")

        def on_progress(report: dict) -> None:
            progress.update(
                task,
                completed=min(report["elapsed"], time_limit),
                covered=f"{report['covered']}/{report['requests']} covered · {report['phase']}",
            )

        try:
            return planning.solve_week(prepared, time_limit=time_limit, max_moves=max_moves, on_progress=on_progress)
        except KeyboardInterrupt:
            err_console.print("[red]interrupted:[/] nothing was stored; every version is as it was")
            raise typer.Exit(130) from None


def _print_summary(stored: dict, prepared, suggestions: dict[str, list] | None = None) -> None:
    """Coverage, notes, the uncovered requests as stored (with their reasons), substitutes to
    offer, and each volunteer's load."""
    roster = prepared.roster
    figures = planning.summary(prepared)
    console.print(
        f"[bold]week {prepared.build.week}[/] · version {stored['number']} (draft) stored · solver "
        f"{roster['status']} in {roster['stats'].get('solve_seconds', 0):.1f} s"
    )
    console.print(
        f"coverage: [bold]{figures['covered']}/{figures['requests']}[/] requests "
        f"({figures['coverage_percent']} %, priority-weighted {figures['weighted_coverage_percent']} %)"
    )
    for note in prepared.build.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if stored["unassigned"]:
        table = Table(title=f"unassigned ({len(stored['unassigned'])})", title_justify="left")
        for column in ("request", "client", "why"):
            table.add_column(column)
        for request, client, reasons in stored["unassigned"]:
            table.add_row(request, client, "; ".join(reasons))
        console.print(table)
    for request, ranked in (suggestions or {}).items():
        free = [c for c in ranked if c.ok][:3]
        offer = ", ".join(f"{c.volunteer} ({'; '.join(c.reasons[:2])})" for c in free)
        console.print(
            f"[bold yellow]needs a substitute:[/] {request} — offer to: "
            f"{offer or 'nobody is free; see `carecal roster suggest`'}"
        )
    for line in stored["missed"]:
        console.print(
            f"[bold yellow]warning:[/] override {line} changed while solving and is not in this "
            f"version; run `carecal roster replan --week {prepared.build.week}`",
            highlight=False,
        )
    load = Table(title="load per volunteer", title_justify="left")
    for column in ("volunteer", "visits", "minutes", "of max", "load"):
        load.add_column(column, justify="right" if column != "volunteer" else "left")
    for row in figures["load"]:
        share = row["minutes"] / row["max_minutes"] if row["max_minutes"] else 0
        load.add_row(
            row["volunteer"],
            str(row["visits"]),
            str(row["minutes"]),
            str(row["max_minutes"]),
            "█" * round(share * 10) + "·" * (10 - round(share * 10)),
        )
    console.print(load)


@app.command("plan")
def plan(
    week: str = WeekOption,
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.5, help="seconds the solver may take"),
    actor: str = ActorOption,
) -> None:
    """Plan the week afresh and store it as a new draft version (nothing is published)."""
    iso, who = IsoWeek.parse(week), config.actor(actor)
    with session() as s:
        prepared = planning.prepare_plan(s, iso)
    prepared = _solve_with_progress(prepared, time_limit)
    with session() as s:
        version = versions.store_version(s, prepared, who)
        published, stored = version.roster_week.published, views.stored_summary(s, version, prepared)
    _print_summary(stored, prepared)
    if published is not None:
        console.print(
            f"[yellow]note:[/] version {published.number} is published; this fresh plan did not try to "
            f"keep it. `carecal roster replan --week {iso}` changes only what must change."
        )


@app.command("replan")
def replan(
    week: str = WeekOption,
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.5, help="seconds the solver may take"),
    from_version: int = typer.Option(None, "--from", help="version to repair (default: the latest)"),
    no_moves: bool = typer.Option(
        False, "--no-moves", help="move no other visit to re-cover a freed one (only what the overrides touch changes)"
    ),
    actor: str = ActorOption,
) -> None:
    """Repair the latest version after overrides, moving only what they touch.

    Untouched visits keep volunteer and time, except that a freed visit may be re-covered by
    moving up to two other visits (none starting within 48 hours); every such move is
    listed. Visits starting within 48 hours are never handed to another volunteer
    automatically: they are listed as "needs a substitute" with ranked suggestions.
    """
    iso, who = IsoWeek.parse(week), config.actor(actor)
    with session() as s:
        prepared = planning.prepare_replan(s, iso, from_version=from_version)
    prepared = _solve_with_progress(prepared, time_limit, 0 if no_moves else planning.RESCUE_MOVES)
    with session() as s:
        version = versions.store_version(s, prepared, who)
        suggestions = views.substitutes(version)
        stored = views.stored_summary(s, version, prepared)
    console.print(
        f"replanned from version {prepared.based_on}; see the changes with `carecal roster diff --week {iso}`"
    )
    _print_summary(stored, prepared, suggestions)
    for line in planning.moves_in_words(prepared.roster):
        console.print(f"[bold]moved:[/] {line}", highlight=False, soft_wrap=True)  # one line each, to copy


# --------------------------------------------------------------------------- look at it


def _short(name: str) -> str:
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


@app.command("show")
def show(
    week: str = WeekOption,
    volunteer: str = typer.Option(None, "--volunteer", help="only this volunteer's visits (external id)"),
    client: str = typer.Option(None, "--client", help="only this client's visits (external id)"),
    version: int = typer.Option(None, "--version", help="version number (default: the latest)"),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv"),
) -> None:
    """Show a version of the week's roster: visits, then the uncovered requests."""
    if volunteer and client:
        raise InputError("give --volunteer or --client, not both")
    iso = IsoWeek.parse(week)
    with session() as s:
        view = views.week_view(s, iso, version, volunteer=volunteer, client=client)
    rows, unassigned = view["visits"], view["unassigned"]
    if fmt is Format.json:
        print_json(view)
        return
    if fmt is Format.csv:
        header = list(rows[0]) if rows else ["request"]
        tables.write_table(sys.stdout, header, [[row[name] for name in header] for row in rows])
        return
    console.print(
        f"[bold]week {iso}[/] · version {view['version']} ({view['status']}) · planned by "
        f"{view['created_by']}" + (f" · published by {view['published_by']}" if view["published_by"] else "")
    )
    table = Table()
    for column in ("visit", "day", "time", "volunteer", "client", "request", "activity", "stage"):
        # ids are what the coordinator copies into the next command: never folded; names and activities may wrap
        table.add_column(
            column,
            justify="right" if column == "visit" else "left",
            no_wrap=column in ("visit", "day", "time", "request", "stage"),
        )
    for r in rows:
        table.add_row(
            str(r["visit"]),
            f"{r['day']} {r['date'][5:]}",
            f"{r['start']}–{r['end']}",
            f"{r['volunteer']} {_short(r['volunteer_name'])}",
            f"{r['client']} {_short(r['client_name'])}",
            r["request"] + (" (pinned)" if r["pinned"] else ""),
            r["activity"],
            r["stage"],
        )
    console.print(table)
    if unassigned:
        console.print(f"[bold]unassigned ({len(unassigned)})[/]")
        for u in unassigned:
            console.print(f"  {u['request']} {u['client_name']}: {'; '.join(u['reasons'])}", highlight=False)
    if view["status"] == "draft":
        console.print(
            f"to publish exactly this version: carecal roster publish --week {iso} --version {view['version']}"
        )


@app.command("versions")
def list_versions(week: str = WeekOption) -> None:
    """List the week's versions: who planned and published each, and what it covers."""
    with session() as s:
        listing = views.version_list(s, IsoWeek.parse(week))
    table = Table(title=f"week {listing['week']} · revision {listing['revision']}", title_justify="left")
    for column in ("version", "status", "from", "planned", "published", "covered"):
        table.add_column(column)
    for v in listing["versions"]:
        table.add_row(
            str(v["version"]),
            v["status"],
            str(v["based_on"] or "—"),
            f"{v['created_by']} {v['created_at']:%d %b %H:%M}",
            f"{v['published_by']} {v['published_at']:%d %b %H:%M}" if v["published_at"] else "—",
            f"{v['covered']}/{v['requests']}",
        )
    console.print(table)


@app.command("diff")
def diff(
    week: str = WeekOption,
    from_version: int = typer.Option(
        None, "--from", help="older version (default: what the latest was replanned from, else the published one)"
    ),
    to_version: int = typer.Option(None, "--to", help="newer version (default: the latest)"),
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", help="table or json"),
) -> None:
    """Who moved, what was added or dropped between two versions, and why."""
    iso = IsoWeek.parse(week)
    with session() as s:
        tz = organisation.timezone(s)
        result = roster_diff(s, iso, from_version, to_version)
        document = views.diff_document(result, tz)
    if fmt is TableOrJson.json:
        print_json(document)
        return
    console.print(
        f"[bold]week {iso}[/]: version {document['from']} → {document['to']}: {len(result.changes)} change(s), "
        f"{result.unchanged} visit(s) unchanged"
    )
    if result.changes:
        table = Table()
        for column in ("request", "client", "change", "before", "after", "why"):
            table.add_column(column)
        for c in result.changes:
            table.add_row(
                c.request, c.client, c.kind, local_slot(c.before, tz), local_slot(c.after, tz), "\n".join(c.why)
            )
        console.print(table)


@app.command("publish")
def publish(
    week: str = WeekOption,
    version: int = typer.Option(
        None, "--version", help="the version you reviewed (default: the latest); refused if a newer one exists"
    ),
    actor: str = ActorOption,
) -> None:
    """Publish a version: calendars and billing see only the published one."""
    iso, who = IsoWeek.parse(week), config.actor(actor)
    with session() as s:
        number = versions.publish(s, iso, who, version).number
    console.print(f"week {iso}: version {number} published by {who}")


@app.command("export")
def export(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="file to write (default: standard output)"),
    version: int = typer.Option(None, "--version", help="version number (default: the published one)"),
) -> None:
    """Write a version of the week as carecal-roster/1 (default: the published one)."""
    iso = IsoWeek.parse(week)
    with session() as s:
        stored = versions.get_version(s, iso, version, published=version is None)
        document, number = roster_document(stored), stored.number
    write_output(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output, f"roster {iso} v{number}")


@app.command("suggest")
def suggest(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    version: int = typer.Option(None, "--version", help="version number (default: the latest)"),
    limit: int = typer.Option(8, "--limit", help="how many candidates to show"),
) -> None:
    """Rank who could take REQUEST, with reasons (mother tongue, knows the client, travel, load)."""
    with session() as s:
        explained, ranked = advice.suggest(s, IsoWeek.parse(week), request, version=version)
    current = explained.get("assigned_to")
    console.print(
        f"[bold]{request}[/] (client {explained['client']}, {explained.get('duration_min')} min, "
        f"{', '.join(explained.get('windows', []))})"
        + (f" — now with {current['volunteer']}" if current else " — uncovered")
    )
    table = Table()
    for column in ("#", "volunteer", "can take it", "why"):
        table.add_column(column)
    for i, c in enumerate(ranked[:limit], 1):
        table.add_row(
            str(i), c.volunteer, "yes" if c.ok else "no", "; ".join(c.reasons if c.ok else c.breaks + c.reasons[-2:])
        )
    console.print(table)


@app.command("explain")
def explain(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    version: int = typer.Option(None, "--version", help="version number (default: the latest)"),
    fmt: TableOrJson = typer.Option(TableOrJson.table, "--format", help="table or json"),
) -> None:
    """Why REQUEST has this volunteer, or why nobody."""
    with session() as s:
        answer = advice.explain(s, IsoWeek.parse(week), request, version=version)
        tz = organisation.timezone(s)
    if fmt is TableOrJson.json:
        print_json(views.explain_document(answer))
        return
    assigned = answer["assigned_to"]
    console.print(
        f"[bold]{request}[/] · client {answer['client']} · {answer['duration_min']} min in "
        f"{', '.join(answer['windows']) or 'no window'} · version {answer['version']}"
    )
    if assigned:
        start = to_local(datetime.fromisoformat(assigned["start"]), tz)
        console.print(
            f"assigned to [bold]{assigned['volunteer']}[/] on {start:%a %d %b %H:%M}"
            + (f", pinned by override #{answer['pinned_by_override']}" if answer["pinned_by_override"] else "")
        )
        if answer["strengths"]:
            console.print("  " + "; ".join(answer["strengths"]))
        for conflict in answer["conflicts"]:
            console.print(f"[bold yellow]conflict:[/] {conflict}", highlight=False)
        others = [c for c in answer["alternatives"] if c.ok]
        console.print(
            f"{len(others)} other volunteer(s) could take it"
            + (f", best: {', '.join(c.volunteer for c in others[:3])}" if others else "")
        )
    else:
        console.print("[bold red]nobody[/]: " + "; ".join(answer["reasons"]), highlight=False)
    table = Table(title="nearest volunteers and the rules they break", title_justify="left")
    table.add_column("volunteer")
    table.add_column("km", justify="right")
    table.add_column("breaks")
    for c in sorted(answer["alternatives"], key=lambda c: c.distance_km)[:8]:
        table.add_row(c.volunteer, f"{c.distance_km:.1f}", "; ".join(c.breaks) or "—")
    console.print(table)
