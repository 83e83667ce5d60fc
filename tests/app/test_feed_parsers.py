"""Our calendar files read by real parsers across the switches to and from summer time,
and scanned for health data.

Two independent parsers read every exported file: Mozilla's ical.js (Thunderbird's parser,
run with node) and vobject (Python, its own VTIMEZONE interpretation through dateutil).
Both must agree with each other and with the start we meant, computed here from the
wall-clock time and zoneinfo, not from carecal's generator.
"""

import io
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select
from starlette.testclient import TestClient

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.app import RateLimiter, create_app
from carecal.weeks import IsoWeek
from tests import factories as f

JS_DIR = Path(__file__).resolve().parents[1] / "js"
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BERLIN = ZoneInfo("Europe/Berlin")


def intended(day: date, hhmm: str) -> str:
    """The instant a Berlin wall-clock time means, in UTC, as the parsers print it."""
    wall = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=BERLIN)
    return wall.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="session")
def icaljs():
    """parse(path) → events as ical.js reads them. Installs ical.js from the committed lock
    file when needed; without node/npm the tests skip locally and fail under CI."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        message = f"ical.js tests need {' and '.join(missing)} (apt-get install nodejs npm)"
        if UNDER_CI:
            pytest.fail(message)
        pytest.skip(message)
    if not (JS_DIR / "node_modules" / "ical.js").exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def parse(path: Path) -> list[dict]:
        done = subprocess.run(
            ["node", str(JS_DIR / "ics_starts.mjs"), str(path)], check=True, capture_output=True, text=True, timeout=60
        )
        return json.loads(done.stdout)

    return parse


def vobject_events(path: Path) -> list[dict]:
    calendar = vobject.readOne(path.read_text(encoding="utf-8"))
    utc = lambda value: value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return [
        {
            "uid": event.uid.value,
            "sequence": int(event.sequence.value),
            "status": event.status.value,
            "summary": event.summary.value,
            "start_utc": utc(event.dtstart.value),
            "end_utc": utc(event.dtend.value),
            "alarms": [
                {
                    "action": alarm.action.value,
                    "description": alarm.description.value,
                    # an absolute trigger is a moment, a relative one a duration from the start
                    "at_utc": utc(
                        event.dtstart.value + alarm.trigger.value
                        if isinstance(alarm.trigger.value, timedelta)
                        else alarm.trigger.value
                    ),
                }
                for alarm in getattr(event, "valarm_list", [])
            ],
        }
        for event in getattr(calendar, "vevent_list", [])
    ]


# A realistic little association: four volunteers in four languages, clients with health
# data on file, two DST weeks, and a replan of the October week. Per week: request →
# (volunteer, day, start) in the first publication, then in the replan (None = dropped).
OCT, MAR = "2026-W43", "2026-W13"
PLAN = {
    OCT: [
        {
            "r1": ("de", date(2026, 10, 24), "10:00"),
            "r2": ("ru", date(2026, 10, 25), "10:00"),
            "r3": ("uk", date(2026, 10, 21), "09:00"),
            "r4": ("en", date(2026, 10, 25), "16:00"),
        },
        {
            "r1": ("de", date(2026, 10, 24), "10:00"),
            "r2": ("uk", date(2026, 10, 25), "10:00"),
            "r3": ("uk", date(2026, 10, 22), "11:00"),
            "r4": None,
        },
    ],
    MAR: [
        {
            "r1": ("de", date(2026, 3, 28), "10:00"),
            "r2": ("ru", date(2026, 3, 29), "10:00"),
            "r3": ("uk", date(2026, 3, 29), "03:30"),
            "r4": ("en", date(2026, 3, 29), "01:30"),
        },
    ],
}
CLIENT_OF = {"r1": "Erika", "r2": "Raissa", "r3": "Halyna", "r4": "Wassili"}
FAMILY = {"Raissa", "Wassili"}


def expected_files(week: str) -> dict[str, Counter]:
    """File name → Counter of (start_utc, status), derived from PLAN by hand-written rules:
    a volunteer keeps every visit they ever had, cancelled where it left them."""
    versions = PLAN[week]
    files: dict[str, Counter] = {}
    final = versions[-1]
    for request, first in versions[0].items():
        who, day, hhmm = first
        last_own = (day, hhmm)
        for version in versions[1:]:
            now = version[request]
            if now and now[0] == who:
                last_own = now[1:]
        now = final[request]
        mine_now = now is not None and now[0] == who
        files.setdefault(f"volunteer-{who}", Counter())[
            (intended(*last_own), "CONFIRMED" if mine_now else "CANCELLED")
        ] += 1
        if now is not None and now[0] != who:
            files.setdefault(f"volunteer-{now[0]}", Counter())[(intended(*now[1:]), "CONFIRMED")] += 1
        office = (intended(*(now[1:] if now else last_own)), "CONFIRMED" if now else "CANCELLED")
        files.setdefault("office", Counter())[office] += 1
        if CLIENT_OF[request] in FAMILY:
            files.setdefault(f"family-{CLIENT_OF[request]}", Counter())[office] += 1
    return files


@pytest.fixture
def association(db_url):
    """The PLAN in a database; returns {volunteer language: external_id, client first name: external_id}."""
    ids = {}
    with db.session_scope(db_url) as s:
        f.organisation(s, phone="0371 5550100")
        volunteers = {
            lang: f.volunteer(s, first_name=name, ui_language=lang, availability=(), trainings=())
            for lang, name in (("de", "Anna"), ("ru", "Natalia"), ("uk", "Olena"), ("en", "Sam"))
        }
        clients = {
            "Erika": f.client(
                s,
                first_name="Erika",
                last_name="Zimmermann",
                dementia=True,
                care_grade=4,
                date_of_birth=date(1938, 2, 17),
                insurance_number="K123456789",
            ),
            "Raissa": f.client(
                s,
                first_name="Raissa",
                last_name="Petrowa",
                care_grade=2,
                family_feed_opt_in=True,
                date_of_birth=date(1941, 5, 9),
                insurance_number="R987654321",
            ),
            "Halyna": f.client(
                s,
                first_name="Halyna",
                last_name="Shevchenko",
                dementia=True,
                care_grade=3,
                date_of_birth=date(1944, 11, 30),
                insurance_number="H555000111",
                street="Zietenstr. 7",
                postcode="09130",
                district="Sonnenberg",
            ),
            "Wassili": f.client(
                s,
                first_name="Wassili",
                last_name="Iwanow",
                care_grade=5,
                family_feed_opt_in=True,
                date_of_birth=date(1936, 12, 1),
                insurance_number="W246813579",
            ),
        }
        notes = {  # the office's own words: they stay in the office
            "r1": "Begleitung zur Demenzgruppe",
            "r2": "Spaziergang und Gespräch",
            "r3": "Vorlesen",
            "r4": "Einkauf begleiten",
        }
        requests = {r: f.care_request(s, clients[CLIENT_OF[r]], note=notes[r]) for r in CLIENT_OF}
        for week, versions in PLAN.items():
            for n, version in enumerate(versions):
                if n:
                    f.republish(s, week, datetime(2026, 10, 20 + n, 9, tzinfo=UTC))
                for request, placed in version.items():
                    if placed:
                        lang, day, hhmm = placed
                        assert str(IsoWeek.containing(day)) == week, f"{day} is not in {week}"
                        f.published_visit(
                            s,
                            week,
                            requests[request],
                            volunteers[lang],
                            day=("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()],
                            start=hhmm,
                        )
        ids.update({lang: v.external_id for lang, v in volunteers.items()})
        ids.update({name: c.external_id for name, c in clients.items()})
    return ids


def _exported(cli, tmp_path: Path, week: str, ids: dict) -> dict[str, Path]:
    result = cli("export", "ical", "--week", week, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    by_external_id = {v: k for k, v in ids.items()}
    files = {}
    for path in sorted(tmp_path.glob(f"{week}-*.ics")):
        kind, _, ext_id = path.stem.removeprefix(f"{week}-").partition("-")
        files[f"{kind}-{by_external_id[ext_id]}" if ext_id else kind] = path
    return files


# One xdist worker runs every ical.js test, so only one `npm ci` ever runs at a time.
ICALJS_GROUP = pytest.mark.xdist_group("icaljs")


@ICALJS_GROUP
@pytest.mark.parametrize("week", [OCT, MAR])
def test_both_parsers_read_every_start_as_intended_across_a_dst_week(week, association, cli, tmp_path, icaljs):
    files = _exported(cli, tmp_path, week, association)
    expected = expected_files(week)
    assert set(files) == set(expected)
    for name, path in files.items():
        by_icaljs, by_vobject = icaljs(path), vobject_events(path)
        assert all(e.pop("tzid") == "Europe/Berlin" for e in by_icaljs), f"{name}: every start has TZID"
        key = lambda e: e["uid"]  # noqa: E731
        assert sorted(by_icaljs, key=key) == sorted(by_vobject, key=key), name
        assert Counter((e["start_utc"], e["status"]) for e in by_icaljs) == expected[name], name


@ICALJS_GROUP
def test_the_replanned_week_keeps_uids_and_raises_sequences(association, cli, tmp_path, icaljs):
    files = _exported(cli, tmp_path, OCT, association)
    office = {e["start_utc"]: e for e in icaljs(files["office"])}
    moved_volunteer = office[intended(date(2026, 10, 25), "10:00")]
    moved_time = office[intended(date(2026, 10, 22), "11:00")]
    unchanged = office[intended(date(2026, 10, 24), "10:00")]
    dropped = office[intended(date(2026, 10, 25), "16:00")]
    assert [e["sequence"] for e in (unchanged, moved_volunteer, moved_time, dropped)] == [0, 1, 1, 1]
    assert dropped["status"] == "CANCELLED" and "Abgesagt" in dropped["summary"]
    # the volunteer who lost a visit reads the cancellation in Russian
    (lost,) = icaljs(files["volunteer-ru"])
    assert lost["status"] == "CANCELLED" and lost["summary"].startswith("Отменено:")


# Words that betray health data, in the feeds' four languages.
HEALTH_WORDS = (
    "demenz",
    "dementia",
    "деменц",
    "alzheimer",
    "pflegegrad",
    "care grade",
    "pflegestufe",
    "diagnos",
    "диагноз",
    "діагноз",
    "versicherungsnummer",
    "insurance",
    "страхов",
    "geburt",
    "birth",
    "рожден",
    "народжен",
    "aok",
)


def _health_values(client) -> list[str]:
    dob = client["date_of_birth"]
    values = [
        client["insurance_number"],
        client["last_name"],
        dob.isoformat(),
        dob.strftime("%d.%m.%Y"),
        dob.strftime("%Y%m%d"),
        dob.strftime("%d.%m.%y"),
    ]
    return [value for value in values if value]


def _assert_no_health_data(name: str, body: bytes, clients: list[dict]) -> None:
    text = re.sub(r"\r\n[ \t]", "", body.decode("utf-8")).lower()  # unfold long lines first
    for word in HEALTH_WORDS:
        assert word not in text, f"{name} mentions {word!r}"
    for client in clients:
        for value in _health_values(client):
            # as a whole word: the client Wolkow is not in the volunteer Nina Wolkowa's name
            found = re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", text)
            assert not found, f"{name} contains a client's {value!r}"
        assert f"pflegegrad {client['grade']}" not in text


def test_no_feed_or_export_contains_health_data(association, cli, tmp_path, db_url):
    from carecal.models import Client, Volunteer

    bodies = {}
    for week in PLAN:
        bodies.update({f"{week} {n}": p.read_bytes() for n, p in _exported(cli, tmp_path, week, association).items()})
    with db.session_scope(db_url) as s:  # the served subscriptions too
        owners = [*s.query(Volunteer).all(), *s.query(Client).filter_by(family_feed_opt_in=True).all()]
        links = {o.external_id: tokens.issue(s, o, "coordinator") for o in owners}
        clients = [
            {
                "date_of_birth": c.date_of_birth,
                "insurance_number": c.insurance_number,
                "last_name": c.last_name,
                "grade": c.care_grade_on(date(2026, 10, 1)),
            }
            for c in s.query(Client)
        ]
    server = TestClient(
        create_app(db_url, clock=lambda: datetime(2026, 10, 21, 12, tzinfo=UTC), rate_limiter=RateLimiter(burst=100))
    )
    for owner, token in links.items():
        response = server.get(f"/feeds/{token}.ics")
        assert response.status_code == 200
        bodies[f"feed {owner}"] = response.content
    assert sum(b.count(b"BEGIN:VEVENT") for b in bodies.values()) > 20

    for name, body in bodies.items():
        _assert_no_health_data(name, body, clients)
    # the first name and initial, and the address, are what a volunteer gets
    assert "halyna s." in re.sub(r"\r\n[ \t]", "", bodies[f"{OCT} volunteer-uk"].decode()).lower()
    assert (
        "zietenstr. 7\\, 09130 chemnitz (sonnenberg)"
        in re.sub(r"\r\n[ \t]", "", bodies[f"{OCT} volunteer-uk"].decode()).lower()
    )


@ICALJS_GROUP
@pytest.mark.slow
def test_the_demos_calendars_of_a_dst_week_parse_identically_and_carry_no_health_data(sqlite_url, tmp_path, icaljs):
    """The demo in the week summer time ends (2026-W43): the master data from data/, the
    week planned and published by the solver on the Friday before, then our step. Both
    parsers must read every file alike and place every visit at the instant stored in the
    database."""
    from rich.console import Console

    from carecal import clock
    from carecal.demo import DemoContext, DemoWeeks, planned_at, run_demo
    from carecal.feeds.demo import write_calendars
    from carecal.models import Client, RosterWeek, Volunteer
    from carecal.roster.demo import plan_week

    def publish_this_week(ctx):
        with clock.frozen(planned_at(ctx.weeks.this)):
            plan_week(ctx, ctx.weeks.this, publish=True)

    weeks = DemoWeeks.around(IsoWeek.parse(OCT).monday)
    ctx = DemoContext(url=sqlite_url, out=tmp_path, console=Console(file=io.StringIO()), time_limit=2.0, weeks=weeks)
    run_demo(ctx, steps=[publish_this_week, write_calendars])  # any published roster will do

    with db.session_scope(sqlite_url) as s:
        visits = s.scalars(select(RosterWeek).where(RosterWeek.week == OCT)).one().published.visits
        stored = Counter(v.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") for v in visits)
        # A surname a volunteer shares (the office file names volunteers in full) is not the client's.
        volunteer_names = {v.last_name for v in s.query(Volunteer)}
        clients = [
            {
                "date_of_birth": c.date_of_birth,
                "insurance_number": c.insurance_number,
                "last_name": None if c.last_name in volunteer_names else c.last_name,
                "grade": c.care_grade_on(date(2026, 10, 19)),
            }
            for c in s.query(Client)
        ]
    files = sorted(tmp_path.glob(f"{OCT}-*.ics"))
    assert len(files) > 3 and sum(stored.values()) > 10
    for path in files:
        by_icaljs, by_vobject = icaljs(path), vobject_events(path)
        assert all(e.pop("tzid") == "Europe/Berlin" for e in by_icaljs)
        assert sorted(by_icaljs, key=lambda e: e["uid"]) == sorted(by_vobject, key=lambda e: e["uid"]), path.name
        if path.name.endswith("-office.ics"):
            assert Counter(e["start_utc"] for e in by_icaljs) == stored
        _assert_no_health_data(path.name, path.read_bytes(), clients)
