"""Engines, sessions and migrations. Sessions are opened at the edges (a CLI command, an
HTTP request); library functions receive a Session and never commit on their own.

Several processes share one database (coordinators' commands, the feed server). On SQLite
the file is in WAL mode, so readers never block the writer nor the writer the readers. A
command that writes takes the write lock when its transaction begins (`write=True`: BEGIN
IMMEDIATE) and waits up to BUSY_TIMEOUT_MS for it, so what it read cannot be changed by a
colleague before it writes (without it, SQLite refuses such a write at once).
A write that still cannot go through, and a database that cannot be reached, end in one
CarecalError (a line for the user, nothing half-written), never in a traceback with SQL.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carecal import private_files
from carecal.errors import CarecalError, DatabaseBusy, DatabaseUnavailable, RuleBroken

# How long a write waits for a colleague's write to finish before it gives up (SQLite).
BUSY_TIMEOUT_MS = 10_000
# Triggers that guard the visit life cycle start their message with this (see
# carecal.lifecycle); such a refusal reaches the user as a Conflict with that message.
RULE_MARK = "carecal rule: "

WRITE_OPTION = "carecal_write"  # execution option: this session writes (see session_scope)


@cache
def engine_for(url: str) -> Engine:
    try:
        # hide_parameters: an error never carries the values of a statement (reasons,
        # names) into a message or a log.
        engine = create_engine(url, future=True, hide_parameters=True)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
        raise DatabaseUnavailable(
            f"{_printable(url)} is not a database URL carecal can use ({_first_line(error)}); "
            "examples: sqlite:///carecal.db, postgresql+psycopg://user:password@host/dbname"
        ) from None
    if engine.dialect.name == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # the file is made 0600 before SQLite opens (or creates) it; its journal follows
            event.listen(engine, "do_connect", lambda *_: private_files.prepare_sqlite_file(Path(database)))
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
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode = WAL")  # stays set in the file
    cursor.close()


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on any error
    (including Ctrl-C), so a failed command leaves nothing half-written.

    `write=True` for a transaction that reads and then writes what it read depends on
    (billing runs, anything that appends to a hash chain): on SQLite it is the one writer
    from its first statement on (others wait for it, up to the busy timeout); PostgreSQL
    needs nothing extra, its row locks serialise such writers. Readers never wait, and
    never hold up a writer."""
    engine = engine_for(url)
    if write:
        engine = engine.execution_options(**{WRITE_OPTION: True})
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        with database_errors(url):
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn what the database says about itself (busy, unreachable, a broken rule) into one
    clear CarecalError; everything else passes unchanged."""
    try:
        yield
    except DBAPIError as error:
        message = str(error.orig) if error.orig is not None else str(error)
        if RULE_MARK in message:
            raise RuleBroken(message.split(RULE_MARK, 1)[1].splitlines()[0].strip()) from None
        if not isinstance(error, OperationalError):
            raise
        lowered = message.lower()
        if "locked" in lowered or "busy" in lowered:
            raise DatabaseBusy(
                f"the database {safe_url(url)} stayed busy with another command's write for "
                f"{BUSY_TIMEOUT_MS // 1000} s; nothing was saved: try again"
            ) from None
        if error.connection_invalidated or _is_connect_failure(lowered):
            raise DatabaseUnavailable(f"cannot reach the database {safe_url(url)}: {_first_line(message)}") from None
        raise


def _is_connect_failure(message: str) -> bool:
    return any(
        phrase in message
        for phrase in (
            "connection refused",
            "could not connect",
            "connection failed",
            "could not translate host name",
            "name or service not known",
            "timeout expired",
            "password authentication failed",
            "does not exist",
            "unable to open database file",
            "server closed the connection",
            "no such host",
        )
    )


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _printable(url: str) -> str:
    try:
        return safe_url(url)
    except ArgumentError:
        return repr(url.split("@")[-1])  # never print what could be a password


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("carecal") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    with database_errors(url):
        command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    with database_errors(url), engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "carecal ships its migrations"
    return head


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
    try:
        parsed = make_url(url)
    except ArgumentError:
        engine_for(url)  # raises the one-line DatabaseUnavailable for an unusable URL
        raise
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).exists()


def is_empty(url: str) -> bool:
    with database_errors(url):
        return not inspect(engine_for(url)).get_table_names()


def locked_row(session: Session, model, **values):
    """The row of `model` whose primary key `values` names, created with `values` when it is
    missing, and locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer) until the
    transaction ends. The INSERT is skipped, not failed, when a concurrent transaction makes
    the row first: both then meet at the lock."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
    key = model.__mapper__.primary_key[0]
    query = select(model).where(key == values[key.name]).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
