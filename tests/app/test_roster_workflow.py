"""The coordinator's week: plan, show, publish, export, override, replan, diff, suggest, explain."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from sqlalchemy import select

import solver
from carecal import db
from carecal.instance import roster_document
from carecal.models import AuditEvent, RosterVersion, RosterWeek, Visit
from carecal.roster import planning
from solver.check import check as solver_check
from tests import factories
from tests.app.roster_world import WEEK, small_association
from tests.conftest import FROZEN_NOW

BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY_BEFORE = "2026-11-22T12:00:00+01:00"  # "now" for replans with no visit within 48 hours


def roster_schema() -> dict:
    return json.loads((solver.SCHEMA_DIR / "roster.schema.json").read_text())


def setup_world(db_url) -> dict:
    with db.session_scope(db_url) as s:
        world = small_association(s)
        return (
            {name: v.external_id for name, v in world.volunteers.items()}
            | {name: c.external_id for name, c in world.clients.items()}
            | {f"{name}#": f"{r.external_id}#1" for name, r in world.requests.items()}
        )


def versions_of(db_url) -> list[tuple[int, str, list]]:
    """(number, status, [(request, volunteer, start)]) for every stored version."""
    with db.session_scope(db_url) as s:
        week = s.scalars(select(RosterWeek).where(RosterWeek.week == WEEK)).one_or_none()
        if week is None:
            return []
        return [
            (v.number, v.status, sorted((x.request_key, x.volunteer.external_id, x.starts_at) for x in v.visits))
            for v in week.versions
        ]


def visits_by_request(db_url, number: int) -> dict[str, tuple[str, datetime]]:
    return {key: (vol, start) for n, _, visits in versions_of(db_url) if n == number for key, vol, start in visits}


def test_plan_stores_a_draft_with_every_request_and_prints_a_summary(cli, db_url):
    ids = setup_world(db_url)
    result = cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    assert result.exit_code == 0, result.stderr
    assert "coverage: 8/8" in result.stdout and "load per volunteer" in result.stdout

    with db.session_scope(db_url) as s:
        version = s.scalars(select(RosterVersion)).one()
        assert (version.number, version.status, version.created_by) == (1, "draft", "test-coordinator")
        assert len(version.visits) + len(version.unassigned) == 8
        assert version.instance["format"] == "carecal-instance/1"
        assert version.stats["solver"]["covered"] == len(version.visits)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "roster.plan")).one()
        assert event.actor == "test-coordinator" and event.payload["version"] == 1
    assert ids["Raissa#"] in visits_by_request(db_url, 1)


def test_a_failed_or_interrupted_solve_leaves_every_version_as_it_was(cli, db_url, monkeypatch):
    setup_world(db_url)
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "5").exit_code == 0
    before = versions_of(db_url)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(planning.solver, "solve", interrupted)
    result = cli("roster", "plan", "--week", WEEK)
    assert result.exit_code == 130 and "nothing was stored" in result.stderr

    def broken(*args, **kwargs):
        raise solver.InstanceError([("$.pins[0].start", "outside every window")])

    monkeypatch.setattr(planning.solver, "solve", broken)
    result = cli("roster", "plan", "--week", WEEK)
    assert result.exit_code == 2 and "cannot be solved" in result.stderr
    assert "Traceback" not in result.stderr
    assert versions_of(db_url) == before


def test_show_filters_and_formats(cli, db_url):
    ids = setup_world(db_url)
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    shown = json.loads(cli("roster", "show", "--week", WEEK, "--format", "json").stdout)
    assert shown["version"] == 1 and shown["status"] == "draft"
    assert len(shown["visits"]) + len(shown["unassigned"]) == 8
    someone = shown["visits"][0]["volunteer"]

    mine = json.loads(cli("roster", "show", "--week", WEEK, "--volunteer", someone, "--format", "json").stdout)
    assert mine["visits"] and {v["volunteer"] for v in mine["visits"]} == {someone}

    csv_text = cli("roster", "show", "--week", WEEK, "--client", ids["Raissa"], "--format", "csv").stdout
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("visit,request,day,date,start,end,volunteer")
    assert len(lines) == 2 and lines[1].split(",")[1] == ids["Raissa#"] and lines[1].split(",")[0].isdigit()

    table = cli("roster", "show", "--week", WEEK)
    assert table.exit_code == 0 and ids["Raissa#"] in table.stdout
    assert cli("roster", "show", "--week", WEEK, "--version", "7").exit_code == 3


def test_publish_supersedes_the_previous_version_and_export_writes_it(cli, db_url, tmp_path):
    setup_world(db_url)
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    assert cli("roster", "export", "--week", WEEK).exit_code == 3  # nothing published yet
    assert cli("roster", "publish", "--week", WEEK, "--actor", "anna").exit_code == 0
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    assert cli("roster", "publish", "--week", WEEK).exit_code == 0
    assert [(n, status) for n, status, _ in versions_of(db_url)] == [(1, "superseded"), (2, "published")]
    listed = cli("roster", "versions", "--week", WEEK).stdout
    assert "superseded" in listed and "published" in listed and "anna" in listed
    with db.session_scope(db_url) as s:
        first = s.scalars(select(RosterVersion).where(RosterVersion.number == 1)).one()
        assert first.published_by == "anna" and first.published_at is not None
        assert [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "roster.publish"))] == [
            "roster.publish"
        ] * 2

    out = tmp_path / "roster.json"
    assert cli("roster", "export", "--week", WEEK, "-o", out).exit_code == 0
    document = json.loads(out.read_text())
    jsonschema.validate(document, roster_schema())
    assert len(document["assignments"]) == len(visits_by_request(db_url, 2))
    assert {a["request"] for a in document["assignments"]} == set(visits_by_request(db_url, 2))


def test_done_when_absence_then_replan_moves_only_that_volunteers_visits(cli, db_url):
    """Issue 4's 'done when': plan, publish, mark a volunteer absent for the week, replan:
    the diff shows changes only for that volunteer's visits, the published version stays
    as it was until `publish`, and the audit log has every step with actor and reason."""
    setup_world(db_url)
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "5").exit_code == 0
    assert cli("roster", "publish", "--week", WEEK).exit_code == 0
    published = visits_by_request(db_url, 1)
    busiest = max({v for v, _ in published.values()}, key=lambda v: sum(1 for x, _ in published.values() if x == v))
    theirs = {key for key, (v, _) in published.items() if v == busiest}

    result = cli(
        "override",
        "absence",
        busiest,
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-29",
        "--reason",
        "ill for the week",
        "--actor",
        "maria",
    )
    assert result.exit_code == 0, result.stderr
    result = cli(
        "--now",
        SUNDAY_BEFORE,
        "roster",
        "replan",
        "--week",
        WEEK,
        "--time-limit",
        "5",
        "--actor",
        "maria",
        "--no-moves",
    )
    assert result.exit_code == 0, result.stderr
    assert "moved:" not in result.stdout

    changes = json.loads(cli("roster", "diff", "--week", WEEK, "--format", "json").stdout)
    assert (changes["from"], changes["to"]) == (1, 2)
    assert {c["request"] for c in changes["changes"]} == theirs
    for change in changes["changes"]:
        assert change["before"]["volunteer"] == busiest
        assert change["after"] is None or change["after"]["volunteer"] != busiest
        assert any("ill for the week" in why and "maria" in why for why in change["why"])
    replanned = visits_by_request(db_url, 2)
    for key in published.keys() - theirs:
        assert replanned[key] == published[key]  # untouched: same volunteer, same time

    # both versions keep every hard rule of the instance they were solved for
    from solver.check import check

    with db.session_scope(db_url) as s:
        for version in s.scalars(select(RosterVersion)):
            report = check(version.instance, roster_document(version))
            assert report.ok, report.violations

    # the calendar-facing version is untouched until publish
    assert [(n, s) for n, s, _ in versions_of(db_url)] == [(1, "published"), (2, "draft")]
    assert visits_by_request(db_url, 1) == published
    assert cli("roster", "publish", "--week", WEEK, "--actor", "maria").exit_code == 0
    assert [(n, s) for n, s, _ in versions_of(db_url)] == [(1, "superseded"), (2, "published")]

    with db.session_scope(db_url) as s:
        events = [
            (e.action, e.actor, e.payload.get("reason"))
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("roster.")
        ]
    assert events == [
        ("roster.plan", "test-coordinator", None),
        ("roster.publish", "test-coordinator", None),
        ("roster.override.absence", "maria", "ill for the week"),
        ("roster.replan", "maria", None),
        ("roster.publish", "maria", None),
    ]


def test_visits_within_48_hours_are_held_and_offered_not_reassigned(cli, db_url):
    ids = setup_world(db_url)
    # Lidia (ru, Monday afternoon) and Boris (ru, Mon/Wed mornings) go to Olga: pinned, so we know.
    assert (
        cli(
            "override",
            "pin",
            "--week",
            WEEK,
            ids["Lidia#"],
            ids["Olga"],
            "--start",
            "mon 13:00",
            "--reason",
            "knows her",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "override",
            "pin",
            "--week",
            WEEK,
            ids["Wera#"],
            ids["Olga"],
            "--start",
            "thu 09:00",
            "--reason",
            "knows her",
        ).exit_code
        == 0
    )
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    with db.session_scope(db_url) as s:
        pins = s.scalars(select(Visit).where(Visit.pinned.is_(True))).all()
        assert {p.request_key for p in pins} == {ids["Lidia#"], ids["Wera#"]}
    # Olga falls ill; the pins go with her illness (removed), and it is Monday 08:00.
    cli("override", "remove", "1", "--reason", "ill")
    cli("override", "remove", "2", "--reason", "ill")
    cli("override", "absence", ids["Olga"], "--from", "2026-11-23", "--to", "2026-11-29", "--reason", "ill")
    result = cli("--now", "2026-11-23T08:00:00+01:00", "roster", "replan", "--week", WEEK, "--time-limit", "5")
    assert result.exit_code == 0, result.stderr
    assert f"needs a substitute: {ids['Lidia#']}" in " ".join(result.stdout.split())

    replanned = visits_by_request(db_url, 2)
    assert ids["Lidia#"] not in replanned  # Monday 13:00: within 48 hours, held
    assert replanned[ids["Wera#"]][0] != ids["Olga"]  # Thursday: moved to someone else
    with db.session_scope(db_url) as s:
        version = s.scalars(select(RosterVersion).where(RosterVersion.number == 2)).one()
        cutoff = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
        olgas_soon = sorted(
            key for key, (v, start) in visits_by_request(db_url, 1).items() if v == ids["Olga"] and start < cutoff
        )
        assert ids["Lidia#"] in olgas_soon
        assert version.stats["needs_substitute"] == olgas_soon
        held = next(u for u in version.unassigned if u.request_key == ids["Lidia#"])
        assert "needs a substitute" in held.reasons[0]

    # a second replan (even with more time on the clock) does not quietly give it away either
    later = cli("--now", "2026-11-24T08:00:00+01:00", "roster", "replan", "--week", WEEK, "--time-limit", "5")
    assert later.exit_code == 0, later.stderr
    assert ids["Lidia#"] not in visits_by_request(db_url, 3)
    with db.session_scope(db_url) as s:
        third = s.scalars(select(RosterVersion).where(RosterVersion.number == 3)).one()
        assert ids["Lidia#"] in third.stats["needs_substitute"]

    suggestion = cli("roster", "suggest", "--week", WEEK, ids["Lidia#"])
    assert suggestion.exit_code == 0, suggestion.stderr
    rows = [line for line in suggestion.stdout.splitlines() if line.startswith("│ 1 ")]
    assert rows and "yes" in rows[0] and "mother tongue (ru)" in rows[0]


def test_pins_and_unassign_overrides_are_honoured_by_the_next_plan(cli, db_url):
    ids = setup_world(db_url)
    assert (
        cli(
            "override",
            "pin",
            "--week",
            WEEK,
            ids["Erika#"],
            ids["Anna"],
            "--start",
            "fri 10:00",
            "--reason",
            "Erika asked for Anna",
        ).exit_code
        == 0
    )
    assert cli("override", "unassign", "--week", WEEK, ids["Gerhard#"], "--reason", "family visit").exit_code == 0
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")
    visits = visits_by_request(db_url, 1)
    assert visits[ids["Erika#"]] == (ids["Anna"], datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("UTC")))
    assert ids["Gerhard#"] not in visits
    shown = json.loads(cli("roster", "show", "--week", WEEK, "--format", "json").stdout)
    gerhard = next(u for u in shown["unassigned"] if u["request"] == ids["Gerhard#"])
    assert "family visit" in gerhard["reasons"][0]


def test_explain_says_why_this_volunteer_or_why_nobody(cli, db_url):
    ids = setup_world(db_url)
    with db.session_scope(db_url) as s:
        nobody_speaks = factories.client(s, first_name="Thi", languages=["vi"])
        request = factories.care_request(s, nobody_speaks)
        lonely = f"{request.external_id}#1"
    cli("roster", "plan", "--week", WEEK, "--time-limit", "5")

    why_not = json.loads(cli("roster", "explain", "--week", WEEK, lonely, "--format", "json").stdout)
    assert why_not["assigned_to"] is None
    assert any("vi" in reason for reason in why_not["reasons"])
    assert all(any("rule 1" in b for b in c["breaks"]) for c in why_not["alternatives"])

    why = json.loads(cli("roster", "explain", "--week", WEEK, ids["Amal#"], "--format", "json").stdout)
    assert why["assigned_to"]["volunteer"] == ids["Samir"]  # the only Arabic speaker
    assert "speaks the mother tongue (ar)" in why["strengths"]
    text = cli("roster", "explain", "--week", WEEK, ids["Amal#"])
    assert text.exit_code == 0 and f"assigned to {ids['Samir']}" in text.stdout
    assert cli("roster", "explain", "--week", WEEK, "c999-1#1").exit_code == 3


@pytest.mark.parametrize("command", [("roster", "show"), ("roster", "diff"), ("roster", "publish"), ("report", "week")])
def test_commands_on_a_week_without_roster_say_so(cli, db_url, command):
    setup_world(db_url)
    result = cli(*command, "--week", WEEK)
    assert result.exit_code == 3 and "roster plan" in result.stderr


def test_a_killed_plan_leaves_every_version_as_it_was_and_the_database_usable(cli, db_url, tmp_path):
    """`kill -9` while the solver runs: no transaction is open then, so nothing is half-written
    and nothing stays locked."""
    import os
    import signal
    import subprocess
    import sys
    import time

    setup_world(db_url)
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "3").exit_code == 0
    before = versions_of(db_url)
    started = tmp_path / "solving"
    script = (
        "import sys, time, pathlib\n"
        "from carecal.roster import planning\n"
        "def slow(*a, **k):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(60)\n"
        "planning.solver.solve = slow\n"
        "from carecal.cli.main import app\n"
        # the subprocess has no frozen clock of its own: it gets the test's moment
        f"app(['--now', {FROZEN_NOW.isoformat()!r}, 'roster', 'plan', '--week', {WEEK!r}], prog_name='carecal')\n"
    )
    env = {**os.environ, "CARECAL_DB": db_url, "CARECAL_ACTOR": "killed"}
    process = subprocess.Popen(
        [sys.executable, "-c", script], env=env, cwd=os.getcwd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert started.exists(), "the plan never reached the solver"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert versions_of(db_url) == before
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "3").exit_code == 0
    assert [n for n, _, _ in versions_of(db_url)] == [1, 2]


def test_the_demo_plans_each_week_from_the_week_before_and_writes_the_report(db_url, tmp_path):
    import io
    from datetime import date

    from rich.console import Console

    from carecal import clock
    from carecal.demo import DemoContext, DemoWeeks, planned_at
    from carecal.roster.demo import plan_week, write_report
    from carecal.weeks import IsoWeek

    ids = setup_world(db_url)
    output = io.StringIO()
    weeks = DemoWeeks.around(date(2026, 11, 24))  # this week: 2026-W48
    ctx = DemoContext(url=db_url, out=tmp_path, console=Console(file=output, width=200), time_limit=3, weeks=weeks)
    for week in (IsoWeek.parse("2026-W47"), weeks.this):
        with clock.frozen(planned_at(week)):
            plan_week(ctx, week, publish=True)
    with clock.frozen(datetime(2026, 11, 24, 12, tzinfo=BERLIN)):
        plan_week(ctx, weeks.next, publish=False)
        write_report(ctx)
    with db.session_scope(db_url) as s:
        published = {w.week: w.published for w in s.scalars(select(RosterWeek))}
        assert sorted(published) == ["2026-W47", WEEK, "2026-W49"] and published["2026-W49"] is None
        # continuity: this week's instance knows who came last week ...
        raissa = next(c for c in published[WEEK].instance["clients"] if c["id"] == ids["Raissa"])
        last_week = next(v for v in published["2026-W47"].visits if v.client.external_id == ids["Raissa"])
        assert raissa["previous_volunteers"] == [last_week.volunteer.external_id]
        # ... and kept the week before's pattern: same volunteer, weekday and wall-clock time
        this_week = next(v for v in published[WEEK].visits if v.client.external_id == ids["Raissa"])
        assert this_week.volunteer_id == last_week.volunteer_id
        assert this_week.starts_at - last_week.starts_at == timedelta(days=7)
    assert (tmp_path / f"roster-{WEEK}.html").read_text().count("<svg") == 1
    assert "2026-W47  version 1 published" in output.getvalue()
    assert "2026-W49  version 1 planned (draft)" in output.getvalue()


def test_a_visit_cancelled_in_the_roster_stays_cancelled_through_a_replan(cli, db_url):
    ids = setup_world(db_url)
    cli("roster", "plan", "--week", WEEK, "--time-limit", "3")
    with db.session_scope(db_url) as s:
        visit = s.scalars(select(Visit).where(Visit.request_key == ids["Raissa#"])).one()
        visit.status = "cancelled"
        kept = (visit.volunteer.external_id, visit.starts_at)
    assert cli("--now", SUNDAY_BEFORE, "roster", "replan", "--week", WEEK).exit_code == 0
    with db.session_scope(db_url) as s:
        version = s.scalars(select(RosterVersion).where(RosterVersion.number == 2)).one()
        again = [v for v in version.visits if v.request_key == ids["Raissa#"]]
        assert [(v.status, v.volunteer.external_id, v.starts_at) for v in again] == [("cancelled", *kept)]
        assert ids["Raissa#"] not in {u.request_key for u in version.unassigned}


def test_a_replan_may_move_other_visits_to_re_cover_freed_ones_and_lists_every_move(cli, db_url):
    setup_world(db_url)
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "5").exit_code == 0
    published = visits_by_request(db_url, 1)
    busiest = max({v for v, _ in published.values()}, key=lambda v: sum(1 for x, _ in published.values() if x == v))
    theirs = {key for key, (v, _) in published.items() if v == busiest}
    absent = ("override", "absence", busiest, "--from", "2026-11-23", "--to", "2026-11-29", "--reason", "ill")
    assert cli(*absent).exit_code == 0
    result = cli("--now", SUNDAY_BEFORE, "roster", "replan", "--week", WEEK, "--time-limit", "5")
    assert result.exit_code == 0, result.stderr
    with db.session_scope(db_url) as s:
        version = s.scalars(select(RosterVersion).where(RosterVersion.number == 2)).one()
        stats = version.stats["solver"]
    moved = {m["request"] for m in stats["moves"]}
    replanned = visits_by_request(db_url, 2)
    others_changed = {key for key in published.keys() - theirs if replanned.get(key) != published[key]}
    assert others_changed == moved  # nobody else's visit changed unless it is listed as a move
    assert stats["moved"] == len(stats["moves"]) <= 2 * stats["freed"]
    cutoff = datetime.fromisoformat(SUNDAY_BEFORE) + timedelta(hours=48)
    for move in stats["moves"]:
        assert move["for"] in theirs
        assert datetime.fromisoformat(move["from"]["start"]) >= cutoff
        assert datetime.fromisoformat(move["to"]["start"]) >= cutoff
        assert f"{move['request']}: " in result.stdout
    assert planning.moves_in_words({"stats": {"moves": []}}) == []
    line = planning.moves_in_words(
        {
            "stats": {
                "moves": [
                    {
                        "request": "c020-1#1",
                        "for": "c017-2#1",
                        "from": {"volunteer": "v003", "start": "2026-11-24T14:00:00+01:00"},
                        "to": {"volunteer": "v008", "start": "2026-11-24T15:30:00+01:00"},
                    }
                ]
            }
        }
    )
    assert line == ["c020-1#1: v003 Tue 24.11. 14:00 → v008 Tue 24.11. 15:30 (to re-cover c017-2#1)"]


def test_a_replan_moves_a_visit_when_only_its_volunteer_can_re_cover_a_freed_one(cli, db_url):
    """Amal speaks only Arabic; of the volunteers only Samir and Karim do, and both are free
    on Wednesday 13-15 only, when Erika (German) wants her visit too. One of them falls ill
    after a German-speaking volunteer has joined: the replan re-covers Amal by moving
    Erika's visit to the newcomer, lists that move, and the diff says why it moved."""
    wednesday = (("wed", "13:00", "15:00"),)
    with db.session_scope(db_url) as s:
        factories.organisation(s)
        for name in ("Samir", "Karim"):
            factories.volunteer(s, first_name=name, languages=["ar", "de"], availability=wednesday)
        amal = factories.care_request(s, factories.client(s, first_name="Amal", languages=["ar"]), windows=wednesday)
        erika = factories.care_request(s, factories.client(s, first_name="Erika", languages=["de"]), windows=wednesday)
        freed, other = f"{amal.external_id}#1", f"{erika.external_id}#1"
    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "5").exit_code == 0
    planned = visits_by_request(db_url, 1)
    ill, keeper = planned[freed][0], planned[other][0]
    with db.session_scope(db_url) as s:
        newcomer = factories.volunteer(s, first_name="Anna", languages=["de"], availability=wednesday).external_id
    absent = ("override", "absence", ill, "--from", "2026-11-23", "--to", "2026-11-29", "--reason", "ill")
    assert cli(*absent).exit_code == 0

    result = cli("--now", SUNDAY_BEFORE, "roster", "replan", "--week", WEEK, "--time-limit", "5")
    assert result.exit_code == 0, result.stderr

    replanned = visits_by_request(db_url, 2)
    assert (replanned[freed][0], replanned[other][0]) == (keeper, newcomer)
    with db.session_scope(db_url) as s:
        moves = s.scalars(select(RosterVersion).where(RosterVersion.number == 2)).one().stats["solver"]["moves"]
    assert [(m["request"], m["for"], m["from"]["volunteer"], m["to"]["volunteer"]) for m in moves] == [
        (other, freed, keeper, newcomer)
    ]
    assert f"{other}: {keeper} Wed 25.11. 13:00 → {newcomer} Wed 25.11. 13:00 (to re-cover {freed})" in result.stdout
    diff = json.loads(cli("roster", "diff", "--week", WEEK, "--format", "json").stdout)
    why = {change["request"]: change["why"] for change in diff["changes"]}
    assert why[other] == [f"moved to re-cover {freed}"]
    assert any("ill" in reason for reason in why[freed])
    with db.session_scope(db_url) as s:  # and the rescued roster keeps every hard rule
        for version in s.scalars(select(RosterVersion)):
            report = solver_check(version.instance, roster_document(version))
            assert report.ok, report.violations
