"""`carecal instance ...`, `carecal roster ...`, `carecal override ...`, `carecal report week`.

Thin: each command opens a session, calls carecal.instance / carecal.roster, prints. A plan
reads in one transaction, solves with none open, and stores in a second one, so a failed or
interrupted solve leaves every stored version exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carecal import config
from carecal.cli.common import ActorOption, NowOption, WeekOption, console, err_console, parse_now, session
from carecal.cli.main import instance_app, override_app, report_app, roster_app
from carecal.errors import InputError, NotFound
from carecal.instance import build_instance, organisation_timezone, roster_document
from carecal.roster import advice, overrides, planning, versions
from carecal.roster.diff import diff as roster_diff
from carecal.roster.diff import local_slot
from carecal.roster.report import render_week_report
from carecal.weeks import IsoWeek, to_local


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _week(text: str) -> IsoWeek:
    return IsoWeek.parse(text)


def _write(text: str, output: Path | None, what: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {what} to {output}")


# --------------------------------------------------------------------------- instance


@instance_app.command("export")
def instance_export(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="file to write (default: standard output)"),
) -> None:
    """Write the week's carecal-instance/1 document (what the solver gets) from the database."""
    iso = _week(week)
    with session() as s:
        build = build_instance(s, iso)
    for note in build.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    _write(json.dumps(build.document, indent=2, ensure_ascii=False) + "\n", output, f"instance {iso}")


# --------------------------------------------------------------------------- plan / replan


def _solve_with_progress(prepared, time_limit: float):
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
            return planning.solve_week(prepared, time_limit=time_limit, on_progress=on_progress)
        except KeyboardInterrupt:
            err_console.print("[red]interrupted:[/] nothing was stored; every version is as it was")
            raise typer.Exit(130) from None


def _stored(session, version, prepared) -> dict:
    """What the summary shows of a stored version, read while its session is open (the
    printing happens after the commit, so a closed pipe cannot undo the stored version)."""
    tz = prepared.build.timezone
    missed = overrides.changed_since(session, prepared.build.week, prepared.read_at)
    return {
        "number": version.number,
        "unassigned": [(u.request_key, u.client.external_id, list(u.reasons)) for u in version.unassigned],
        "missed": [
            f"#{o.id} {overrides.describe(o, tz)} ({'removed' if o.removed_at else 'added'} by "
            f"{o.removed_by or o.actor})"
            for o in missed
        ],
    }


def _print_summary(stored: dict, prepared, suggestions: dict[str, list] | None = None) -> None:
    """Coverage, notes, the uncovered requests as stored (with their reasons), substitutes to
    offer, and each volunteer's load."""
    roster, instance = prepared.roster, prepared.build.document
    figures = planning.summary(roster, instance)
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


@roster_app.command("plan")
def plan(
    week: str = WeekOption,
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.5, help="seconds the solver may take"),
    actor: str = ActorOption,
) -> None:
    """Plan the week afresh and store it as a new draft version (nothing is published)."""
    iso, who = _week(week), config.actor(actor)
    with session() as s:
        prepared = planning.prepare_plan(s, iso)
    prepared = _solve_with_progress(prepared, time_limit)
    with session() as s:
        version = versions.store_version(s, prepared, who)
        published, stored = version.roster_week.published, _stored(s, version, prepared)
    _print_summary(stored, prepared)
    if published is not None:
        console.print(
            f"[yellow]note:[/] version {published.number} is published; this fresh plan did not try to "
            f"keep it. `carecal roster replan --week {iso}` changes only what must change."
        )


@roster_app.command("replan")
def replan(
    week: str = WeekOption,
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.5, help="seconds the solver may take"),
    from_version: int = typer.Option(None, "--from", help="version to repair (default: the latest)"),
    actor: str = ActorOption,
    now: str = NowOption,
) -> None:
    """Repair the latest version after overrides, moving only what they touch.

    Untouched visits keep volunteer and time. Visits starting within 48 hours are never
    handed to another volunteer automatically: they are listed as "needs a substitute"
    with ranked suggestions.
    """
    iso, who = _week(week), config.actor(actor)
    with session() as s:
        prepared = planning.prepare_replan(s, iso, now=parse_now(now), from_version=from_version)
    prepared = _solve_with_progress(prepared, time_limit)
    with session() as s:
        version = versions.store_version(s, prepared, who)
        needs = version.stats.get("needs_substitute", [])
        suggestions = {request: advice.candidates(version, request)[1] for request in needs}
        stored = _stored(s, version, prepared)
    console.print(
        f"replanned from version {prepared.based_on}; see the changes with `carecal roster diff --week {iso}`"
    )
    _print_summary(stored, prepared, suggestions)


