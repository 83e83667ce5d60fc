"""`carecal visit ...`, `carecal budget ...`, `carecal billing ...` and the auditor exports
`carecal export hours|proof|allowances|audit-log`. Thin: the work is in carecal.billing."""

from __future__ import annotations

import os
from datetime import date
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from carecal import config, lookup
from carecal.billing import budgets, exports, invoicing, proof, records
from carecal.billing.invoicing import parse_month, today_in
from carecal.billing.ledger import CONVERSION, RELIEF, month_key, relief_last_day
from carecal.billing.money import euros, parse_euros
from carecal.billing.reconcile import reconcile
from carecal.cli.common import ActorOption, NowOption, WeekOption, console, err_console, parse_now, session
from carecal.cli.main import billing_app, budget_app, export_app, visit_app
from carecal.errors import CarecalError, InputError
from carecal.weeks import IsoWeek, parse_hhmm, to_local

DEFAULT_OUT = Path("exports")
PSEUDONYM_KEY_ENV = "CARECAL_PSEUDONYM_KEY"


class Status(str, Enum):
    delivered = "delivered"
    cancelled_by_client = "cancelled-by-client"
    cancelled_by_volunteer = "cancelled-by-volunteer"
    no_show = "no-show"


class Signature(str, Enum):
    client = "client"
    representative = "representative"
    none = "none"


class Budget(str, Enum):
    relief = RELIEF
    conversion = CONVERSION


class Format(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


class Limit(str, Enum):
    nr26 = "3_26"
    nr26a = "3_26a"


MonthOption = typer.Option(..., "--month", "-m", help="billing month, e.g. 2026-11")


def _day(text: str | None, option: str) -> date | None:
    return exports.parse_day(text, option)


# --- visit ----------------------------------------------------------------------------------


@visit_app.command("confirm")
def visit_confirm(week: str = WeekOption, actor: str = ActorOption, now: str = NowOption) -> None:
    """Mark the week's published visits as delivered, unless recorded otherwise."""
    with session() as s:
        result = records.confirm_week(s, IsoWeek.parse(week), config.actor(actor), now=parse_now(now))
        console.print(
            f"{week}: {len(result.confirmed)} visit(s) confirmed as delivered, "
            f"{result.already_recorded} already recorded, {result.cancelled_in_roster} cancelled in the "
            f"roster, {result.not_ended} not over yet"
            + (f", {result.in_closed_month} in a closed month (left alone)" if result.in_closed_month else "")
        )


@visit_app.command("record")
def visit_record(
    visit: int = typer.Argument(..., help="visit id (see `carecal roster show`)"),
    status: Status = typer.Option(..., "--status", help="what happened"),
    start: str = typer.Option(None, "--start", help="actual start, HH:MM local time"),
    end: str = typer.Option(None, "--end", help="actual end, HH:MM local time"),
    activity: str = typer.Option(None, "--activity", help="what was done, in plain words"),
    signature: Signature = typer.Option(None, "--signature", help="who signed the proof of service"),
    signature_reason: str = typer.Option(None, "--signature-reason", help="why nobody signed (with --signature none)"),
    reason: str = typer.Option(None, "--reason", help="why this changes an earlier record (required then)"),
    actor: str = ActorOption,
    now: str = NowOption,
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
            signature=signature.value if signature else None,
            signature_reason=signature_reason,
            reason=reason,
            now=parse_now(now),
        )
        tz = records.organisation(s).timezone
        console.print(
            f"visit {visit}: {record.status}, {to_local(record.started_at, tz):%d.%m.%Y %H:%M}-"
            f"{to_local(record.ended_at, tz):%H:%M} ({record.minutes} min)"
            + (f", signed by {record.signature}" if record.signature not in (None, "none") else "")
            + (f", not signed: {record.signature_reason}" if record.signature == "none" else "")
        )


@visit_app.command("history")
def visit_history(visit: int = typer.Argument(..., help="visit id")) -> None:
    """Every recorded state of a visit: who changed it, when and why."""
    from sqlalchemy import select

    from carecal.models import VisitRecord

    with session() as s:
        record = s.scalars(select(VisitRecord).where(VisitRecord.visit_id == visit)).first()
        if record is None:
            raise CarecalError(f"visit {visit} has no record yet")
        tz = records.organisation(s).timezone
        table = Table("when", "who", "why", "status", "time", "signature")
        for change in record.changes:
            state = change.state
            table.add_row(
                f"{to_local(change.at, tz):%Y-%m-%d %H:%M}",
                change.actor,
                change.reason or "",
                state["status"],
                f"{state['start']}-{state['end']}",
                state["signature"] or "" if state["signature"] != "none" else f"none: {state['signature_reason']}",
            )
        console.print(table)


# --- budget ---------------------------------------------------------------------------------


@budget_app.command("show")
def budget_show(
    client: str = typer.Argument(..., help="client id, e.g. c017"),
    at: str = typer.Option(None, "--at", help="the day to show the budget on (default: today)"),
) -> None:
    """A client's budgets as a ledger: monthly relief amounts, spends, lapses, corrections."""
    with session() as s:
        person = lookup.client(s, client)
        day = _day(at, "--at") or today_in(records.organisation(s).timezone)
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


@budget_app.command("correct")
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
        day = _day(at, "--at") or today_in(records.organisation(s).timezone)
        entries = budgets.correct(
            s, person, parse_euros(amount), reason, config.actor(actor), budget=budget.value, day=day
        )
        delta = sum(e.amount_cents for e in entries)
        console.print(
            f"{person.external_id}: {budget.value} budget on {day:%d.%m.%Y} set to "
            f"{euros(parse_euros(amount))} ({'+' if delta >= 0 else ''}{euros(delta)})"
        )


# --- billing --------------------------------------------------------------------------------


@billing_app.command("run")
def billing_run(
    month: str = MonthOption,
    issued: str = typer.Option(None, "--issued", help="invoice date (default: today)"),
    actor: str = ActorOption,
) -> None:
    """Invoice the month's delivered visits per client, payer and funding source."""
    with session() as s:
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


@billing_app.command("close")
def billing_close(month: str = MonthOption, actor: str = ActorOption) -> None:
    """Close the month: its visits, records and invoices can no longer change."""
    with session() as s:
        closed = invoicing.close_month(s, month, config.actor(actor))
        console.print(f"{closed.month} closed; corrections are credit notes from now on")


@billing_app.command("credit")
def billing_credit(
    invoice: str = typer.Argument(..., help="invoice number, e.g. 2026-0007"),
    reason: str = typer.Option(..., "--reason", help="why it is corrected"),
    visit: list[int] = typer.Option(None, "--visit", help="credit only this visit's lines (repeatable)"),
    actor: str = ActorOption,
) -> None:
    """Issue a credit note that reverses an invoice (or some of its visits)."""
    with session() as s:
        credit = invoicing.credit_note(s, invoice, config.actor(actor), reason, visit or None)
        console.print(
            f"credit note {credit.number} for {invoice}: {euros(credit.total_cents)}; "
            f"budget money returned to the ledger"
        )


@billing_app.command("reconcile")
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


# --- exports --------------------------------------------------------------------------------


def pseudonym_key() -> bytes:
    key = os.environ.get(PSEUDONYM_KEY_ENV)
    if not key:
        raise InputError(
            f"--pseudonymise needs a secret key in ${PSEUDONYM_KEY_ENV} (keep it: the same key "
            "gives the same pseudonyms in every export)"
        )
    return key.encode()


@export_app.command("hours")
def export_hours(
    month: str = MonthOption,
    format: Format = typer.Option(Format.csv, "--format", help="csv or xlsx"),
    pseudonymise: bool = typer.Option(
        False, "--pseudonymise", help=f"stable pseudonyms for clients and volunteers (key: ${PSEUDONYM_KEY_ENV})"
    ),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: exports/hours_MONTH.FORMAT)"),
) -> None:
    """One row per visit of the month: status, people, times, funding, price, invoice, signature, history."""
    month = parse_month(month)
    key = pseudonym_key() if pseudonymise else None
    with session() as s:
        rows = exports.hours_rows(s, month, key)
    path = output or DEFAULT_OUT / f"hours_{month}{'_pseudonymised' if key else ''}.{format.value}"
    exports.write_table(path, exports.HOURS_COLUMNS, rows, format.value)
    console.print(f"wrote {len(rows)} visit(s) to {path}")


