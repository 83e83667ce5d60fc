"""Visit records: confirm a week, record one visit, history and audit of every change."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from carecal import clock
from carecal.billing import records
from carecal.errors import Conflict, InputError
from carecal.models import AuditEvent, VisitRecord
from carecal.weeks import IsoWeek
from tests import factories as f

AFTER = datetime(2026, 11, 20, tzinfo=UTC)


def week_with_visits(session, *, representative=None):
    org = f.organisation(session)
    f.billing_rates(session, org)
    volunteer = f.volunteer(session)
    client = f.client(session, representative_name=representative)
    request = f.care_request(session, client)
    planned = f.published_visit(session, "2026-W45", request, volunteer, day="tue")
    other = f.published_visit(session, "2026-W45", request, volunteer, day="thu", start="10:00")
    cancelled = f.published_visit(session, "2026-W45", request, volunteer, day="fri", status="cancelled")
    return planned, other, cancelled


def test_confirm_marks_published_visits_delivered_unless_recorded_otherwise(session):
    planned, other, cancelled = week_with_visits(session, representative="Sohn Pavel")
    records.record_visit(session, other.id, "coordinator", status="cancelled-by-client")
    result = records.confirm_week(session, IsoWeek.parse("2026-W45"), "coordinator")
    assert [r.visit_id for r in result.confirmed] == [planned.id]
    assert (result.already_recorded, result.cancelled_in_roster) == (1, 1)
    record = result.confirmed[0]
    assert (record.status, record.started_at, record.ended_at) == ("delivered", planned.starts_at, planned.ends_at)
    assert record.signature == "representative" and record.day == date(2026, 11, 3)
    assert session.get(VisitRecord, record.id) and len(record.changes) == 1
    # running it again changes nothing
    again = records.confirm_week(session, IsoWeek.parse("2026-W45"), "coordinator")
    assert again.confirmed == [] and again.already_recorded == 2


def test_confirm_leaves_visits_that_are_not_over_yet(session):
    planned, _, _ = week_with_visits(session)
    with clock.frozen(datetime(2026, 11, 4, tzinfo=UTC)):
        result = records.confirm_week(session, IsoWeek.parse("2026-W45"), "coordinator")
    assert [r.visit_id for r in result.confirmed] == [planned.id] and result.not_ended == 1


def test_every_change_keeps_its_history_and_is_audited(session):
    planned, _, _ = week_with_visits(session)
    records.record_visit(session, planned.id, "anna", status="delivered")
    with pytest.raises(InputError, match="say why"):
        records.record_visit(session, planned.id, "anna", status="delivered", end=time(15, 30))
    record = records.record_visit(
        session,
        planned.id,
        "boris",
        status="delivered",
        start=time(14, 10),
        end=time(15, 40),
        activity=f.activity(session, "reading", {"de": "Vorlesen"}).key,
        signature="none",
        signature_reason="Klientin schlief, Vertretung nicht erreichbar",
        reason="times from the volunteer's note",
    )
    assert record.minutes == 90 and record.updated_by == "boris" and record.created_by == "anna"
    assert [(c.actor, c.reason, c.state["start"], c.state["end"], c.state["signature"]) for c in record.changes] == [
        ("anna", None, "14:00", "16:00", "client"),
        ("boris", "times from the volunteer's note", "14:10", "15:40", "none"),
    ]
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("visit.record%"))).all()
    assert [e.action for e in events] == ["visit.record", "visit.record.change"]
    assert events[1].actor == "boris" and events[1].payload["reason"] == "times from the volunteer's note"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"status": "delivered", "signature": "none"}, "needs --signature-reason"),
        ({"status": "delivered", "start": time(16, 0), "end": time(15, 0)}, "not after start"),
        ({"status": "no-show", "signature": "client"}, "signature belongs to a delivered visit"),
        ({"status": "maybe"}, "use one of delivered"),
    ],
)
def test_bad_records_are_refused_with_a_clear_reason(session, fields, message):
    planned, _, _ = week_with_visits(session)
    with pytest.raises(InputError, match=message):
        records.record_visit(session, planned.id, "anna", **fields)


def test_a_future_visit_can_be_cancelled_but_not_delivered(session):
    planned, _, _ = week_with_visits(session)
    with clock.frozen(datetime(2026, 11, 1, tzinfo=UTC)):
        with pytest.raises(InputError, match="has not started yet"):
            records.record_visit(session, planned.id, "anna", status="delivered")
        assert records.record_visit(session, planned.id, "anna", status="cancelled-by-volunteer").signature is None


def test_a_visit_cancelled_in_the_roster_or_superseded_cannot_be_recorded(session):
    _, _, cancelled = week_with_visits(session)
    with pytest.raises(Conflict, match="cancelled in the roster"):
        records.record_visit(session, cancelled.id, "anna", status="delivered")
    cancelled.version.status = "superseded"
    with pytest.raises(Conflict, match="superseded roster version"):
        records.record_visit(session, cancelled.id, "anna", status="delivered")


def test_cli_record_and_confirm(cli, db_url):
    from carecal import db

    with db.session_scope(db_url) as s:
        planned, other, _ = week_with_visits(s)
        planned_id, other_id = planned.id, other.id
    result = cli(
        "visit",
        "record",
        other_id,
        "--status",
        "delivered",
        "--start",
        "10:15",
        "--end",
        "11:45",
        "--signature",
        "none",
        "--signature-reason",
        "no representative present",
    )
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())  # Rich wraps long lines
    assert "90 min" in out and "not signed: no representative present" in out
    result = cli("visit", "confirm", "--week", "2026-W45")
    assert result.exit_code == 0 and "1 visit(s) confirmed" in " ".join(result.stdout.split())
    result = cli("visit", "record", planned_id, "--status", "no-show")
    assert result.exit_code == 2 and "say why it changes" in " ".join(result.stderr.split())
    assert cli("visit", "record", planned_id, "--status", "no-show", "--reason", "door closed").exit_code == 0
    history = cli("visit", "history", planned_id)
    assert history.exit_code == 0
    assert all(word in history.stdout for word in ("door", "closed", "no-show", "delivered"))
    assert cli("visit", "record", 9999, "--status", "no-show").exit_code == 3


def test_confirm_leaves_a_closed_month_alone(session):
    from carecal.models import BillingMonth

    planned, _, _ = week_with_visits(session)
    session.add(BillingMonth(month="2026-11", runs=1, closed_at=AFTER, closed_by="treasurer"))
    session.flush()
    result = records.confirm_week(session, IsoWeek.parse("2026-W45"), "coordinator")
    assert result.confirmed == [] and result.in_closed_month == 2
    with pytest.raises(Conflict, match="month 2026-11 is closed"):
        records.record_visit(session, planned.id, "anna", status="delivered")