# --------------------------------------------------------------------------- look at it


def _visit_rows(version, tz: str, volunteer: str | None, client: str | None) -> list[dict]:
    rows = []
    for v in sorted(version.visits, key=lambda v: (v.starts_at, v.request_key)):
        if volunteer and v.volunteer.external_id != volunteer or client and v.client.external_id != client:
            continue
        start, end = to_local(v.starts_at, tz), to_local(v.ends_at, tz)
        rows.append(
            {
                "request": v.request_key,
                "day": start.strftime("%a"),
                "date": start.date().isoformat(),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
                "volunteer": v.volunteer.external_id,
                "volunteer_name": v.volunteer.name,
                "client": v.client.external_id,
                "client_name": v.client.name,
                "activity": v.care_request.activity,
                "status": v.status,
                "pinned": v.pinned,
            }
        )
    return rows


def _short(name: str) -> str:
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


@roster_app.command("show")
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
    iso = _week(week)
    with session() as s:
        stored = versions.get_version(s, iso, version)
        tz = organisation_timezone(s)
        rows = _visit_rows(stored, tz, volunteer, client)
        unassigned = [
            {
                "request": u.request_key,
                "client": u.client.external_id,
                "client_name": u.client.name,
                "reasons": list(u.reasons),
            }
            for u in stored.unassigned
            if not volunteer and (not client or u.client.external_id == client)
        ]
        head = {
            "week": str(iso),
            "version": stored.number,
            "status": stored.status,
            "revision": stored.roster_week.revision,
            "created_by": stored.created_by,
            "published_by": stored.published_by,
        }
    if fmt is Format.json:
        sys.stdout.write(
            json.dumps({**head, "visits": rows, "unassigned": unassigned}, indent=2, ensure_ascii=False) + "\n"
        )
        return
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["request"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return
    console.print(
        f"[bold]week {iso}[/] · version {head['version']} ({head['status']}) · planned by "
        f"{head['created_by']}" + (f" · published by {head['published_by']}" if head["published_by"] else "")
    )
    table = Table()
    for column in ("day", "time", "volunteer", "client", "request", "activity"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r['day']} {r['date'][5:]}",
            f"{r['start']}–{r['end']}",
            f"{r['volunteer']} {_short(r['volunteer_name'])}",
            f"{r['client']} {_short(r['client_name'])}",
            r["request"] + (" (pinned)" if r["pinned"] else ""),
            r["activity"],
        )
    console.print(table)
    if unassigned:
        console.print(f"[bold]unassigned ({len(unassigned)})[/]")
        for u in unassigned:
            console.print(f"  {u['request']} {u['client_name']}: {'; '.join(u['reasons'])}", highlight=False)
    if head["status"] == "draft":
        console.print(
            f"to publish exactly this version: carecal roster publish --week {iso} --version {head['version']}"
        )


@roster_app.command("versions")
def list_versions(week: str = WeekOption) -> None:
    """List the week's versions: who planned and published each, and what it covers."""
    iso = _week(week)
    with session() as s:
        roster_week = versions.find_week(s, iso)
        tz = organisation_timezone(s)
        if roster_week is None:
            raise NotFound(f"week {iso} has no roster yet: run `carecal roster plan --week {iso}`")
        table = Table(title=f"week {iso} · revision {roster_week.revision}", title_justify="left")
        for column in ("version", "status", "from", "planned", "published", "covered"):
            table.add_column(column)
        for v in roster_week.versions:
            planned = [x for x in v.visits if x.status == "planned"]
            table.add_row(
                str(v.number),
                v.status,
                str(v.based_on or "—"),
                f"{v.created_by} {to_local(v.created_at, tz):%d %b %H:%M}",
                f"{v.published_by} {to_local(v.published_at, tz):%d %b %H:%M}" if v.published_at else "—",
                f"{len(planned)}/{len(planned) + len(v.unassigned)}",
            )
    console.print(table)


