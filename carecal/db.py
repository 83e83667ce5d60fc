"""Engines, sessions and migrations. Sessions are opened at the edges (a CLI command, an
HTTP request); library functions receive a Session and never commit on their own."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from carecal.errors import CarecalError

WRITE_OPTION = "carecal_write"  # execution option: this session writes (see session_scope)


@cache
def engine_for(url: str) -> Engine:
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is unreliable (it skips BEGIN before some
        # statements); emit BEGIN ourselves so every session is one real transaction.
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection) -> None:
    # A writing session takes the write lock at once (BEGIN IMMEDIATE): SQLite cannot
    # promote a transaction that has read to a writer once another one has written.
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on any error
    (including Ctrl-C), so a failed command leaves nothing half-written.

    `write=True` for a transaction that reads and then writes what it read depends on
    (billing runs, anything that appends to a hash chain): on SQLite it is the one writer
    from its first statement on (others wait for it, up to the busy timeout); PostgreSQL
    needs nothing extra, its row locks serialise such writers."""
    engine = engine_for(url)
    if write:
        engine = engine.execution_options(**{WRITE_OPTION: True})
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("carecal") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def require_current(url: str) -> None:
    """Refuse to work on a database whose schema is not at the newest migration."""
    if not exists(url):
        raise CarecalError(f"there is no database at {safe_url(url)}: run `carecal init` (or `carecal demo`)")
    current, head = current_revision(url), head_revision()
    if current != head:
        hint = "carecal init" if current is None else "carecal db upgrade"
        raise CarecalError(
            f"the database {safe_url(url)} is at schema {current or 'none'}, carecal needs {head}: run `{hint}`"
        )


def exists(url: str) -> bool:
    """False for a SQLite file that is not there (connecting would create it, empty)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).exists()


def is_empty(url: str) -> bool:
    return not inspect(engine_for(url)).get_table_names()


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
