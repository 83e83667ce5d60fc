"""Two coordinators at once: whoever writes second on a week that changed meanwhile gets a
clear conflict, and nothing is overwritten."""

import threading

import pytest
from sqlalchemy import select

from carecal import db
from carecal.errors import Conflict
from carecal.models import RosterVersion, RosterWeek
from carecal.roster import overrides, planning, versions
from carecal.weeks import IsoWeek
from tests.app.roster_world import WEEK, small_association

W48 = IsoWeek.parse(WEEK)


def prepared_and_solved(db_url):
    with db.session_scope(db_url) as s:
        prepared = planning.prepare_plan(s, W48)
    return planning.solve_week(prepared, time_limit=3, workers=1)


def stored(db_url) -> list[tuple[int, str, str]]:
    with db.session_scope(db_url) as s:
        return [
            (v.number, v.status, v.created_by) for v in s.scalars(select(RosterVersion).order_by(RosterVersion.number))
        ]


def test_a_plan_on_a_week_that_changed_while_solving_is_refused(db_url):
    with db.session_scope(db_url) as s:
        small_association(s)
    mine = prepared_and_solved(db_url)  # coordinator A starts planning ...
    theirs = prepared_and_solved(db_url)  # ... and so does B
    with db.session_scope(db_url) as s:
        versions.store_version(s, theirs, "bea")  # B stores first
    with pytest.raises(Conflict, match="changed while you were planning: version 1 .* by bea"):
        with db.session_scope(db_url) as s:
            versions.store_version(s, mine, "anna")
    assert stored(db_url) == [(1, "draft", "bea")]

    again = prepared_and_solved(db_url)  # A looks again and plans on the current state
    with db.session_scope(db_url) as s:
        versions.store_version(s, again, "anna")
    assert stored(db_url) == [(1, "draft", "bea"), (2, "draft", "anna")]


def test_publishing_a_version_older_than_the_latest_is_refused(cli, db_url):
    with db.session_scope(db_url) as s:
        small_association(s)
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "3", "--actor", "anna").exit_code == 0
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "3", "--actor", "bea").exit_code == 0
    result = cli("roster", "publish", "--week", WEEK, "--version", "1")  # Anna reviewed version 1
    assert result.exit_code == 4
    assert "newer version 2" in result.stderr and "bea" in result.stderr and "Traceback" not in result.stderr
    assert stored(db_url) == [(1, "draft", "anna"), (2, "draft", "bea")]
    assert cli("roster", "publish", "--week", WEEK, "--version", "2").exit_code == 0
    again = cli("roster", "publish", "--week", WEEK, "--version", "2")
    assert again.exit_code == 4 and "already published" in again.stderr


def test_a_replan_after_a_colleague_published_is_refused(db_url):
    with db.session_scope(db_url) as s:
        small_association(s)
    with db.session_scope(db_url) as s:
        versions.store_version(s, prepared_and_solved(db_url), "anna")
    with db.session_scope(db_url) as s:
        prepared = planning.prepare_replan(s, W48)
    planning.solve_week(prepared, time_limit=3, workers=1)
    with db.session_scope(db_url) as s:
        versions.publish(s, W48, "bea")  # B publishes version 1 meanwhile
    with pytest.raises(Conflict), db.session_scope(db_url) as s:
        versions.store_version(s, prepared, "anna")
    assert stored(db_url) == [(1, "published", "anna")]


@pytest.mark.postgres
def test_a_race_between_two_transactions_lets_only_one_win(postgres_url):
    """Both read revision N and write at the same moment: the database's row lock and the
    `WHERE revision = N` make the second one fail, not overwrite."""
    url = postgres_url
    with db.session_scope(url) as s:
        small_association(s)
    with db.session_scope(url) as s:
        versions.store_version(s, prepared_and_solved(url), "anna")
    a, b = prepared_and_solved(url), prepared_and_solved(url)  # both saw revision 1
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def store(who: str, prepared) -> None:
        try:
            with db.session_scope(url) as s:
                s.scalars(select(RosterWeek)).one()  # read the week in this transaction
                barrier.wait(timeout=10)
                versions.store_version(s, prepared, who)
            outcomes[who] = "stored"
        except Conflict:
            outcomes[who] = "conflict"

    threads = [threading.Thread(target=store, args=(who, p)) for who, p in (("anna", a), ("bea", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "stored"]
    winner = next(who for who, outcome in outcomes.items() if outcome == "stored")
    assert stored(url) == [(1, "draft", "anna"), (2, "draft", winner)]


def test_an_override_made_while_solving_is_reported_as_missed(cli, db_url, monkeypatch):
    with db.session_scope(db_url) as s:
        world = small_association(s)
        olga = world.volunteers["Olga"].external_id
    real_solve = planning.solver.solve

    def solve_while_a_colleague_works(*args, **kwargs):
        with db.session_scope(db_url) as s:  # B marks Olga absent while A's solve runs
            overrides.absence(s, olga, "2026-11-23", "2026-11-24", reason="ill", actor="bea")
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(planning.solver, "solve", solve_while_a_colleague_works)
    result = cli("roster", "plan", "--week", WEEK, "--time-limit", "3")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"override #1 {olga} absent" in text and "added by bea" in text and "roster replan" in text
