"""What every command shares: the database session, the actor, consoles, output and common options."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from carecal import config, db, private_files
from carecal.errors import InputError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


# The global `--db` option, set by the root callback for the command being run.
db_option: ContextVar[str | None] = ContextVar("db_option", default=None)


def noun(name: str, help: str) -> typer.Typer:
    """The sub-app of one noun (`carecal roster ...`); `carecal.cli.main` mounts it."""
    return typer.Typer(name=name, help=help, no_args_is_help=True, pretty_exceptions_show_locals=False)


def db_url() -> str:
    return config.database_url(db_option.get())


@contextmanager
def session(*, check_schema: bool = True, write: bool = True) -> Iterator[Session]:
    """A transaction for one command: committed at the end, rolled back on any error.
    It writes (`write=True`, the default: on SQLite it waits for the write lock first, so a
    colleague's command never makes it fail halfway; db.session_scope); a command that only
    reads says `write=False` and never waits."""
    url = db_url()
    if check_schema:
        db.require_current(url)
    with db.session_scope(url, write=write) as s:
        yield s


def parse_now(text: str) -> datetime:
    """The hidden global `--now`: the moment the one clock reads during the command."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now {text!r} is not an ISO 8601 time like 2026-11-24T08:00:00+01:00") from None
    if moment.tzinfo is None:
        raise InputError(f"--now {text!r} needs a UTC offset, e.g. 2026-11-24T08:00:00+01:00")
    return moment


WeekOption = typer.Option(..., "--week", "-w", help="ISO week, e.g. 2026-W48")
ActorOption = typer.Option(None, "--actor", help="who does this (default: $CARECAL_ACTOR, else the OS user)")


def write_output(text: str, output: Path | None, what: str) -> None:
    """`text` to standard output, or into the file `output` (saying so on stderr)."""
    if output is None:
        sys.stdout.write(text)
        return
    private_files.write_text(output, text)
    err_console.print(f"wrote {what} to {output}")


def print_json(data: object) -> None:
    """`data` as indented JSON on standard output (non-ASCII kept readable)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def fields_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """A card of label/value pairs (`volunteer show`, `client show`)."""
    table = Table(show_header=False, box=None, title=title, title_justify="left", title_style="bold")
    table.add_column(style="cyan")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def period_text(start: datetime, end: datetime) -> str:
    """A period in local time, e.g. 'Mon 2026-11-23 00:00 – Mon 2026-11-30 00:00'."""
    return f"{start:%a %Y-%m-%d %H:%M} – {end:%a %Y-%m-%d %H:%M}"
