"""The visit life cycle (carecal.lifecycle): weeks that are over, a week in progress keeps its
past, outcomes never change through a roster version, and the database guards what it can."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from carecal import clock, db, lifecycle
from carecal.billing import billed, invoicing, records
from carecal.errors import Conflict, InputError, RuleBroken
from carecal.models import RosterVersion, Visit
from carecal.roster import overrides, planning, versions
from carecal.weeks import IsoWeek, local
from tests import factories as f
from tests.app.roster_world import WEEK, small_association

W48 = IsoWeek.parse(WEEK)  # Monday 23 November 2026
WEDNESDAY_10 = local(date(2026, 11, 25), time(10, 0))
AFTER_THE_WEEK = local(date(2026, 11, 30), time(9, 0))


def plan_and_publish(db_url, *, replan: bool = False) -> int:
    with db.session_scope(db_url) as s:
        prepared = planning.prepare_replan(s, W48) if replan else planning.prepare_plan(s, W48)
    planning.solve_week(prepared, time_limit=3, workers=1)
    with db.session_scope(db_url) as s:
        version = versions.store_version(s, prepared, "anna")
        versions.publish(s, W48, "anna", version.number)
        return version.number


def visits_of(db_url, number: int) -> dict[str, tuple[str, datetime, datetime, str]]:
    with db.session_scope(db_url) as s:
        version = s.scalars(select(RosterVersion).where(RosterVersion.number == number)).one()
        return {v.request_key: (v.volunteer.external_id, v.starts_at, v.ends_at, v.status) for v in version.visits}


@pytest.fixture
def published_week(db_url):
    """The small association's week 2026-W48, planned and published on the Friday before."""
    with db.session_scope(db_url) as s:
        small_association(s)
    plan_and_publish(db_url)
    return db_url


# --------------------------------------------------------------------------- weeks that are over


@pytest.mark.parametrize("step", ["plan", "replan", "publish"])
def test_a_week_that_is_over_cannot_be_planned_or_published_and_the_error_says_what_to_do(published_week, step):
    with clock.frozen(AFTER_THE_WEEK), db.session_scope(published_week) as s:
        with pytest.raises(
            lifecycle.WeekOver, match=r"week 2026-W48 is over .*`carecal visit confirm --week 2026-W48`"
        ):
            if step == "plan":
                planning.prepare_plan(s, W48)
            elif step == "replan":
                planning.prepare_replan(s, W48)
            else:
                versions.publish(s, W48, "anna")


def test_a_plan_solved_before_the_week_ended_is_not_stored_after(published_week):
    with db.session_scope(published_week) as s:
        prepared = planning.prepare_replan(s, W48)
    planning.solve_week(prepared, time_limit=2, workers=1)
    with clock.frozen(AFTER_THE_WEEK), pytest.raises(lifecycle.WeekOver), db.session_scope(published_week) as s:
        versions.store_version(s, prepared, "anna")


def test_week_phases_follow_the_organisations_wall_clock():
    tz = "Europe/Berlin"
    assert lifecycle.week_phase(W48, tz, local(date(2026, 11, 22), time(23, 59))) == "ahead"
    assert lifecycle.week_phase(W48, tz, local(date(2026, 11, 23), time(0, 0))) == "in progress"
    assert lifecycle.week_phase(W48, tz, local(date(2026, 11, 29), time(23, 59))) == "in progress"
    assert lifecycle.week_phase(W48, tz, local(date(2026, 11, 30), time(0, 0))) == "over"


# --------------------------------------------------------------------------- a week in progress


def test_a_replan_in_a_week_in_progress_keeps_the_past_and_moves_only_the_future(published_week):
    before = visits_of(published_week, 1)
    with clock.frozen(WEDNESDAY_10):
        started = {key for key, (_, start, _, _) in before.items() if start <= WEDNESDAY_10}
        # a volunteer with visits both before and after now falls ill from Monday on
        busy = next(
            who
            for who in {v for v, *_ in before.values()}
            if any(v == who and k in started for k, (v, *_) in before.items())
            and any(v == who and k not in started for k, (v, *_) in before.items())
        )
        with db.session_scope(published_week) as s:
            overrides.absence(s, busy, "2026-11-23", "2026-11-29", reason="ill", actor="anna")
        plan_and_publish(published_week, replan=True)
        after = visits_of(published_week, 2)
        with db.session_scope(published_week) as s:
            version = s.scalars(select(RosterVersion).where(RosterVersion.number == 2)).one()
            needs_substitute = version.stats["needs_substitute"]
    assert started and all(after[key] == before[key] for key in started)  # the past as it was published
    assert not set(needs_substitute) & started  # and nobody is asked to stand in for it
    for key, (who, start, _, _) in after.items():
        if key not in started:
            assert who != busy and start > WEDNESDAY_10


