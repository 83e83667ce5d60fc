"""`carecal billing run|close|credit|reconcile|list`: invoices, month close and reconciliation."""

from datetime import date

import typer
from rich import box
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
    partial: bool = typer.Option(
        False, "--partial", help="bill what of a month in progress has taken place so far (default: only a month over)"
    ),
    actor: str = ActorOption,
) -> None:
    """Invoice the month's delivered visits per client, payer and funding source. Run again, it bills
    what was recorded or credited since: correction invoices that name the original invoice."""
    with session(write=True) as s:
        result = invoicing.run_month(s, month, config.actor(actor), _day(issued, "--issued"), partial=partial)
        if not result.invoices:
            console.print(f"{result.month}: nothing new to bill")
            return
        corrections = [i for i in result.invoices if i.supplements]
        table = Table("number", "client", "payer", "funding", "visits", "total", title=f"invoices {result.month}")
        if corrections:
            table.add_column("corrects")
        for invoice in result.invoices:
            row = [
                invoice.number,
                invoice.client.external_id,
                f"{invoice.payer}: {invoice.payer_name}",
                exports.FUNDING_LABELS[invoice.funding],
                str(len(invoice.lines)),
                euros(invoice.total_cents),
            ]
            table.add_row(*row, *([invoice.supplements.number if invoice.supplements else ""] if corrections else []))
        console.print(table)
        console.print(
            f"{len(result.invoices)} invoice(s), {euros(result.total_cents)}"
            + (f"; {len(corrections)} correction invoice(s) of {result.month}" if corrections else "")
        )


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
    """Issue a credit note that reverses an invoice (or some of its visits); a visit paid from two
    sources is credited whole, by a credit note for each of its invoices."""
    with session(write=True) as s:
        for credit in invoicing.credit(s, invoice, config.actor(actor), reason, visit or None):
            assert credit.corrects is not None  # a credit note names what it corrects
            console.print(
                f"credit note {credit.number} for {credit.corrects.number}: {euros(credit.total_cents)}; "
                f"budget money returned to the ledger"
            )


@app.command("list")
def billing_list(
    client: str = typer.Option(None, "--client", help="only this client's, e.g. c017"),
    month: str = typer.Option(None, "--month", "-m", help="only those of this billing month, e.g. 2026-11"),
    year: str = typer.Option(None, "--year", help="only those numbered in this year, e.g. 2026"),
) -> None:
    """Invoices, credit notes and correction invoices, in the order of their numbers."""
    with session() as s:
        invoices = invoicing.list_invoices(
            s, client=client, month=month, year=exports.parse_year(year) if year else None
        )
        if not invoices:
            console.print("no invoice matches")
            return
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
        for name in ("number", "issued", "month", "client", "funding", "total", "what"):
            table.add_column(name, no_wrap=name != "what", justify="right" if name == "total" else "left")
        for invoice in invoices:
            refers = invoice.corrects or invoice.supplements
            table.add_row(
                invoice.number,
                f"{invoice.issued_on:%d.%m.%Y}",
                invoice.month,
                invoice.client.external_id,
                exports.FUNDING_LABELS[invoice.funding],
                euros(invoice.total_cents),
                invoicing.kind_label(invoice) + (f" of {refers.number}" if refers else ""),
            )
        console.print(table)
        console.print(f"{len(invoices)} document(s), {euros(sum(i.total_cents for i in invoices))}")


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
