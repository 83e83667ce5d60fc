"""`carecal override ...`: the coordinator's decisions that every plan honours."""

from datetime import datetime

import typer
from rich.table import Table

from carecal import config
from carecal.cli.common import ActorOption, WeekOption, console, err_console, noun, session
from carecal.roster import overrides, views
from carecal.weeks import IsoWeek

app = noun("override", "The coordinator's decisions that every plan honours.")

ReasonOption = typer.Option(..., "--reason", help="why (required: it goes into the audit log)")


def _created(created: overrides.Created) -> None:
    o = created.override
    console.print(f"override #{o.id} recorded: {o.kind} by {o.actor} — {o.reason}")
    subject = "the pinned volunteer " if o.kind == "pin" else ""
    for warning in created.warnings:
        err_console.print(f"[yellow]warning:[/] {subject}{warning}", highlight=False)
    console.print("it applies from the next `carecal roster plan` or `carecal roster replan`")


@app.command("pin")
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
            s, IsoWeek.parse(week), request, volunteer, start=start, reason=reason, actor=config.actor(actor)
        )
    _created(created)


@app.command("forbid")
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


@app.command("absence")
def override_absence(
    volunteer: str = typer.Argument(..., help="volunteer external id"),
    start: str = typer.Option(
        ..., "--from", help="date or date and time, e.g. 2026-11-23, '2026-11-23 14:00' or 2026-W48-1 (a week's Monday)"
    ),
    end: str = typer.Option(..., "--to", help="date (through the end of that day, e.g. 2026-W48-7) or date and time"),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """VOLUNTEER cannot visit in this period (illness, holiday)."""
    with session() as s:
        created = overrides.absence(s, volunteer, start, end, reason=reason, actor=config.actor(actor))
    _created(created)


@app.command("client-away")
def override_client_away(
    client: str = typer.Argument(..., help="client external id"),
    start: str = typer.Option(..., "--from", help="date or date and time (as for `override absence`)"),
    end: str = typer.Option(..., "--to", help="date (through the end of that day) or date and time"),
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """CLIENT is not at home in this period (hospital, travel)."""
    with session() as s:
        created = overrides.client_away(s, client, start, end, reason=reason, actor=config.actor(actor))
    _created(created)


@app.command("unassign")
def override_unassign(
    request: str = typer.Argument(..., help="request key, e.g. c017-2#1"),
    week: str = WeekOption,
    reason: str = ReasonOption,
    actor: str = ActorOption,
) -> None:
    """Leave REQUEST uncovered this week."""
    with session() as s:
        created = overrides.unassign(s, IsoWeek.parse(week), request, reason=reason, actor=config.actor(actor))
    _created(created)


@app.command("list")
def override_list(
    week: str = typer.Option(None, "--week", "-w", help="only those touching this ISO week"),
    all_: bool = typer.Option(False, "--all", help="include removed ones"),
) -> None:
    """List overrides (active ones; --all includes removed)."""
    with session() as s:
        rows = views.override_rows(s, IsoWeek.parse(week) if week else None, include_removed=all_)
    if not rows:
        console.print("no overrides")
        return
    table = Table()
    for column in ("#", "kind", "what", "by", "reason", "state"):
        table.add_column(column)
    for o in rows:
        state = f"removed by {o['removed_by']}" if o["removed"] else "active"
        table.add_row(str(o["id"]), o["kind"], o["what"], o["actor"], o["reason"], state)
    console.print(table)


@app.command("remove")
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
