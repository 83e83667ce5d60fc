"""`carecal demo`: a fresh database from data/, then every feature's step."""

import io
import os
import stat
from datetime import date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from carecal import clock, db, demo
from carecal.errors import CarecalError
from carecal.models import AuditEvent, CareRequest, Client, Invoice, Organisation, RosterWeek, VisitRecord, Volunteer


def context(url: str, tmp_path: Path) -> demo.DemoContext:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    return demo.DemoContext(url=url, out=tmp_path / "exports", console=console)


def output(ctx: demo.DemoContext) -> str:
    return ctx.console.file.getvalue()


def test_the_demo_loads_the_association_then_runs_the_steps_in_order(db_url, tmp_path):
    ran = []

    def first(ctx):
        """Plan the week."""
        with db.session_scope(ctx.url) as s:
            ran.append(("first", s.scalar(select(func.count()).select_from(Client)), str(ctx.weeks.this), ctx.actor))

    def second(ctx):
        ran.append(("second", ctx.out.is_dir()))

    ctx = context(db_url, tmp_path)
    demo.run_demo(ctx, steps=[first, second])
    assert ran == [("first", 120, "2026-W47", "demo"), ("second", True)]  # the tests run on 20 November 2026
    with db.session_scope(db_url) as s:
        counts = [s.scalar(select(func.count()).select_from(m)) for m in (Organisation, Volunteer, Client, CareRequest)]
        actions = set(s.scalars(select(AuditEvent.action)))
    assert counts[:3] == [1, 45, 120] and counts[3] > 120
    assert {"masterdata.import.organisation", "masterdata.import.volunteers"} <= actions
    text = output(ctx)
    assert "▸ Plan the week" in text and "▸ second" in text
    assert str((tmp_path / "exports").resolve()) in text


def test_the_demo_refuses_a_database_that_holds_data(db_url, tmp_path):
    demo.run_demo(context(db_url, tmp_path), steps=[])
    with pytest.raises(CarecalError, match="already holds data"):
        demo.run_demo(context(db_url, tmp_path), steps=[])


def test_a_step_is_titled_by_the_first_line_of_its_docstring_else_by_its_name():
    def write_the_files(ctx):
        pass

    assert demo.step_title(demo.load_master_data).startswith("Load the association from data/")
    assert demo.step_title(write_the_files) == "write the files"


def test_a_new_file_never_overwrites_an_existing_one(tmp_path):
    url, path = demo.new_sqlite_url(tmp_path)
    assert path == (tmp_path / "carecal.db").resolve() and url == f"sqlite:///{path}"
    path.write_bytes(b"")
    _, second = demo.new_sqlite_url(tmp_path, now=datetime(2026, 11, 21, 9, 30).astimezone())
    assert second.name == "carecal-demo-20261121-093000.db"
    second.write_bytes(b"")
    _, third = demo.new_sqlite_url(tmp_path, now=datetime(2026, 11, 21, 9, 30).astimezone())
    assert third.name == "carecal-demo-20261121-093000-2.db"


@pytest.fixture
def in_empty_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CARECAL_DB", raising=False)
    monkeypatch.setattr(demo, "STEPS", [])
    return tmp_path


def run(*args):
    from carecal.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_demo_creates_carecal_db_then_a_timestamped_file_and_says_where(in_empty_dir):
    first = run("demo")
    assert first.exit_code == 0, first.stderr
    assert (in_empty_dir / "carecal.db").exists()
    assert str((in_empty_dir / "carecal.db").resolve()) in first.stdout
    second = run("demo", "--out", "out")
    assert second.exit_code == 0, second.stderr
    created = sorted(p.resolve() for p in in_empty_dir.glob("carecal-demo-*.db"))
    assert len(created) == 1
    assert f"--db sqlite:///{created[0]}" in second.stdout
    assert (in_empty_dir / "out").is_dir()
    # every other command can now be tried on the same database
    listing = run("--db", f"sqlite:///{created[0]}", "client", "list")
    assert listing.stdout.startswith("120 clients")