@export_app.command("proof")
def export_proof(
    month: str = MonthOption,
    client: str = typer.Option(None, "--client", help="only this client (default: every client with visits)"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="directory for the PDFs"),
) -> None:
    """The Leistungsnachweis: one PDF per client and month, one line per visit, in German."""
    with session() as s:
        paths = proof.write_proofs(s, month, out, client)
    for path in paths:
        console.print(f"wrote {path}")
    console.print(f"{len(paths)} proof(s) of service")


@export_app.command("allowances")
def export_allowances(
    year: str = typer.Option(..., "--year", help="calendar year, e.g. 2026"),
    limit: Limit = typer.Option(Limit.nr26, "--limit", help="tax-free limit: §3 Nr. 26 (3_26) or Nr. 26a (3_26a) EStG"),
    format: Format = typer.Option(Format.csv, "--format", help="csv or xlsx"),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: exports/allowances_YEAR.FORMAT)"),
) -> None:
    """Per volunteer: hours, allowance earned, share of the tax-free limit; warns near or over it."""
    number = exports.parse_year(year)
    with session() as s:
        items = exports.allowances(s, number, limit.value)
        rows = exports.allowance_rows(items)
    path = output or DEFAULT_OUT / f"allowances_{number}.{format.value}"
    exports.write_table(path, exports.ALLOWANCE_COLUMNS, rows, format.value)
    for item in items:
        if item.warning:
            err_console.print(
                f"[yellow]warning:[/] {item.volunteer.external_id} {item.volunteer.name}: "
                f"{euros(item.allowance_cents)} is {item.share:.0%} of {euros(item.limit_cents)} "
                f"— {item.warning}",
                highlight=False,
            )
    console.print(f"wrote {len(rows)} volunteer(s) to {path}")


@export_app.command("audit-log")
def export_audit_log(
    from_: str = typer.Option(None, "--from", help="first day, e.g. 2026-11-01"),
    to: str = typer.Option(None, "--to", help="last day (inclusive)"),
    format: Format = typer.Option(Format.csv, "--format", help="csv or xlsx"),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: exports/audit-log.FORMAT)"),
) -> None:
    """Every audited change (who, when, what) between two days, health data masked."""
    with session() as s:
        rows = exports.audit_rows(s, _day(from_, "--from"), _day(to, "--to"))
    path = output or DEFAULT_OUT / f"audit-log.{format.value}"
    exports.write_table(path, exports.AUDIT_COLUMNS, rows, format.value)
    console.print(f"wrote {len(rows)} event(s) to {path}")
