"""`carecal visit confirm|record|history`: what happened at each visit."""

from enum import Enum

import typer
from rich.table import Table

from carecal import config, organisation
from carecal.billing import records
from carecal.cli.common import ActorOption, WeekOption, console, noun, session
from carecal.weeks import IsoWeek, parse_hhmm, to_local

app = noun("visit", "What happened at each visit: delivered, cancelled, signed.")


class Status(str, Enum):
    delivered = "delivered"
    cancelled_by_client = "cancelled-by-client"
    cancelled_by_volunteer = "cancelled-by-volunteer"
    no_show = "no-show"


class Signature(str, Enum):
    client = "client"
    representative = "representative"
    none = "none"


@app.command("confirm")
def visit_confirm(week: str = WeekOption, actor: str = ActorOption) -> None:
    """Mark the week's published visits as delivered, unless recorded otherwise."""
    with session() as s:
        result = records.confirm_week(s, IsoWeek.parse(week), config.actor(actor))
        confirmed = len(result.confirmed)
    console.print(
        f"{week}: {confirmed} visit(s) confirmed as delivered, "
        f"{result.already_recorded} already recorded, {result.cancelled_in_roster} cancelled in the "
        f"roster, {result.not_ended} not over yet"
        + (f", {result.in_closed_month} in a closed month (left alone)" if result.in_closed_month else "")
    )


@app.command("record")
def visit_record(
    visit: int = typer.Argument(..., help="visit id (see `carecal roster show`)"),
    status: Status = typer.Option(..., "--status", help="what happened"),
    start: str = typer.Option(None, "--start", help="actual start, HH:MM local time"),
    end: str = typer.Option(None, "--end", help="actual end, HH:MM local time"),
    activity: str = typer.Option(
        None, "--activity", help="what was done: a key of the activity catalogue (default: the request's)"
    ),
    note: str = typer.Option(None, "--note", help="the office's own words about the visit; never leaves the office"),
    signature: Signature = typer.Option(None, "--signature", help="who signed the proof of service"),
    signature_reason: str = typer.Option(None, "--signature-reason", help="why nobody signed (with --signature none)"),
    reason: str = typer.Option(None, "--reason", help="why this changes an earlier record (required then)"),
    actor: str = ActorOption,
) -> None:
    """Record what happened at one visit; every change keeps its history (who, when, why)."""
    with session() as s:
        record = records.record_visit(
            s,
            visit,
            config.actor(actor),
            status=status.value,
            start=parse_hhmm(start) if start else None,
            end=parse_hhmm(end) if end else None,
            activity=activity,
            note=note,
            signature=signature.value if signature else None,
            signature_reason=signature_reason,
            reason=reason,
        )
        tz = organisation.timezone(s)
        line = (
            f"visit {visit}: {record.status}, {to_local(record.started_at, tz):%d.%m.%Y %H:%M}-"
            f"{to_local(record.ended_at, tz):%H:%M} ({record.minutes} min)"
            + (f", signed by {record.signature}" if record.signature not in (None, "none") else "")
            + (f", not signed: {record.signature_reason}" if record.signature == "none" else "")
        )
    console.print(line)


@app.command("history")
def visit_history(visit: int = typer.Argument(..., help="visit id")) -> None:
    """Every recorded state of a visit: who changed it, when and why."""
    with session() as s:
        changes = records.history(s, visit)
    table = Table("when", "who", "why", "status", "time", "signature")
    for change in changes:
        state = change["state"]
        table.add_row(
            f"{change['at']:%Y-%m-%d %H:%M}",
            change["actor"],
            change["reason"] or "",
            state["status"],
            f"{state['start']}-{state['end']}",
            state["signature"] or "" if state["signature"] != "none" else f"none: {state['signature_reason']}",
        )
    console.print(table)
