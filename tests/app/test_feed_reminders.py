"""Reminders (VALARM) in volunteers' calendars: the times each chose, in their language,
read back by ical.js and by vobject."""

from datetime import UTC, datetime, timedelta

import pytest
import vobject

from carecal import db
from carecal.errors import InputError
from carecal.feeds import reminders
from carecal.feeds.calendars import write_week
from carecal.masterdata.importer import import_file
from carecal.models import Volunteer
from carecal.weeks import IsoWeek
from tests import factories as f
from tests.app.test_feed_parsers import icaljs  # noqa: F401  (the fixture)

# Sunday 29 March 2026, the night summer time starts: a visit at 10:00 CEST (08:00 UTC).
# Its evening-before reminder is Saturday 18:00 CET (17:00 UTC), 15 hours before, not 16.
WEEK = "2026-W13"


def _utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def files(db_url, tmp_path):
    """The week's files: Olga (ru, default reminders), Ivan (own choice), Nina (none), and
    a cancelled visit of Olga's; a family who opted in."""
    with db.session_scope(db_url) as s:
        f.organisation(s)
        olga = f.volunteer(s, first_name="Olga", ui_language="ru")
        ivan = f.volunteer(s, first_name="Ivan", ui_language="en", reminders=["30m", "0d@08:00", "0d@12:00"])
        nina = f.volunteer(s, first_name="Nina", reminders=[])
        raissa = f.client(s, first_name="Raissa", family_feed_opt_in=True)
        request = f.care_request(s, raissa, windows=(("sun", "08:00", "18:00"),), visits_per_week=4)
        f.published_visit(s, WEEK, request, olga, day="sun", start="10:00")
        f.published_visit(s, WEEK, request, ivan, day="sun", start="10:00")
        f.published_visit(s, WEEK, request, nina, day="sun", start="10:00")
        f.published_visit(s, WEEK, request, olga, day="sat", start="15:00", status="cancelled")
        names = {v.first_name: v.external_id for v in (olga, ivan, nina)}
        write_week(s, IsoWeek.parse(WEEK), tmp_path)
    return {name: tmp_path / f"{WEEK}-volunteer-{external_id}.ics" for name, external_id in names.items()} | {
        "family": tmp_path / f"{WEEK}-family-{raissa.external_id}.ics",
        "office": tmp_path / f"{WEEK}-office.ics",
    }


def _vobject_alarms(path) -> dict[str, list[tuple[str, str, str]]]:
    """status → [(action, description, moment in UTC)] per event, as vobject reads them."""
    calendar = vobject.readOne(path.read_text(encoding="utf-8"))
    found = {}
    for event in getattr(calendar, "vevent_list", []):
        start = event.dtstart.value
        found.setdefault(event.status.value, []).append(
            sorted(
                (
                    alarm.action.value,
                    alarm.description.value,
                    _moment(start, alarm.trigger.value),
                )
                for alarm in getattr(event, "valarm_list", [])
            )
        )
    return found


def _moment(start: datetime, trigger) -> str:
    moment = start + trigger if isinstance(trigger, timedelta) else trigger
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _icaljs_alarms(parse, path) -> dict[str, list]:
    found = {}
    for event in parse(path):
        found.setdefault(event["status"], []).append(
            sorted((a["action"], a["description"], a["at_utc"]) for a in event["alarms"])
        )
    return found


def test_both_parsers_read_the_chosen_reminders_at_the_intended_moments(files, icaljs):  # noqa: F811
    olga = [
        ("DISPLAY", "Напоминание: Визит: Raissa P.", _utc("2026-03-28T18:00:00+01:00")),
        ("DISPLAY", "Напоминание: Визит: Raissa P.", _utc("2026-03-29T09:00:00+02:00")),
    ]
    ivan = [  # 30 minutes before and the same morning at 08:00; 12:00 would be after the start
        ("DISPLAY", "Reminder: Visit to Raissa P.", _utc("2026-03-29T08:00:00+02:00")),
        ("DISPLAY", "Reminder: Visit to Raissa P.", _utc("2026-03-29T09:30:00+02:00")),
    ]
    expected = {
        "Olga": {"CONFIRMED": [olga], "CANCELLED": [[]]},  # no reminder to go to a cancelled visit
        "Ivan": {"CONFIRMED": [ivan]},
        "Nina": {"CONFIRMED": [[]]},
        "family": {"CONFIRMED": [[]] * 3, "CANCELLED": [[]]},
        "office": {"CONFIRMED": [[]] * 3, "CANCELLED": [[]]},
    }
    for name, want in expected.items():
        assert _vobject_alarms(files[name]) == want, name
        assert _icaljs_alarms(icaljs, files[name]) == want, name
    # a day and time is an absolute moment (apps disagree on durations across the switch)
    assert "TRIGGER;VALUE=DATE-TIME:20260328T170000Z" in files["Olga"].read_text()


