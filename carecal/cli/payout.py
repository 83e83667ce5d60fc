"""`carecal payout run|correct|show`: the volunteers' allowances, paid by bank transfer."""

import typer
from rich import box
from rich.table import Table

from carecal import config
from carecal.billing import exports, payouts
from carecal.billing.money import euros
from carecal.cli.common import ActorOption, console, err_console, noun, session
from carecal.models import Payout

app = noun("payout", "Volunteers' allowances: pay a month, correct it, show what was paid.")

MonthOption = typer.Option(..., "--month", "-m", help="the month of the visits, e.g. 2026-11")
ExecutionOption = typer.Option(
    None, "--execution-date", help="the day the bank transfers the money (default: the next weekday)"
)


def _table(*columns: str) -> Table:
    """Narrow enough for 80 columns: amounts never wrap, names do."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        table.add_column(name, justify="left" if name in ("volunteer", "to") else "right", no_wrap=name != "volunteer")
    return table


def _above(p: Payout) -> str:
    """The part above the tax-free limit and what happened to it."""
    parts = [
        f"{euros(p.taxable_cents)} taxable" if p.taxable_cents else "",
        f"{euros(p.held_cents)} held" if p.held_cents else "",
    ]
    return "\n".join(x for x in parts if x) or "-"


def _report(result: payouts.PayoutResult) -> None:
    if not result.payouts:
        console.print(f"{result.month}: nothing to pay")
    else:
        table = _table("volunteer", "visits", "earned", "above limit", "transfer", "to")
        for p in result.payouts:
            visits = sum(1 if line.amount_cents > 0 else -1 for line in p.lines)
            table.add_row(
                f"{p.volunteer.external_id} {p.volunteer.name}",
                str(visits),
                euros(p.earned_cents),
                _above(p),
                euros(p.paid_cents),
                payouts.account(p),
            )
        console.print(table)
        first = result.payouts[0]
        console.print(
            f"{result.month} batch {result.batch}: {len(result.payouts)} payout(s), {euros(result.paid_cents)} "
            f"to transfer on {first.execution_date:%d.%m.%Y}",
            highlight=False,
        )
    for line in result.over_limit:
        err_console.print(f"[yellow]tax-free limit:[/] {line}", highlight=False)
    for line in result.unpaid:
        err_console.print(f"[yellow]not paid:[/] {line}", highlight=False)


@app.command("run")
def payout_run(
    month: str = MonthOption,
    execution_date: str = ExecutionOption,
    actor: str = ActorOption,
) -> None:
    """Pay the month's allowances once: each volunteer's delivered, signed visits × the allowance
    valid that day, split against the yearly tax-free limit."""
    with session(write=True) as s:
        day = exports.parse_day(execution_date, "--execution-date")
        _report(payouts.run(s, month, config.actor(actor), day))


@app.command("correct")
def payout_correct(
    month: str = MonthOption,
    reason: str = typer.Option(..., "--reason", help="why, e.g. a visit recorded late"),
    volunteer: str = typer.Option(None, "--volunteer", help="only this volunteer, e.g. v007"),
    execution_date: str = ExecutionOption,
    actor: str = ActorOption,
) -> None:
    """Pay or take back what changed in a paid month, as corrections that reference its payouts."""
    with session(write=True) as s:
        day = exports.parse_day(execution_date, "--execution-date")
        _report(payouts.correct(s, month, config.actor(actor), reason, volunteer, day))


@app.command("show")
def payout_show(month: str = MonthOption) -> None:
    """What was paid for a month: every payout and correction, per volunteer."""
    with session(write=False) as s:
        found = payouts.find_month(s, month)
        table = _table("volunteer", "batch", "earned", "above limit", "transfer", "to")
        for p in sorted(found, key=lambda p: (p.volunteer.external_id, p.id)):
            table.add_row(
                f"{p.volunteer.external_id} {p.volunteer.name}",
                str(p.batch),
                euros(p.earned_cents),
                _above(p),
                euros(p.paid_cents),
                payouts.account(p),
            )
        console.print(table)
        batches = {p.batch: p for p in found}
        for batch, p in sorted(batches.items()):
            what = "the month's run" if batch == 1 else f"correction: {p.reason}"
            console.print(
                f"batch {batch}: {what}; made {p.created_at:%d.%m.%Y} by {p.created_by}, "
                f"transferred on {p.execution_date:%d.%m.%Y}",
                highlight=False,
            )
        paid = sum(p.paid_cents for p in found)
        held = sum(p.held_cents for p in found)
        volunteers = len({p.volunteer_id for p in found})
        console.print(f"{month}: {volunteers} volunteer(s), {euros(paid)} paid, {euros(held)} held back")
