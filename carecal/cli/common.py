"""What every command shares: the database session, the actor, consoles and the week option."""

from collections.abc import Iterator
from contextlib import contextmanager

from contextvars import ContextVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from carecal import config, db

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


# The global `--db` option, set by the root callback for the command being run.
db_option: ContextVar[str | None] = ContextVar("db_option", default=None)


def db_url() -> str:
    return config.database_url(db_option.get())


@contextmanager
def session(*, check_schema: bool = True) -> Iterator[Session]:
    """A transaction for one command: committed at the end, rolled back on any error."""
    url = db_url()
    if check_schema:
        db.require_current(url)
    with db.session_scope(url) as s:
        yield s


WeekOption = typer.Option(..., "--week", "-w", help="ISO week, e.g. 2026-W48")
ActorOption = typer.Option(None, "--actor", help="who does this (default: $CARECAL_ACTOR, else the OS user)")
