"""Database fixtures shared by all tests.

`db_url` runs a test twice: on SQLite and on a real PostgreSQL (CARECAL_TEST_PG_URL). Each
test gets a fresh database copied from a template migrated once per run, so migrations are
exercised on both backends and tests stay fast. Locally a missing PostgreSQL server skips
that half with a visible notice; under CI (CI=true) it is a failure.
"""

import os
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from carecal import clock, db
from tests import factories

# Every test starts at this moment unless it says otherwise (`clock.frozen(...)` within the
# test): the suite must give the same answers on any day it is run. A Friday afternoon
# before the week the tests plan (2026-W48), so that week is still ahead. The clock moves
# a microsecond per reading, so what happens later is still stamped later.
FROZEN_NOW = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)

# The same server and role as .ci/run creates; override with CARECAL_TEST_PG_URL.
PG_URL = os.environ.get("CARECAL_TEST_PG_URL", "postgresql+psycopg://carecal:carecal@127.0.0.1:5432/carecal_test")
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests try new inputs on every local run (that is how they find bugs); under CI
# they try the same ones each time, so CI is red only for a change, never for a draw. A
# case found locally becomes a test of its own (e.g. test_import_hostile.py).
settings.register_profile("ci", derandomize=True)
if UNDER_CI:
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def fresh_factory_ids():
    factories.restart_ids()


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.frozen(FROZEN_NOW, tick=timedelta(microseconds=1)):
        yield FROZEN_NOW


def _pg_unavailable_reason() -> str | None:
    try:
        with create_engine(PG_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means: no server here
        return f"no PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)}: {type(error).__name__}"
    return None


@pytest.fixture(scope="session")
def pg_admin():
    reason = _pg_unavailable_reason()
    if reason:
        if UNDER_CI:
            pytest.fail(f"PostgreSQL tests must run under CI: {reason}")
        pytest.skip(f"PostgreSQL half skipped: {reason}")
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _drop_database(admin, name: str) -> None:
    """Drop a test database. An autovacuum worker may still be on it for a moment, and a
    role that is not superuser may not terminate that, so try again briefly."""
    for attempt in range(40):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 39:
                raise
            time.sleep(0.25)


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_admin):
    name = f"carecal_tpl_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_database_url(name)
    db.upgrade(url)
    db.engine_for(url).dispose()
    yield name
    _drop_database(pg_admin, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    db.engine_for(url).dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    path = tmp_path / "carecal.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    db.engine_for(url).dispose()


@pytest.fixture
def postgres_url(pg_admin, pg_template):
    name = f"carecal_t_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = _pg_database_url(name)
    yield url
    db.engine_for(url).dispose()
    _drop_database(pg_admin, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request):
    """A fresh, migrated database: once on SQLite, once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def session(db_url):
    with db.session_scope(db_url) as s:
        yield s


@pytest.fixture
def cli(db_url, monkeypatch):
    """Run `carecal ...` against the test database; returns the result (exit_code, stdout, stderr)."""
    from carecal.cli.main import app

    monkeypatch.setenv("CARECAL_DB", db_url)
    monkeypatch.setenv("CARECAL_ACTOR", "test-coordinator")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def pytest_report_header(config):
    reason = _pg_unavailable_reason()
    return "postgresql: " + ("available" if reason is None else f"NOT available ({reason}); its tests will be skipped")
