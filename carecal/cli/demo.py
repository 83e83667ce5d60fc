"""`carecal demo`: build the demo association's database and run every feature on it (mounted on the root)."""

import os
from pathlib import Path

import typer

from carecal import db
from carecal.cli.common import console, db_option
from carecal.demo import DEFAULT_OUT, DEMO_TIME_LIMIT, DemoContext, new_sqlite_url, run_demo


def demo(
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="directory for the files the demo writes"),
    time_limit: float = typer.Option(
        DEMO_TIME_LIMIT, "--time-limit", min=0.5, help="seconds the solver may take for a week planned from scratch"
    ),
    documents: bool = typer.Option(
        True, "--documents/--no-documents", help="write the PDF proofs and invoices (most of the demo's time)"
    ),
) -> None:
    """Build a fresh demo database from data/ around today and run the whole job on it.

    The weeks up to last week are planned, published, delivered and recorded, this week is
    published, next week planned (a draft), the complete months billed; the demo prints
    which weeks those are. Uses the database that --db or $CARECAL_DB names (it must hold
    no data yet); otherwise creates ./carecal.db, or a new timestamped file when
    ./carecal.db exists.
    """
    from_option = db_option.get()
    named = from_option or os.environ.get("CARECAL_DB")
    if named:
        url, created_file = named, None
    else:
        url, created_file = new_sqlite_url()
    ctx = DemoContext(url=url, out=out, console=console, time_limit=time_limit, documents=documents)
    run_demo(ctx)

    weeks = ctx.weeks
    console.print()
    console.rule("[bold green]demo done")
    if created_file is not None:
        console.print(f"database  [bold]{created_file}[/]", soft_wrap=True)
    else:
        console.print(f"database  [bold]{db.safe_url(url)}[/]", soft_wrap=True)
    console.print(f"files     [bold]{out.resolve()}/[/]", soft_wrap=True)
    console.print(
        f"weeks     last week {weeks.last} (delivered and recorded) · this week {weeks.this} (published) · "
        f"next week {weeks.next} (planned, a draft) · last complete month {weeks.month} (billed)",
        highlight=False,
    )
    for note in ctx.notes:
        console.print(note)
    hint = ""  # what later commands need to reach the same database
    if from_option:
        hint = f"--db {db.safe_url(url)} "
    elif created_file is not None and created_file.name != "carecal.db":
        hint = f"--db sqlite:///{created_file} "
    # The README's examples use these names; pasting the line sets them in the shell.
    console.print("\nThe README's examples name these weeks; paste this line into your shell:")
    console.print(
        f"  LAST={weeks.last} THIS={weeks.this} NEXT={weeks.next} MONTH={weeks.month}",
        soft_wrap=True,
        highlight=False,
    )
    console.print("\nTry next:")
    for command in ("volunteer list", "client list", f"roster show --week {weeks.this}"):
        console.print(f"  carecal {hint}{command}", soft_wrap=True, highlight=False)