def test_cli_demo_uses_the_named_database_and_refuses_one_with_data(in_empty_dir):
    url = f"sqlite:///{in_empty_dir / 'named.db'}"
    assert run("--db", url, "demo").exit_code == 0
    again = run("--db", url, "demo")
    assert again.exit_code == 1
    assert "already holds data" in again.stderr


@pytest.mark.parametrize(
    "today, over, this, billed",
    [
        # a Tuesday: last month began in 2026-W44, so October's last days are billed too
        (date(2026, 12, 1), ("2026-W44", "2026-W48"), "2026-W49", ("2026-10", "2026-11")),
        # New Year's Day in ISO week 53
        (date(2027, 1, 1), ("2026-W49", "2026-W52"), "2026-W53", ("2026-11", "2026-12")),
        # the Sunday summer time starts (February began on a Monday), and a leap day
        (date(2027, 3, 28), ("2027-W05", "2027-W11"), "2027-W12", ("2027-02",)),
        (date(2028, 2, 29), ("2027-W52", "2028-W08"), "2028-W09", ("2027-12", "2028-01")),
    ],
)
def test_the_demo_builds_the_weeks_around_today(today, over, this, billed):
    weeks = demo.DemoWeeks.around(today)
    assert (str(weeks.over[0]), str(weeks.last), str(weeks.this), weeks.billed) == (*over, this, billed)
    assert [str(b) for a, b in zip(weeks.over, weeks.over[1:], strict=False) if a.shift(1) != b] == []
    assert weeks.next == weeks.this.shift(1) and weeks.month == billed[-1]
    # planned on the Friday before at noon, recorded on the Monday after at 08:00 (local time)
    assert demo.planned_at(weeks.this).strftime("%a %H:%M") == "Fri 12:00"
    with clock.frozen(demo.planned_at(weeks.this.shift(3))):
        assert demo.recorded_at(weeks.last).strftime("%a %H:%M") == "Mon 08:00"


@pytest.mark.slow
def test_the_whole_demo_with_every_feature_step(tmp_path, monkeypatch):
    """The demo as `make demo` runs it, all steps included, on a SQLite file, under a
    umask that would let anyone read what it writes: every file it writes is 0600 and
    every folder it creates 0700 all the same."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CARECAL_DB", raising=False)
    previous_umask = os.umask(0)
    try:
        result = run("demo", "--out", "exports", "--time-limit", "2")
    finally:
        os.umask(previous_umask)
    assert result.exit_code == 0, result.stderr
    written = list(tmp_path.rglob("*"))
    assert {p.name for p in written} >= {"carecal.db", "exports", "proofs"}
    loose = [f"{p.relative_to(tmp_path)} {stat.S_IMODE(p.stat().st_mode):o}" for p in written if _readable_by_others(p)]
    assert loose == []
    assert "demo done" in result.stdout
    assert "LAST=2026-W46 THIS=2026-W47 NEXT=2026-W48 MONTH=2026-10" in result.stdout  # on 20 November 2026
    with db.session_scope(f"sqlite:///{(tmp_path / 'carecal.db').resolve()}") as s:
        published = {w.week: w.published is not None for w in s.scalars(select(RosterWeek))}
        recorded = s.scalar(select(func.count()).select_from(VisitRecord))
        billed = set(s.scalars(select(Invoice.month)))
    assert published == {f"2026-W{n}": n != 48 for n in range(40, 49)} and recorded > 500
    assert billed == {"2026-09", "2026-10"}
    assert (tmp_path / "carecal.db").exists()
    assert any((tmp_path / "exports").iterdir()), "the feature steps write their files into --out"
    listing = run("--db", f"sqlite:///{(tmp_path / 'carecal.db').resolve()}", "volunteer", "list")
    assert listing.exit_code == 0


def _readable_by_others(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) != (0o700 if path.is_dir() else 0o600)


def test_a_failing_step_stops_the_demo_and_says_where(db_url, tmp_path):
    def broken(ctx):
        """Publish the week."""
        raise CarecalError("nothing to publish")

    def never(ctx):
        raise AssertionError("steps after a failure must not run")

    ctx = context(db_url, tmp_path)
    with pytest.raises(CarecalError, match="nothing to publish"):
        demo.run_demo(ctx, steps=[broken, never])
    assert "the demo stopped at: Publish the week" in output(ctx)
