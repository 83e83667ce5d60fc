"""What a newcomer trips over: the version, ids to act on, filters and options that would
otherwise quietly do nothing, and an audit trail an auditor can follow."""

import csv
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from carecal import __version__, audit, clock, db
from carecal.billing import records
from carecal.models import AuditEvent, Visit
from carecal.weeks import IsoWeek
from tests import factories as f

WEEK = "2026-W45"


def a_published_week(db_url) -> dict:
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        volunteer = f.volunteer(s)
        client = f.client(s)
        request = f.care_request(s, client)
        visits = [f.published_visit(s, WEEK, request, volunteer, day=d) for d in ("tue", "thu")]
        return {"volunteer": volunteer.external_id, "client": client.external_id, "visits": [v.id for v in visits]}


def test_carecal_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"carecal {__version__}"


def test_roster_show_gives_the_visit_ids_that_visit_record_takes_in_every_format(cli, db_url):
    ids = a_published_week(db_url)
    table = cli("roster", "show", "--week", WEEK)
    assert table.exit_code == 0 and "visit" in table.stdout and "stage" in table.stdout
    first_cells = [line.split("│")[1].strip() for line in table.stdout.splitlines() if line.startswith("│")]
    assert [int(cell) for cell in first_cells if cell.isdigit()] == ids["visits"], table.stdout
    json_rows = json.loads(cli("roster", "show", "--week", WEEK, "--format", "json").stdout)["visits"]
    assert [r["visit"] for r in json_rows] == ids["visits"] and {r["stage"] for r in json_rows} == {"published"}
    csv_rows = list(csv.DictReader(cli("roster", "show", "--week", WEEK, "--format", "csv").stdout.splitlines()))
    assert [int(r["visit"]) for r in csv_rows] == ids["visits"]
    # the id goes straight into `visit record`
    assert cli("visit", "record", str(ids["visits"][0]), "--status", "no-show").exit_code == 0
    again = json.loads(cli("roster", "show", "--week", WEEK, "--format", "json").stdout)["visits"]
    assert again[0]["stage"] == "no-show"


def test_an_unknown_id_in_a_filter_is_an_error_not_an_empty_list(cli, db_url):
    a_published_week(db_url)
    for args, code, says in [
        (("roster", "show", "--week", WEEK, "--volunteer", "v999"), 3, "no volunteer with id 'v999'"),
        (("roster", "show", "--week", WEEK, "--client", "c999"), 3, "no client with id 'c999'"),
        (("client", "list", "--district", "Markersdorff"), 2, "did you mean Markersdorf"),
        (("volunteer", "list", "--language", "russian"), 2, "not an ISO 639-1 code"),
    ]:
        result = cli(*args)
        assert result.exit_code == code, (args, result.output)
        assert says in " ".join(result.stderr.split()), (args, result.stderr)


def test_an_option_a_command_does_not_honour_is_refused(cli, db_url):
    a_published_week(db_url)
    for command in (("roster", "diff", "--week", WEEK), ("roster", "explain", "--week", WEEK, "x#1")):
        result = cli(*command, "--format", "csv")
        assert result.exit_code == 2 and "csv" in result.stderr and "is not one of" in result.stderr


def test_every_audit_event_names_its_object_and_no_record_is_modified_before_it_was_made(cli, db_url, tmp_path):
    ids = a_published_week(db_url)
    with clock.frozen(datetime(2026, 11, 20, 9, tzinfo=UTC)):
        assert cli("visit", "record", str(ids["visits"][0]), "--status", "delivered").exit_code == 0
        assert cli("visit", "confirm", "--week", WEEK).exit_code == 0
        assert (
            cli("visit", "record", str(ids["visits"][1]), "--status", "no-show", "--reason", "not home").exit_code == 0
        )
    with db.session_scope(db_url) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("visit.%"))).all()
        assert [(e.action, e.object_type, e.object_id) for e in events] == [
            ("visit.record", "visit", str(ids["visits"][0])),
            ("visit.confirm", "visit", str(ids["visits"][1])),
            ("visit.record.change", "visit", str(ids["visits"][1])),
        ]
        assert all(e.object_id for e in s.scalars(select(AuditEvent)))
        for visit_id in ids["visits"]:
            record = records.record_of(s, s.get(Visit, visit_id))
            assert record.created_at <= record.updated_at
    out = tmp_path / "hours.csv"
    assert cli("export", "hours", "--month", "2026-11", "-o", out).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 2 and all(r["created_at"] <= r["modified_at"] for r in rows)


def test_an_audit_event_that_names_no_object_is_never_written(db_url):
    with db.session_scope(db_url) as s:
        for object_type, object_id in (("visit", None), ("visit", ""), (None, 7)):
            with pytest.raises(ValueError, match="names no object"):
                audit.record(s, "anna", "visit.record", object_type=object_type, object_id=object_id)  # type: ignore[arg-type]
        assert s.scalars(select(AuditEvent)).all() == []


def test_an_export_period_that_ends_before_it_starts_is_refused_and_overwrites_nothing(cli, db_url, tmp_path):
    a_published_week(db_url)
    out = tmp_path / "audit-log.csv"
    assert cli("export", "audit-log", "-o", out).exit_code == 0
    before = out.read_bytes()
    result = cli("export", "audit-log", "--from", "2026-12-31", "--to", "2026-11-01", "-o", out)
    assert result.exit_code == 2 and "ends (2026-11-01) before it starts (2026-12-31)" in result.stderr
    assert out.read_bytes() == before


def test_a_week_that_has_not_begun_has_nothing_to_confirm(cli, db_url):
    a_published_week(db_url)
    result = cli("visit", "confirm", "--week", str(IsoWeek.containing(date(2026, 12, 1))))
    assert result.exit_code == 2 and "has not begun yet" in " ".join(result.stderr.split())