def test_a_fresh_plan_in_a_week_in_progress_keeps_the_past_and_today(published_week):
    before = visits_of(published_week, 1)
    tomorrow = local(date(2026, 11, 26), time(0, 0))
    with clock.frozen(WEDNESDAY_10):
        plan_and_publish(published_week)
    after = visits_of(published_week, 2)
    kept = {key for key, (_, start, _, _) in before.items() if start < tomorrow}
    assert kept and all(after[key] == before[key] for key in kept)
    assert all(start >= tomorrow for key, (_, start, _, _) in after.items() if key not in kept)


def test_an_outcome_never_changes_through_a_roster_version(published_week):
    before = visits_of(published_week, 1)
    key, (who, start, _, _) = min(
        ((k, v) for k, v in before.items() if v[1] > local(date(2026, 11, 26), time(0))), key=lambda kv: kv[1][1]
    )
    with db.session_scope(published_week) as s:  # the client cancels Thursday's visit on Friday before
        visit = s.scalars(select(Visit).where(Visit.request_key == key)).one()
        records.record_visit(s, visit.id, "anna", status="cancelled-by-client", reason="in hospital")
        overrides.absence(s, who, "2026-11-23", "2026-11-29", reason="ill", actor="anna")
    plan_and_publish(published_week, replan=True)
    assert visits_of(published_week, 2)[key] == before[key]  # carried over as it was: the record still fits


def test_publishing_a_draft_that_rewrites_the_past_is_refused(published_week):
    with clock.frozen(datetime(2026, 11, 22, 11, tzinfo=UTC)), db.session_scope(published_week) as s:
        # a draft made on Sunday moves every visit by a day
        draft = planning.prepare_replan(s, W48)
    planning.solve_week(draft, time_limit=2, workers=1)
    with clock.frozen(datetime(2026, 11, 22, 11, 5, tzinfo=UTC)), db.session_scope(published_week) as s:
        stored = versions.store_version(s, draft, "bea")
        first = next(v for v in sorted(stored.visits, key=lambda v: v.starts_at) if v.status == "planned")
        s.execute(text("DELETE FROM visit WHERE id = :id"), {"id": first.id})  # drafts may still change
        s.add(
            Visit(
                version=stored,
                request_key=first.request_key,
                care_request_id=first.care_request_id,
                client_id=first.client_id,
                volunteer_id=first.volunteer_id,
                starts_at=first.starts_at + timedelta(hours=1),
                ends_at=first.ends_at + timedelta(hours=1),
            )
        )
    with clock.frozen(WEDNESDAY_10), db.session_scope(published_week) as s:
        with pytest.raises(Conflict, match=rf"(?s)would change what.*:\n  - {first.request_key}.*replan"):
            versions.publish(s, W48, "bea")


# --------------------------------------------------------------------------- outcomes and money


def test_outcomes_are_recorded_once_a_visit_has_happened_a_cancellation_also_in_advance(session):
    f.organisation(session)
    request = f.care_request(session, f.client(session))
    visit = f.published_visit(session, WEEK, request, f.volunteer(session), day="tue", start="14:00")
    with pytest.raises(InputError, match="has not started yet .*only a cancellation"):
        records.record_visit(session, visit.id, "anna", status="no-show")
    with pytest.raises(InputError, match="has not begun yet"):
        records.confirm_week(session, W48, "anna")
    with clock.frozen(local(date(2026, 11, 24), time(15, 0))):  # during the visit
        with pytest.raises(InputError, match="ends at 16:00: record the delivery once it has ended"):
            records.record_visit(session, visit.id, "anna", status="delivered")
        assert records.record_visit(session, visit.id, "anna", status="delivered", end=time(15, 0)).minutes == 60
    assert records.record_visit(session, visit.id, "anna", status="cancelled-by-client", reason="oops").status


def test_billing_bills_only_delivered_visits_that_lie_in_the_past_and_closes_only_a_month_that_is_over(session):
    org = f.organisation(session)
    f.billing_rates(session, org)
    request = f.care_request(session, f.client(session, care_grade=2))
    volunteer = f.volunteer(session)
    early = f.published_visit(session, "2026-W45", request, volunteer, day="tue")
    late = f.published_visit(session, WEEK, request, volunteer, day="tue")
    with clock.frozen(local(date(2026, 11, 25), time(9, 0))):
        records.confirm_week(session, IsoWeek.parse("2026-W45"), "anna")
        records.confirm_week(session, W48, "anna")
        with pytest.raises(InputError, match=r"month 2026-11 is not over yet .* --partial"):
            invoicing.run_month(session, "2026-11", "treasurer")
        result = invoicing.run_month(session, "2026-11", "treasurer", partial=True)
        assert [line.visit_id for i in result.invoices for line in i.lines] == [early.id, late.id]
        with pytest.raises(InputError, match="month 2026-11 is not over yet"):
            invoicing.close_month(session, "2026-11", "treasurer")
    # a record made in the future of a run (here: the clock put back) is not billed by it
    with clock.frozen(local(date(2026, 11, 24), time(15, 0))):
        assert billed.unbilled(session, "2026-11") == []
    assert records.record_of(session, late) is not None


