"""`carecal budget show|correct`: a client's care budgets (§45b relief amount, §45a(4) conversion)."""

from datetime import date
from enum import Enum

import typer
from rich.table import Table

from carecal import config, lookup, organisation
from carecal.billing import budgets, exports
from carecal.billing.ledger import CONVERSION, RELIEF, month_key, relief_last_day
from carecal.billing.money import euros, parse_euros
from carecal.cli.common import ActorOption, console, noun, session

app = noun("budget", "Clients' care budgets (§45b, §45a(4)).")


class Budget(str, Enum):
    relief = RELIEF
    conversion = CONVERSION


def _day(text: str | None, option: str) -> date | None:
    return exports.parse_day(text, option)


@app.command("show")
def budget_show(
    client: str = typer.Argument(..., help="client id, e.g. c017"),
    at: str = typer.Option(None, "--at", help="the day to show the budget on (default: today)"),
) -> None:
    """A client's budgets as a ledger: monthly relief amounts, spends, lapses, corrections."""
    with session() as s:
        person = lookup.client(s, client)
        day = _day(at, "--at") or organisation.today(s)
        ledger = budgets.client_ledger(s, person, day)
        conversion = person.conversion_budget_opt_in or ledger.conversion
        table = Table(title=f"{person.external_id} {person.name}: budgets on {day:%d.%m.%Y}")
        for name, right in (
            ("date", False),
            ("budget", False),
            ("movement", False),
            ("of", False),
            ("amount", True),
            ("relief", True),
            ("conversion", True),
            ("note", False),
        ):
            if name != "conversion" or conversion:
                table.add_column(name, justify="right" if right else "left", no_wrap=name != "note")
        for line in ledger.lines:
            m = line.movement
            cells = [
                f"{m.day:%d.%m.%Y}",
                m.budget,
                m.kind,
                m.vintage,
                euros(m.amount_cents),
                euros(line.relief_balance),
                euros(line.conversion_balance),
                m.note,
            ]
            table.add_row(*(cells if conversion else cells[:6] + cells[7:]))
        console.print(table)
        for vintage, cents in sorted(ledger.relief.items()):
            if cents:
                console.print(
                    f"relief amount {vintage}: {euros(cents)}, spendable until {relief_last_day(vintage):%d.%m.%Y}"
                )
        console.print(f"relief amount available: [bold]{euros(ledger.relief_balance())}[/]")
        if person.conversion_budget_opt_in:
            console.print(
                f"conversion budget {month_key(day)} (§45a(4), no carry-over): "
                f"[bold]{euros(ledger.conversion_balance(month_key(day)))}[/]"
            )


@app.command("correct")
def budget_correct(
    client: str = typer.Argument(..., help="client id, e.g. c017"),
    amount: str = typer.Option(..., "--amount", help="the remaining budget the insurer reports, in EUR"),
    reason: str = typer.Option(..., "--reason", help="why, e.g. the insurer's letter of 2026-11-20"),
    budget: Budget = typer.Option(Budget.relief, "--budget", help="which budget"),
    at: str = typer.Option(None, "--at", help="the day the insurer's figure refers to (default: today)"),
    actor: str = ActorOption,
) -> None:
    """Set a client's remaining budget to what the insurer reports (audited, with reason)."""
    with session() as s:
        person = lookup.client(s, client)
        day = _day(at, "--at") or organisation.today(s)
        entries = budgets.correct(
            s, person, parse_euros(amount), reason, config.actor(actor), budget=budget.value, day=day
        )
        delta = sum(e.amount_cents for e in entries)
        console.print(
            f"{person.external_id}: {budget.value} budget on {day:%d.%m.%Y} set to "
            f"{euros(parse_euros(amount))} ({'+' if delta >= 0 else ''}{euros(delta)})"
        )
