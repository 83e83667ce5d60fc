"""`carecal billing run|close|credit|reconcile`: invoices, month close and reconciliation."""

from datetime import date

import typer
from rich.table import Table

from carecal import config
from carecal.billing import exports, invoicing
from carecal.billing.money import euros
from carecal.billing.reconcile import reconcile
from carecal.cli.common import ActorOption, console, err_console, noun, session

app = noun("billing", "Invoices, month close and reconciliation.")

MonthOption = typer.Option(..., "--month", "-m", help="billing month, e.g. 2026-11")


def _day(text: str | None, option: str) -> date | None:
    return exports.parse_day(text, option)


@app.command("run")
def billing_run(
    month: str = MonthOption,
    issued: str = typer.Option(None, "--issued", help="invoice date (default: today)"),
    actor: str = ActorOption,
) -> None:
    """Invoice the month's delivered visits per client, payer and funding source."""
    with session(write=True) as s:
        result = invoicing.run_month(s, month, config.actor(actor), _day(issued, "--issued"))
        if not result.invoices:
            console.print(f"{result.month}: nothing new to bill")
            return
        table = Table("number", "client", "payer", "funding", "visits", "total", title=f"invoices {result.month}")
        for invoice in result.invoices:
            table.add_row(
                invoice.number,
                invoice.client.external_id,
                f"{invoice.payer}: {invoice.payer_name}",
                exports.FUNDING_LABELS[invoice.funding],
                str(len(invoice.lines)),
                euros(invoice.total_cents),
            )
        console.print(table)
        console.print(f"{len(result.invoices)} invoice(s), {euros(result.total_cents)}")


@app.command("close")
def billing_close(month: str = MonthOption, actor: str = ActorOption) -> None:
    """Close the month: its visits, records and invoices can no longer change."""
    with session(write=True) as s:
        closed = invoicing.close_month(s, month, config.actor(actor))
        console.print(f"{closed.month} closed; corrections are credit notes from now on")


@app.command("credit")
def billing_credit(
    invoice: str = typer.Argument(..., help="invoice number, e.g. 2026-0007"),
    reason: str = typer.Option(..., "--reason", help="why it is corrected"),
    visit: list[int] = typer.Option(None, "--visit", help="credit only this visit's lines (repeatable)"),
    actor: str = ActorOption,
) -> None:
    """Issue a credit note that reverses an invoice (or some of its visits)."""
    with session(write=True) as s:
        credit = invoicing.credit_note(s, invoice, config.actor(actor), reason, visit or None)
        console.print(
            f"credit note {credit.number} for {invoice}: {euros(credit.total_cents)}; "
            f"budget money returned to the ledger"
        )


@app.command("reconcile")
def billing_reconcile(month: str = MonthOption) -> None:
    """Check that the month's visits, invoices and ledger movements add up; exit 1 if not."""
    with session() as s:
        report = reconcile(s, month)
    f = report.figures
    console.print(
        f"{report.month}: {f['delivered_visits']} delivered visit(s), {f['billed_visits']} billed, "
        f"{f['invoices']} invoice(s), {f['credit_notes']} credit note(s); invoiced "
        f"{euros(f['invoiced_cents'])} = budgets {euros(f['ledger_cents'])} + private "
        f"{euros(f['private_cents'])}"
    )
    if report.ok:
        console.print("[green]reconciled[/]: visits, invoices and ledger add up")
        return
    for problem in report.problems:
        err_console.print(f"[red]problem:[/] {problem}", highlight=False)
    err_console.print(f"[bold red]error:[/] {len(report.problems)} problem(s) in {report.month}")
    raise typer.Exit(1)