# --------------------------------------------------------------------------- what the database guards


def _one_published_visit(session):
    f.organisation(session)
    request = f.care_request(session, f.client(session))
    return f.published_visit(session, "2026-W45", request, f.volunteer(session), day="tue")


@pytest.mark.parametrize(
    "statement, rule",
    [
        ("UPDATE visit SET starts_at = starts_at WHERE id = :visit", "never changes: plan or replan"),
        ("DELETE FROM visit WHERE id = :visit", "is history and is never deleted"),
        ("UPDATE roster_version SET status = 'draft' WHERE id = :version", "never back"),
    ],
)
def test_the_database_refuses_to_rewrite_a_published_roster(db_url, statement, rule):
    with db.session_scope(db_url) as s:
        visit = _one_published_visit(s)
        ids = {"visit": visit.id, "version": visit.version_id}
    with pytest.raises(RuleBroken, match=rule), db.session_scope(db_url) as s:
        s.execute(text(statement), ids)


def test_the_database_keeps_one_published_version_per_week(db_url):
    with db.session_scope(db_url) as s:
        visit = _one_published_visit(s)
        s.add(RosterVersion(roster_week_id=visit.version.roster_week_id, number=2, status="draft", created_by="x"))
    with pytest.raises(DBAPIError, match="uq_roster_version_one_published|UNIQUE|unique"):
        with db.session_scope(db_url) as s:
            s.execute(
                text("UPDATE roster_version SET status = 'published', published_at = created_at WHERE number = 2")
            )


def test_the_database_refuses_outcomes_for_drafts_changes_to_billed_records_and_bills_for_no_delivery(db_url):
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        request = f.care_request(s, f.client(s, care_grade=2))
        volunteer = f.volunteer(s)
        delivered = f.published_visit(s, "2026-W45", request, volunteer, day="tue")
        no_show = f.published_visit(s, "2026-W45", request, volunteer, day="thu")
        records.record_visit(s, delivered.id, "anna", status="delivered")
        records.record_visit(s, no_show.id, "anna", status="no-show")
        invoicing.run_month(s, "2026-11", "treasurer", partial=True)
        draft = RosterVersion(roster_week_id=delivered.version.roster_week_id, number=2, created_by="x")
        s.add(draft)
        s.flush()
        ids = {"delivered": delivered.id, "no_show": no_show.id, "draft": draft.id}
    with pytest.raises(RuleBroken, match="is billed: issue a credit note"), db.session_scope(db_url) as s:
        s.execute(text("UPDATE visit_record SET note = 'x' WHERE visit_id = :delivered"), ids)
    with pytest.raises(RuleBroken, match="only a delivered visit is billed"), db.session_scope(db_url) as s:
        s.execute(
            text(
                "INSERT INTO invoice_line (id, invoice_id, visit_id, record_id, day, minutes, category, "
                "unit_price_cents, amount_cents, visit_price_cents) SELECT l.id + 100, l.invoice_id, r.visit_id, "
                "r.id, r.day, 60, 'betreuung', 1800, 1800, 1800 FROM visit_record r, invoice_line l "
                "WHERE r.visit_id = :no_show LIMIT 1"
            ),
            ids,
        )
    with pytest.raises(RuleBroken, match="only a visit of a published roster"), db.session_scope(db_url) as s:
        s.execute(
            text(
                "INSERT INTO visit (version_id, request_key, care_request_id, client_id, volunteer_id, starts_at, "
                "ends_at, status, pinned) SELECT :draft, 'z#1', care_request_id, client_id, volunteer_id, starts_at, "
                "ends_at, 'planned', false FROM visit WHERE id = :delivered"
            ),
            ids,
        )
        s.execute(
            text(
                "INSERT INTO visit_record (visit_id, day, status, started_at, ended_at, activity_key, created_by, "
                "created_at, updated_by, updated_at) SELECT v.id, '2026-11-03', 'delivered', v.starts_at, v.ends_at, "
                "r.activity_key, 'x', v.starts_at, 'x', v.starts_at FROM visit v JOIN care_request r "
                "ON r.id = v.care_request_id WHERE v.request_key = 'z#1'"
            )
        )
