"""What every command shares: the database session, the actor, consoles and the week option."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from carecal import config, db
from carecal.errors import InputError

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


def parse_now(text: str | None) -> datetime | None:
    """The hidden `--now` of commands whose outcome depends on the time (tests, rehearsals)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now {text!r} is not an ISO 8601 time like 2026-11-24T08:00:00+01:00") from None
    if moment.tzinfo is None:
        raise InputError(f"--now {text!r} needs a UTC offset, e.g. 2026-11-24T08:00:00+01:00")
    return moment


WeekOption = typer.Option(..., "--week", "-w", help="ISO week, e.g. 2026-W48")
ActorOption = typer.Option(None, "--actor", help="who does this (default: $CARECAL_ACTOR, else the OS user)")
NowOption = typer.Option(None, "--now", hidden=True, help="pretend it is this moment (ISO 8601 with offset)")
