"""`carecal import ...`: master data from files (the layout: data/README.md)."""

from pathlib import Path

import typer
from rich.table import Table

from carecal import config
from carecal.cli.common import ActorOption, console, noun, session
from carecal.masterdata import import_file, load_organisation
from carecal.masterdata.importer import ImportReport

app = noun("import", "Import master data from CSV or XLSX.")

DryRunOption = typer.Option(False, "--dry-run", help="validate and report what would change, write nothing")
FileArgument = typer.Argument(
    ..., metavar="FILE", help="a .csv (comma or semicolon separated, UTF-8) or .xlsx file", exists=False, dir_okay=False
)


def _import(kind: str, file: Path, dry_run: bool, actor: str | None) -> None:
    with session() as s:
        report = import_file(s, kind, file, actor=config.actor(actor), dry_run=dry_run)
    _print_report(report)


def _print_report(report: ImportReport) -> None:
    console.print(report.summary())
    if report.created:
        shown = ", ".join(report.created[:20]) + (" …" if len(report.created) > 20 else "")
        console.print(f"  {'would create' if report.dry_run else 'created'}: {shown}")
    if report.updated:
        table = Table(
            "id", "changed columns", title="would update" if report.dry_run else "updated", title_justify="left"
        )
        for key, columns in report.updated.items():
            table.add_row(key, ", ".join(columns))
        console.print(table)
    if report.dry_run:
        console.print("[yellow]dry run: nothing was written[/]")


@app.command("volunteers")
def import_volunteers(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update volunteers from FILE (keyed by external_id). Import clients first:
    must_not_visit names client ids. Layout: data/README.md."""
    _import("volunteers", file, dry_run, actor)


@app.command("clients")
def import_clients(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update clients from FILE (keyed by external_id). Layout: data/README.md."""
    _import("clients", file, dry_run, actor)


@app.command("requests")
def import_requests(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update clients' standing care requests from FILE (keyed by external_id)."""
    _import("requests", file, dry_run, actor)


@app.command("organisation")
def import_organisation(
    file: Path = typer.Argument(..., metavar="FILE", help="a JSON file like data/organisation.json"),
    actor: str = ActorOption,
) -> None:
    """Create or update the association (name, IK, address, time zone) and its dated rates."""
    with session() as s:
        org = load_organisation(s, file, actor=config.actor(actor))
        name, ik, rates = org.name, org.ik, len(org.rates)
    console.print(f"{name} (IK {ik}): {rates} dated rates")