@roster_app.command("diff")
def diff(
    week: str = WeekOption,
    from_version: int = typer.Option(
        None, "--from", help="older version (default: what the latest was replanned from, else the published one)"
    ),
    to_version: int = typer.Option(None, "--to", help="newer version (default: the latest)"),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """Who moved, what was added or dropped between two versions, and why."""
    iso = _week(week)
    with session() as s:
        tz = organisation_timezone(s)
        result = roster_diff(s, iso, from_version, to_version)
        old, new = result.old.number, result.new.number
    if fmt is Format.json:

        def slot(x):
            return (
                None
                if x is None
                else {
                    "volunteer": x.volunteer,
                    "start": to_local(x.starts_at, tz).isoformat(),
                    "end": to_local(x.ends_at, tz).isoformat(),
                }
            )

        sys.stdout.write(
            json.dumps(
                {
                    "week": str(iso),
                    "from": old,
                    "to": new,
                    "unchanged": result.unchanged,
                    "changes": [
                        {
                            "request": c.request,
                            "client": c.client,
                            "kind": c.kind,
                            "before": slot(c.before),
                            "after": slot(c.after),
                            "why": c.why,
                        }
                        for c in result.changes
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
        return
    console.print(
        f"[bold]week {iso}[/]: version {old} → {new}: {len(result.changes)} change(s), "
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


@roster_app.command("publish")
def publish(
    week: str = WeekOption,
    version: int = typer.Option(
        None, "--version", help="the version you reviewed (default: the latest); refused if a newer one exists"
    ),
    actor: str = ActorOption,
) -> None:
    """Publish a version: calendars and billing see only the published one."""
    iso, who = _week(week), config.actor(actor)
    with session() as s:
        published = versions.publish(s, iso, who, version)
        number = published.number
    console.print(f"week {iso}: version {number} published by {who}")


@roster_app.command("export")
def export(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="file to write (default: standard output)"),
    version: int = typer.Option(None, "--version", help="version number (default: the published one)"),
) -> None:
    """Write a version of the week as carecal-roster/1 (default: the published one)."""
    iso = _week(week)
    with session() as s:
        stored = versions.get_version(s, iso, version, published=version is None)
        document = roster_document(stored)
    _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output, f"roster {iso} v{stored.number}")


@roster_app.command("suggest")
def suggest(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    version: int = typer.Option(None, "--version", help="version number (default: the latest)"),
    limit: int = typer.Option(8, "--limit", help="how many candidates to show"),
) -> None:
    """Rank who could take REQUEST, with reasons (mother tongue, knows the client, travel, load)."""
    iso = _week(week)
    with session() as s:
        explained, ranked = advice.suggest(s, iso, request, version=version)
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


@roster_app.command("explain")
def explain(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    version: int = typer.Option(None, "--version", help="version number (default: the latest)"),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """Why REQUEST has this volunteer, or why nobody."""
    iso = _week(week)
    with session() as s:
        answer = advice.explain(s, iso, request, version=version)
        tz = organisation_timezone(s)
    if fmt is Format.json:
        answer = {**answer, "alternatives": [vars(c) for c in answer["alternatives"]]}
        sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
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


# --------------------------------------------------------------------------- overrides


def _created(created: overrides.Created) -> None:
    o = created.override
    console.print(f"override #{o.id} recorded: {o.kind} by {o.actor} — {o.reason}")
    for warning in created.warnings:
        err_console.print(f"[yellow]warning:[/] the pinned volunteer {warning}", highlight=False)
    console.print("it applies from the next `carecal roster plan` or `carecal roster replan`")


ReasonOption = typer.Option(..., "--reason", help="why (required: it goes into the audit log)")


@override_app.command("pin")
def override_pin(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    volunteer: str = typer.Argument(..., help="volunteer external id"),
    week: str = WeekOption,
    start: str = typer.Option(None, "--start", help="weekday and time, e.g. 'tue 14:00' (default: the solver chooses)"),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """Pin REQUEST to VOLUNTEER this week (optionally at a time).

    Breaking a matching rule (language, training, reach) is allowed with a warning; what is
    impossible in time (outside windows or availability, absent, clashing pins) is refused.
    """
    with session() as s:
        created = overrides.pin(
            s, _week(week), request, volunteer, start=start, reason=reason, actor=config.actor(actor)
        )
    _created(created)


@override_app.command("forbid")
def override_forbid(
    client: str = typer.Argument(..., help="client external id"),
    volunteer: str = typer.Argument(..., help="volunteer external id"),
    until: datetime = typer.Option(
        None, "--until", formats=["%Y-%m-%d"], help="last day it applies (default: for good)"
    ),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """VOLUNTEER must not visit CLIENT (until a date)."""
    with session() as s:
        created = overrides.forbid(
            s, client, volunteer, until=until.date() if until else None, reason=reason, actor=config.actor(actor)
        )
    _created(created)


@override_app.command("absence")
def override_absence(
    volunteer: str = typer.Argument(..., help="volunteer external id"),
    start: str = typer.Option(..., "--from", help="date or date and time, e.g. 2026-11-23 or '2026-11-23 14:00'"),
    end: str = typer.Option(..., "--to", help="date (through the end of that day) or date and time"),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """VOLUNTEER cannot visit in this period (illness, holiday)."""
    with session() as s:
        created = overrides.absence(s, volunteer, start, end, reason=reason, actor=config.actor(actor))
    _created(created)


@override_app.command("client-away")
def override_client_away(
    client: str = typer.Argument(..., help="client external id"),
    start: str = typer.Option(..., "--from", help="date or date and time"),
    end: str = typer.Option(..., "--to", help="date (through the end of that day) or date and time"),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """CLIENT is not at home in this period (hospital, travel)."""
    with session() as s:
        created = overrides.client_away(s, client, start, end, reason=reason, actor=config.actor(actor))
    _created(created)


@override_app.command("unassign")
def override_unassign(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """Leave REQUEST uncovered this week."""
    with session() as s:
        created = overrides.unassign(s, _week(week), request, reason=reason, actor=config.actor(actor))
    _created(created)


@override_app.command("list")
def override_list(
    week: str = typer.Option(None, "--week", "-w", help="only those touching this ISO week"),
    all_: bool = typer.Option(False, "--all", help="include removed ones"),
) -> None:
    """List overrides (active ones; --all includes removed)."""
    with session() as s:
        tz = organisation_timezone(s)
        rows = overrides.list_overrides(s, _week(week) if week else None, tz=tz, include_removed=all_)
        table = Table()
        for column in ("#", "kind", "what", "by", "reason", "state"):
            table.add_column(column)
        for o in rows:
            state = f"removed by {o.removed_by}" if o.removed_at else "active"
            table.add_row(str(o.id), o.kind, overrides.describe(o, tz), o.actor, o.reason, state)
    console.print(table if rows else "no overrides")


@override_app.command("remove")
def override_remove(
    override_id: int = typer.Argument(..., metavar="ID", help="override number"),
    reason: str = typer.Option(None, "--reason", help="why (recorded in the audit log)"),
    actor: str = ActorOption,
) -> None:
    """Withdraw an override (its record stays, marked removed)."""
    who = config.actor(actor)
    with session() as s:
        overrides.remove(s, override_id, actor=who, reason=reason)
    console.print(f"override #{override_id} removed by {who}; it no longer applies from the next plan or replan")


# --------------------------------------------------------------------------- report


@report_app.command("week")
def report_week(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="HTML file (default: exports/roster-<week>.html)"),
    version: int = typer.Option(None, "--version", help="version number (default: the published one, else the latest)"),
) -> None:
    """Write the week as a self-contained HTML page.

    Visits by volunteer and day, uncovered requests with reasons, a district sketch of homes
    with assignment lines, coverage and load. No health data, no network access needed.
    """
    iso = _week(week)
    with session() as s:
        html = render_week_report(s, iso, version)
    target = output or Path("exports") / f"roster-{iso}.html"
    _write(html, target, f"week report {iso}")
