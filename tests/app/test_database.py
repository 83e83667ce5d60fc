"""The schema: migrations on both backends, time zones, the append-only audit log."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError

from carecal import audit, db
from carecal.models import AuditEvent, Base, Organisation


def test_migrations_create_every_table_of_the_model(db_url):
    tables = set(inspect(db.engine_for(db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.current_revision(db_url) == db.head_revision()


def test_migrations_match_the_models(db_url):
    """No model change without a migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine_for(db_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_downgrade_to_nothing_and_back(db_url):
    from alembic import command

    command.downgrade(db.alembic_config(db_url), "base")
    assert db.current_revision(db_url) is None
    db.upgrade(db_url)
    assert db.current_revision(db_url) == db.head_revision()


def test_datetimes_come_back_aware_and_naive_ones_are_refused(db_url):
    berlin = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1)  # after the switch
    with db.session_scope(db_url) as s:
        s.add(AuditEvent(actor="a", action="test.time", at=berlin, payload={}))
    with db.session_scope(db_url) as s:
        stored = s.scalars(select(AuditEvent.at)).one()
    # 02:30 on the switch night, second time round (CET): 01:30 UTC, not 00:30
    assert stored == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert stored.utcoffset().total_seconds() == 0

    with pytest.raises(StatementError, match="naive datetime"), db.session_scope(db_url) as s:
        s.add(AuditEvent(actor="a", action="test.time", at=datetime(2026, 1, 1), payload={}))


def test_audit_log_masks_health_data_and_refuses_rewrites(db_url):
    with db.session_scope(db_url) as s:
        audit.record(
            s,
            "coordinator",
            "client.update",
            object_type="client",
            object_id="c001",
            changes={"dementia": True, "insurance_number": "A123456789", "district": "Gablenz"},
        )
    with db.session_scope(db_url) as s:
        event = s.scalars(select(AuditEvent)).one()
    assert event.payload == {"changes": {"dementia": "***", "insurance_number": "***", "district": "Gablenz"}}

    for statement in ("UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), db.session_scope(db_url) as s:
            s.execute(text(statement))
    with db.session_scope(db_url) as s:
        assert s.scalars(select(AuditEvent.actor)).all() == ["coordinator"]


def test_a_failed_transaction_leaves_nothing_behind(db_url):
    with pytest.raises(RuntimeError), db.session_scope(db_url) as s:
        s.add(Organisation(name="Verein", ik="123456789", street="s", postcode="09111", city="Chemnitz"))
        s.flush()
        raise RuntimeError("interrupted")
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Organisation)).all() == []


def test_cli_init_refuses_a_database_that_has_tables(cli, db_url):
    result = cli("init")
    assert result.exit_code == 1
    assert "already has tables" in result.stderr


def test_cli_init_and_current_on_a_new_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from carecal.cli.main import app

    url = f"sqlite:///{tmp_path / 'new.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    result = runner.invoke(app, ["--db", url, "db", "current"])
    assert result.exit_code == 0 and f"schema {db.head_revision()}" in result.stdout


def test_a_command_on_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path):
    from typer.testing import CliRunner

    from carecal.cli.main import app

    path = tmp_path / "absent.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "volunteer", "list"])
    assert result.exit_code == 1
    assert "no database" in result.stderr and "carecal init" in result.stderr
    assert not path.exists()


def test_sqlite_files_are_in_wal_mode_so_readers_and_the_writer_never_block_each_other(sqlite_url):
    with db.session_scope(sqlite_url) as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == db.BUSY_TIMEOUT_MS


@pytest.mark.parametrize(
    "url, says",
    [
        ("postgres://x", "is not a database URL carecal can use"),
        ("not a url", "is not a database URL carecal can use"),
        ("postgresql+psycopg://carecal:secret@127.0.0.1:9/carecal", "cannot reach the database"),
    ],
)
def test_a_wrong_or_unreachable_db_is_one_line_with_an_exit_code(url, says):
    from typer.testing import CliRunner

    from carecal.cli.main import app

    result = CliRunner().invoke(app, ["--db", url, "volunteer", "list"])
    assert result.exit_code == 5, result.output
    assert says in result.stderr and "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_write_that_cannot_get_the_lock_fails_in_one_line_and_writes_nothing(sqlite_url, monkeypatch, tmp_path):
    """Another process holds the write lock longer than a command waits: the command says so
    in one line (no SQL, no parameters) and nothing of it is stored."""
    import sqlite3

    from typer.testing import CliRunner

    from carecal.cli.main import app
    from carecal.models import Override
    from tests import factories

    with db.session_scope(sqlite_url) as s:
        factories.organisation(s)
        volunteer = factories.volunteer(s).external_id
    db.engine_for(sqlite_url).dispose()
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a colleague's write in progress
    try:
        result = CliRunner().invoke(
            app,
            ["--db", sqlite_url, "override", "absence", volunteer, "--from", "2026-11-23", "--to", "2026-11-24"]
            + ["--reason", "secret reason text", "--actor", "anna"],
        )
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 4, result.output
    assert "busy" in result.stderr and "nothing was saved" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "secret reason text" not in result.output
    with db.session_scope(sqlite_url) as s:
        assert s.scalars(select(Override)).all() == []


def test_what_the_database_refuses_is_one_line_without_the_statement_or_its_values(cli, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from carecal.masterdata import views

    def refused(*args, **kwargs):
        raise IntegrityError(
            "INSERT INTO volunteer (note) VALUES (?)", ("secret note",), Exception("UNIQUE constraint failed: x.y")
        )

    monkeypatch.setattr(views, "volunteer_rows", refused)
    result = cli("volunteer", "list")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: the database refused this; nothing was saved: UNIQUE constraint failed: x.y"
    ]
