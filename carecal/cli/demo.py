"""`carecal demo`: build the demo association's database and run every feature on it (mounted on the root)."""

import os
from pathlib import Path

import typer

from carecal import db
from carecal.cli.common import console, db_option
from carecal.demo import DEFAULT_OUT, DEFAULT_WEEK, DemoContext, new_sqlite_url, run_demo
from carecal.weeks import IsoWeek


def demo(
    week: str = typer.Option(DEFAULT_WEEK, "--week", "-w", help="ISO week to plan and bill"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="directory for the files the demo writes"),
) -> None:
    """Build a fresh demo database from data/ and run the whole job on it.

    Uses the database that --db or $CARECAL_DB names (it must hold no data yet); otherwise
    creates ./carecal.db, or a new timestamped file when ./carecal.db exists.
    """
    iso_week = IsoWeek.parse(week)
    from_option = db_option.get()
    named = from_option or os.environ.get("CARECAL_DB")
    if named:
        url, created_file = named, None
    else:
        url, created_file = new_sqlite_url()
    ctx = DemoContext(url=url, week=iso_week, out=out, console=console)
    run_demo(ctx)

    console.print()
    console.rule("[bold green]demo done")
    if created_file is not None:
        console.print(f"database  [bold]{created_file}[/]", soft_wrap=True)
    else:
        console.print(f"database  [bold]{db.safe_url(url)}[/]", soft_wrap=True)
    console.print(f"files     [bold]{out.resolve()}/[/]", soft_wrap=True)
    for note in ctx.notes:
        console.print(note)
    hint = ""  # what later commands need to reach the same database
    if from_option:
        hint = f"--db {db.safe_url(url)} "
    elif created_file is not None and created_file.name != "carecal.db":
        hint = f"--db sqlite:///{created_file} "
    console.print("\nTry next:")
    for command in ("volunteer list", "client list", "client show c001"):
        console.print(f"  carecal {hint}{command}", soft_wrap=True, highlight=False)
