"""Months bill in a way that cannot dead-end: the current month only when asked
(`--partial`), months in any order, a late record or a corrected visit of a month already
billed as a correction invoice that names the original, and reconcile and close refuse
while a delivered visit is unbilled."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from carecal import clock, db
from carecal.billing import budgets, invoicing, records
from carecal.billing.reconcile import reconcile
from carecal.models import BillingMonth, LedgerEntry
from carecal.weeks import IsoWeek
from tests import factories as f

DEC_7 = datetime(2026, 12, 7, 19, tzinfo=UTC)  # a Monday evening: November over, December in progress
JAN_4 = datetime(2027, 1, 4, 9, tzinfo=UTC)


def tick(moment: datetime):
    return clock.frozen(moment, tick=timedelta(microseconds=1))


def weeks_of_visits(session, weeks: tuple[str, ...], *, clients=1):
    """`clients` clients with a weekly two-hour visit (36 €) on Tuesdays of `weeks`,
    confirmed as delivered on the Monday after each."""
    org = f.organisation(session)
    f.billing_rates(session, org)
    volunteer = f.volunteer(session)
    people = []
    for _ in range(clients):
        client = f.client(session, care_grade=2, grade_from=date(2026, 1, 1), benefits_assigned_on=date(2026, 1, 1))
        request = f.care_request(session, client)
        for week in weeks:
            f.published_visit(session, week, request, volunteer)
        people.append(client)
    for week in weeks:
        with tick(datetime.combine(IsoWeek.parse(week).sunday + timedelta(days=1), time(8), UTC)):
            records.confirm_week(session, IsoWeek.parse(week), "anna")
    return people, volunteer


def visit_of(session, client, day: date):
    (record,) = [r for r in records_of(session, client) if r.day == day]
    return record.visit


def records_of(session, client):
    from carecal.models import Visit, VisitRecord

    return session.scalars(
        select(VisitRecord).join(Visit, VisitRecord.visit_id == Visit.id).where(Visit.client_id == client.id)
    ).all()


def test_the_current_month_is_billed_only_when_asked_and_then_only_what_has_taken_place(cli, db_url):
    with db.session_scope(db_url) as s:
        weeks_of_visits(s, ("2026-W49", "2026-W50"))  # Tue 1 and Tue 8 December
    now = ["--now", DEC_7.isoformat()]
    refused = cli(*now, "billing", "run", "--month", "2026-12")
    assert refused.exit_code == 2
    assert "2026-12 is not over yet" in refused.stderr and "--partial" in refused.stderr
    partial = cli(*now, "billing", "run", "--month", "2026-12", "--partial")
    assert partial.exit_code == 0, partial.stderr
    assert "1 invoice(s), 36,00 €" in " ".join(partial.stdout.split())
    # the rest once the month is over: a second invoice of the month, not a correction
    rest = cli("--now", JAN_4.isoformat(), "billing", "run", "--month", "2026-12")
    assert rest.exit_code == 0 and "corrects" not in rest.stdout and "1 invoice(s), 36,00 €" in rest.stdout
    with db.session_scope(db_url) as s:
        month = s.get(BillingMonth, "2026-12")
        assert month.runs == 2 and month.completed_at is not None
        assert reconcile(s, "2026-12").ok


def test_bill_december_before_correcting_november_then_november_closes(cli, db_url):
    """The coordinator's week of 7 December: November billed, December billed in part, then
    a November visit corrected: credit note, new record, a correction invoice, and close."""
    with db.session_scope(db_url) as s:
        (client,), _ = weeks_of_visits(s, ("2026-W45", "2026-W46", "2026-W49"))
        wrong = visit_of(s, client, date(2026, 11, 10)).id
    now = ["--now", DEC_7.isoformat()]
    assert cli("--now", "2026-12-01T09:00:00+01:00", "billing", "run", "--month", "2026-11").exit_code == 0
    assert cli(*now, "billing", "run", "--month", "2026-12", "--partial").exit_code == 0
    credit = cli(*now, "billing", "credit", "2026-0001", "--visit", wrong, "--reason", "ging nur bis 15:30")
    assert credit.exit_code == 0 and "credit note 2026-0003 for 2026-0001: -36,00 €" in credit.stdout
    assert (
        cli(
            *now, "visit", "record", wrong, "--status", "delivered", "--end", "15:30", "--reason", "laut Notiz"
        ).exit_code
        == 0
    )
    unbilled = cli(*now, "billing", "reconcile", "--month", "2026-11")
    assert unbilled.exit_code == 1 and f"visit {wrong} on 2026-11-10 was delivered but is not billed" in unbilled.stderr
    assert cli(*now, "billing", "close", "--month", "2026-11").exit_code == 4

    rerun = cli(*now, "billing", "run", "--month", "2026-11")
    assert rerun.exit_code == 0, rerun.stderr
    assert "1 correction invoice(s) of 2026-11" in rerun.stdout
    (row,) = [line for line in rerun.stdout.splitlines() if "2026-0004" in line]
    assert "2026-0001" in row
    assert cli(*now, "billing", "reconcile", "--month", "2026-11").exit_code == 0
    assert cli(*now, "billing", "close", "--month", "2026-11").exit_code == 0
    with db.session_scope(db_url) as s:
        correction = invoicing.find_invoice(s, "2026-0004")
        assert correction.supplements.number == "2026-0001" and correction.month == "2026-11"
        assert [(line.visit_id, line.minutes, line.amount_cents) for line in correction.lines] == [(wrong, 90, 2700)]


def test_a_late_record_takes_only_the_money_later_months_left(session):
    (client,), volunteer = weeks_of_visits(session, ("2026-W45",))
    with tick(datetime(2026, 12, 1, 8, tzinfo=UTC)):
        (november,) = invoicing.run_month(session, "2026-11", "treasurer").invoices
        # the insurer reports 20 € left on 1 December; December's visits use it up
        budgets.correct(session, client, 2000, "Kasse meldet 20 € Rest", "treasurer", day=date(2026, 12, 1))
    f.published_visit(session, "2026-W49", client.requests[0], volunteer)  # Tue 1 December
    with tick(datetime(2026, 12, 7, 8, tzinfo=UTC)):
        records.confirm_week(session, IsoWeek.parse("2026-W49"), "anna")
    with tick(JAN_4):
        december = invoicing.run_month(session, "2026-12", "treasurer").invoices
        assert {i.funding: i.total_cents for i in december} == {"relief": 2000, "private": 1600}
        # a November visit recorded late: on 24 November there was money, but December spent it
        late = f.published_visit(session, "2026-W48", client.requests[0], volunteer)
        records.record_visit(session, late.id, "anna", status="delivered")
        corrections = invoicing.run_month(session, "2026-11", "treasurer").invoices
        assert {i.funding: (i.total_cents, i.supplements) for i in corrections} == {"private": (3600, None)}
        for month in ("2026-11", "2026-12"):
            report = reconcile(session, month)
            assert report.ok, (month, report.problems)
        assert budgets.client_ledger(session, client, date(2026, 12, 31)).relief == {"2026": 0}
    assert november.total_cents == 3600


def test_reconcile_fails_while_a_delivered_visit_is_unbilled_even_before_any_run(session):
    (client,), _ = weeks_of_visits(session, ("2026-W45", "2026-W46"))
    with tick(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        problems = reconcile(session, "2026-11").problems
        assert [p for p in problems if "not billed" in p] == [
            f"visit {visit_of(session, client, date(2026, 11, 3)).id} on 2026-11-03 was delivered but is not billed",
            f"visit {visit_of(session, client, date(2026, 11, 10)).id} on 2026-11-10 was delivered but is not billed",
        ]
        invoicing.run_month(session, "2026-11", "treasurer")
        assert reconcile(session, "2026-11").ok


def test_months_bill_in_any_order_and_spend_each_budget_once(session):
    (client,), _ = weeks_of_visits(session, ("2026-W44", "2026-W45"))  # Tue 27 October, Tue 3 November
    with tick(datetime(2026, 11, 2, 8, tzinfo=UTC)):
        budgets.correct(session, client, 5000, "Kasse meldet 50 € Rest", "treasurer", day=date(2026, 11, 2))
    with tick(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        november = invoicing.run_month(session, "2026-11", "treasurer").invoices
        october = invoicing.run_month(session, "2026-10", "treasurer").invoices
    # November took 36 € of what the insurer reported; October's visit (before the report, when
    # there was more) may take only what leaves November's balance whole: 50 - 36 = 14 €
    assert {i.funding: i.total_cents for i in november} == {"relief": 3600}
    assert {i.funding: i.total_cents for i in october} == {"relief": 1400, "private": 2200}
    assert not any(i.supplements for i in october)  # October's first run: plain invoices
    spent = session.scalars(select(LedgerEntry.amount_cents).where(LedgerEntry.kind == "spend")).all()
    assert sorted(spent) == [-3600, -1400]
    with tick(datetime(2026, 12, 2, 9, tzinfo=UTC)):
        assert reconcile(session, "2026-10").ok and reconcile(session, "2026-11").ok