def test_parse_accepts_durations_day_times_and_none_and_says_what_is_wrong():
    assert reminders.parse("1d@18:00, 1h") == ("1d@18:00", "1h")
    assert reminders.parse("90m; 0d@08:05; 90m") == ("90m", "0d@08:05")
    assert reminders.parse("none") == ()
    for bad in ("", "soon", "0h", "1d@25:00", "1d@18", "none, 1h", "1w"):
        with pytest.raises(ValueError, match="reminder"):
            reminders.parse(bad)
    assert reminders.describe(None) == "default (1d@18:00, 1h)" and reminders.describe([]) == "none"
    start = datetime(2026, 11, 24, 13, tzinfo=UTC)  # Tuesday 14:00 in Chemnitz
    (evening, hour) = reminders.reminders(None)
    assert evening.trigger(start, "Europe/Berlin") == datetime(2026, 11, 23, 17, tzinfo=UTC)
    assert hour.trigger(start, "Europe/Berlin") == -timedelta(hours=1)


def test_the_cli_sets_shows_and_resets_a_volunteers_reminders(cli, db_url):
    with db.session_scope(db_url) as s:
        anna = f.volunteer(s).external_id
    assert cli("feed", "reminders", anna).stdout.strip() == f"{anna}: reminders default (1d@18:00, 1h)"
    assert cli("feed", "reminders", anna, "--set", "2h, 1d@19:30").exit_code == 0
    with db.session_scope(db_url) as s:
        assert s.query(Volunteer).filter_by(external_id=anna).one().reminders == ["2h", "1d@19:30"]
    bad = cli("feed", "reminders", anna, "--set", "tomorrow")
    assert bad.exit_code == 2 and "'tomorrow' is not a reminder" in bad.stderr
    assert cli("feed", "reminders", anna, "--set", "none").stdout.strip() == f"{anna}: reminders none"
    assert cli("feed", "reminders", anna, "--set", "default").exit_code == 0
    with db.session_scope(db_url) as s:
        assert s.query(Volunteer).filter_by(external_id=anna).one().reminders is None


def test_the_volunteer_import_reads_reminders(db_url, tmp_path):
    header = (
        "external_id,first_name,last_name,gender,languages,travel_mode,max_km,max_minutes_per_week,district,reminders"
    )
    rows = [
        "v1,Anna,A,f,de,walk,3,600,Zentrum,1d@18:00; 30m",
        "v2,Boris,B,m,ru,walk,3,600,Zentrum,none",
        "v3,Clara,C,f,de,walk,3,600,Zentrum,",
    ]
    path = tmp_path / "volunteers.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    with db.session_scope(db_url) as s:
        f.organisation(s)
        import_file(s, "volunteers", path, actor="coordinator")
    with db.session_scope(db_url) as s:
        stored = {v.external_id: v.reminders for v in s.query(Volunteer)}
    assert stored == {"v1": ["1d@18:00", "30m"], "v2": [], "v3": None}
    path.write_text(header + "\nv1,Anna,A,f,de,walk,3,600,Zentrum,later\n", encoding="utf-8")
    with pytest.raises(InputError) as error, db.session_scope(db_url) as s:
        import_file(s, "volunteers", path, actor="coordinator")
    assert "reminders" in str(error.value) and "'later' is not a reminder" in str(error.value)


def test_a_same_day_reminder_is_left_out_when_it_would_come_after_the_start():
    item = reminders.reminders(["0d@08:00"])[0]
    assert item.trigger(datetime(2026, 3, 29, 8, tzinfo=UTC), "Europe/Berlin") == datetime(2026, 3, 29, 6, tzinfo=UTC)
    assert item.trigger(datetime(2026, 3, 29, 5, tzinfo=UTC), "Europe/Berlin") is None  # 07:00 CEST: too late
