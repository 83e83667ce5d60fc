"""The activity catalogue end to end: what the office writes about one client or one visit
never reaches a calendar, whichever way it is typed in; calendars show the catalogue's
label in the reader's language (a Russian-only volunteer reads Russian)."""

import re
from datetime import UTC, datetime

from starlette.testclient import TestClient

from carecal.feeds.app import RateLimiter, create_app
from carecal.masterdata.paths import DATA_DIR

WEEK = "2026-W48"
AFTER_THE_WEEK = "2026-11-30T10:00:00+01:00"
# What a security review typed into carecal (issue 10): health words in Russian and German,
# and free text in the activity.
HEALTH_TEXT = "Tätigkeit: Группа по деменции / Dialyse"
VISIT_TEXT = "Сопровождение к врачу, Chemotherapie, Onkologe"
FORBIDDEN = (
    "Группа по деменции",
    "деменц",
    "Dialyse",
    "Сопровождение к врачу",
    "Chemotherapie",
    "Onkologe",
    "врач",
)

VOLUNTEERS = (
    "external_id,first_name,last_name,gender,district,languages,ui_language,travel_mode,max_km,"
    "max_minutes_per_week,availability,trainings\n"
    "v001,Natalia,Wolkowa,f,Zentrum,ru,,transit,10,600,mon 08:00-18:00; tue 08:00-18:00,"
    "basic:2025-01-01:; dementia:2025-01-01:\n"
)
CLIENTS = (
    "external_id,first_name,last_name,date_of_birth,district,languages,dementia,care_grades,family_feed_opt_in\n"
    "c001,Raissa,Petrowa,1941-05-09,Zentrum,ru; de,yes,3:2024-01-01,yes\n"
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def requests_csv(activity: str) -> str:
    return (
        "external_id,client_id,activity,duration_min,windows,valid_from,note\n"
        f"c001-1,c001,{activity},120,tue 13:00-17:00,2026-01-01,{HEALTH_TEXT}\n"
    )


def unfolded(body: bytes) -> str:
    return re.sub(r"\r\n[ \t]", "", body.decode("utf-8"))


def test_no_office_text_reaches_any_calendar_and_each_reader_gets_their_language(cli, db_url, tmp_path):
    assert cli("import", "organisation", DATA_DIR / "organisation.json").exit_code == 0
    assert cli("import", "clients", write(tmp_path, "c.csv", CLIENTS)).exit_code == 0
    assert cli("import", "volunteers", write(tmp_path, "v.csv", VOLUNTEERS)).exit_code == 0

    # free text where the catalogue key belongs is refused, and not echoed back
    refused = cli("import", "requests", write(tmp_path, "bad.csv", requests_csv("Группа по деменции")))
    assert refused.exit_code == 2 and "value (hidden: not a catalogue key): not an activity key" in refused.stderr
    assert cli("import", "requests", write(tmp_path, "r.csv", requests_csv("reading"))).exit_code == 0

    assert cli("roster", "plan", "--week", WEEK, "--time-limit", "2").exit_code == 0
    assert cli("roster", "publish", "--week", WEEK).exit_code == 0
    shown = cli("roster", "show", "--week", WEEK, "--format", "json")
    visit_id = _visit_id(db_url)
    assert '"activity": "Vorlesen und Gespräch"' in shown.stdout

    # a visit's activity is a catalogue key too; the office's words go into the note
    free = cli("--now", AFTER_THE_WEEK, "visit", "record", visit_id, "--status", "delivered", "--activity", "Dialyse")
    assert free.exit_code == 2 and "--activity (hidden: not a catalogue key) is not a key" in free.stderr
    assert "Dialyse" not in free.stderr
    recorded = cli(
        "--now", AFTER_THE_WEEK,
        "visit", "record", visit_id, "--status", "delivered", "--activity", "park_walk", "--note", VISIT_TEXT,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.stderr

    volunteer_link = re.search(r"/feeds/(\S+)\.ics", cli("feed", "url", "v001").stdout)[1]
    family_link = re.search(r"/feeds/(\S+)\.ics", cli("feed", "url", "c001", "--client").stdout)[1]
    server = TestClient(
        create_app(db_url, clock=lambda: datetime(2026, 11, 25, tzinfo=UTC), rate_limiter=RateLimiter())
    )
    feeds = {
        "volunteer": unfolded(server.get(f"/feeds/{volunteer_link}.ics").content),
        "family": unfolded(server.get(f"/feeds/{family_link}.ics").content),
    }
    assert cli("export", "ical", "--week", WEEK, "--out", tmp_path / "ics").exit_code == 0
    files = {path.name: unfolded(path.read_bytes()) for path in (tmp_path / "ics").glob("*.ics")}
    assert len(files) == 3  # the volunteer's, the family's and the office's

    for name, text in {**feeds, **files}.items():
        assert "BEGIN:VEVENT" in text, name
        for forbidden in FORBIDDEN:
            assert forbidden not in text, f"{name} contains {forbidden!r}"
    # the Russian-only volunteer (no calendar language chosen) reads Russian, labels included
    assert "Чтение вслух и беседа" in feeds["volunteer"] and "LANGUAGE=ru" in feeds["volunteer"]
    assert "Vorlesen und Gespräch" in feeds["family"]  # families read German


def _visit_id(db_url) -> int:
    from sqlalchemy import select

    from carecal import db
    from carecal.models import Visit

    with db.session_scope(db_url) as s:
        return s.scalars(select(Visit.id)).one()
