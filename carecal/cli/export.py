"""`carecal export ...`: every file the office hands on: master data, calendars, the
auditors' hours, proofs of service, allowances and the audit log."""

import sys
from datetime import date
from enum import Enum
from pathlib import Path

import typer

from carecal import private_files, pseudonyms, tables
from carecal.billing import audiences, exports
from carecal.billing.ledger import parse_month
from carecal.billing.money import euros
from carecal.cli.common import WeekOption, console, err_console, noun, session
from carecal.errors import InputError
from carecal.feeds.calendars import write_week
from carecal.masterdata import export_csv, export_file
from carecal.masterdata.files import FORMATS
from carecal.weeks import IsoWeek

app = noun("export", "Write files: master data, calendars, hours, invoices, proofs, allowances, payouts, audit log.")

DEFAULT_OUT = Path("exports")

MonthOption = typer.Option(..., "--month", "-m", help="billing month, e.g. 2026-11")
OutOption = typer.Option(None, "--output", "-o", help="file to write (default: CSV on standard output)")
FormatOption = typer.Option(None, "--format", "-f", help="csv or xlsx (default: from the file name)")


class Format(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


class Limit(str, Enum):
    nr26 = "3_26"
    nr26a = "3_26a"


def _day(text: str | None, option: str) -> date | None:
    return exports.parse_day(text, option)


# --- master data -----------------------------------------------------------------------------


def _export(kind: str, output: Path | None, fmt: str | None) -> None:
    if fmt is not None and fmt.lower() not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected csv or xlsx")
    with session() as s:
        if output is None:
            if fmt and fmt.lower() == "xlsx":
                raise InputError("xlsx needs a file: give -o FILE.xlsx")
            export_csv(s, kind, sys.stdout)
            return
        count = export_file(s, kind, output, fmt)
    console.print(f"wrote {count} {kind} to {output}", highlight=False)


@app.command("volunteers")
def export_volunteers(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all volunteers in the import layout (CSV or XLSX)."""
    _export("volunteers", output, fmt)


@app.command("clients")
def export_clients(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all clients in the import layout (CSV or XLSX). The file holds health data."""
    _export("clients", output, fmt)


@app.command("requests")
def export_requests(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all care requests in the import layout (CSV or XLSX)."""
    _export("requests", output, fmt)


# --- calendars -------------------------------------------------------------------------------


@app.command("ical")
def ical(
    week: str = WeekOption, out: Path = typer.Option(Path("exports"), "--out", help="directory for the .ics files")
) -> None:
    """One .ics per volunteer, per client whose family opted in, and one office file with all visits."""
    with session() as s:
        written = write_week(s, IsoWeek.parse(week), out)
    console.print(f"wrote {len(written)} calendar files for {week} to {out}/")


# --- for auditors ----------------------------------------------------------------------------


class Audience(str, Enum):
    treasurer = "treasurer"
    insurer = "insurer"
    tax_office = "tax-office"


@app.command("hours")
def export_hours(
    month: str = MonthOption,
    format: Format = typer.Option(Format.csv, "--format", help="csv or xlsx"),
    audience: Audience = typer.Option(
        Audience.treasurer,
        "--for",
        help="treasurer: every visit by name; insurer: its insured's delivered visits, pseudonymised; "
        "tax-office: totals, nobody in it (docs/privacy.md)",
    ),
    insurer: str = typer.Option(None, "--insurer", help="with --for insurer: the insurer, by name or IK"),
    key_file: Path = typer.Option(
        None,
        "--key-file",
        help=f"with --for insurer: the association's pseudonym key (default: ${pseudonyms.KEY_FILE_ENV}, "
        f"else ${pseudonyms.KEY_ENV})",
    ),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: exports/hours_MONTH….FORMAT)"),
) -> None:
    """The month's visits: status, people, times, funding, price, invoice, signature, history (for the
    treasurer), or what a care insurer or the tax office needs of them."""
    month = parse_month(month)
    if audience is Audience.insurer:
        if not insurer:
            raise InputError("--for insurer needs --insurer NAME (an insurer sees its own insured only)")
        key = pseudonyms.load_key(key_file)
        with session() as s:
            rows = audiences.insurer_rows(s, month, key, insurer)
        header, suffix = audiences.INSURER_COLUMNS, f"_insurer-{audiences.slug(insurer)}"
    elif audience is Audience.tax_office:
        with session() as s:
            rows = audiences.tax_office_rows(s, month)
        header, suffix = audiences.TAX_OFFICE_COLUMNS, "_tax-office"
    else:
        with session() as s:
            rows = exports.hours_rows(s, month)
        header, suffix = exports.HOURS_COLUMNS, ""
    path = output or DEFAULT_OUT / f"hours_{month}{suffix}.{format.value}"
    tables.write_table(path, header, rows, format.value, title=f"hours {month}")
    console.print(f"wrote {len(rows)} row(s) for the {audience.value} to {path}")


@app.command("pseudonym-key")
def export_pseudonym_key(
    output: Path = typer.Option(..., "-o", "--output", help="the key file to create (0600); never overwritten"),
) -> None:
    """Make the association's secret key for pseudonymised exports (32 random bytes) in a new file.
    Keep it, and keep it apart from the exports: the same key gives the same pseudonyms."""
    if output.exists():
        raise InputError(f"{output} exists: a new key would give everyone new pseudonyms; remove it first")
    private_files.write_text(output, pseudonyms.new_key() + "\n")
    console.print(f"wrote a new pseudonym key to {output} (only you may read it): use --key-file {output}")


@app.command("proof")
def export_proof(
    month: str = MonthOption,
    client: str = typer.Option(None, "--client", help="only this client (default: every client with visits)"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="directory for the PDFs"),
) -> None:
    """The Leistungsnachweis: one PDF per client and month, one line per visit, in German."""
    from carecal.billing import proof  # loads the PDF library: only for this command

    with session() as s:
        paths = proof.write_proofs(s, month, out, client)
    for path in paths:
        console.print(f"wrote {path}")
    console.print(f"{len(paths)} proof(s) of service")


@app.command("invoice")
def export_invoice(
    month: str = typer.Option(None, "--month", "-m", help="the invoices and credit notes of this billing month"),
    number: str = typer.Option(None, "--number", help="only this invoice or credit note, e.g. 2026-0007"),
    payer: str = typer.Option(None, "--payer", help="only those to: insurer, client, or an insurer's 9-digit IK"),
    client: str = typer.Option(None, "--client", help="only this client's, e.g. c017 (with --month: of that month)"),
    collective: bool = typer.Option(
        False, "--collective", help="one collective invoice (Sammelrechnung) per care insurer and month instead"
    ),
    out: Path = typer.Option(DEFAULT_OUT / "invoices", "--out", help="directory for the PDFs"),
) -> None:
    """Invoice PDFs as payers expect them, drawn from what each stored when it was issued: one per
    invoice and credit note, or one per insurer and month."""
    from carecal.billing import documents  # loads the PDF library: only for this command

    with session() as s:
        paths = documents.write_invoices(
            s, out, month=month, number=number, payer=payer, client=client, collective=collective
        )
    for path in paths:
        console.print(f"wrote {path}", highlight=False)
    console.print(f"{len(paths)} {'collective invoice(s)' if collective else 'invoice document(s)'}")


@app.command("payouts")
def export_payouts(
    month: str = MonthOption,
    batch: int = typer.Option(
        None, "--batch", help="1 = the month's run, 2, 3, ... its corrections (default: the latest that transfers)"
    ),
    output: Path = typer.Option(None, "-o", "--output", help="file to write (default: exports/payouts_MONTH….xml)"),
) -> None:
    """The SEPA credit transfer file (pain.001.001.09) for the bank: one transfer per volunteer paid.
    The only file that holds the volunteers' IBANs whole."""
    from carecal.billing import sepa

    with session(write=False) as s:
        made = sepa.transfer_file(s, month, batch)
    path = output or DEFAULT_OUT / made.file_name
    private_files.write_bytes(path, made.xml)
    console.print(
        f"wrote {path}: batch {made.batch} of {made.month}, {made.transfers} transfer(s), "
        f"{euros(made.total_cents)}, message {made.message_id}; upload it to the bank once",
        highlight=False,
        soft_wrap=True,
    )


@app.command("statements")
def export_statements(
    month: str = MonthOption,
    volunteer: str = typer.Option(None, "--volunteer", help="only this volunteer (default: everyone paid)"),
    out: Path = typer.Option(DEFAULT_OUT / "statements", "--out", help="directory for the PDFs"),
) -> None:
    """One page per volunteer paid for the month, in their language: visits, hours, rate, amount,
    the transfer, and the year against the tax-free limit."""
    from carecal.billing import statement  # loads the PDF library: only for this command

    with session(write=False) as s:
        paths = statement.write_statements(s, month, out, volunteer)
    for path in paths:
        console.print(f"wrote {path}", highlight=False)
    console.print(f"{len(paths)} statement(s)")


@app.command("allowances")
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
    tables.write_table(path, exports.ALLOWANCE_COLUMNS, rows, format.value, title=f"allowances {number}")
    for item in items:
        if item.warning:
            err_console.print(
                f"[yellow]warning:[/] {item.volunteer.external_id} {item.volunteer.name}: "
                f"{euros(item.allowance_cents)} is {item.share:.0%} of {euros(item.limit_cents)} "
                f"— {item.warning}",
                highlight=False,
            )
    console.print(f"wrote {len(rows)} volunteer(s) to {path}")


@app.command("audit-log")
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
    tables.write_table(path, exports.AUDIT_COLUMNS, rows, format.value, title="audit log")
    console.print(f"wrote {len(rows)} event(s) to {path}")
