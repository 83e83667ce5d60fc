"""Billing runs, invoice numbers, month close, credit notes and reconciliation."""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from carecal import clock, db
from carecal.billing import invoicing, records
from carecal.billing.reconcile import reconcile
from carecal.errors import Conflict
from carecal.models import AuditEvent, Invoice, LedgerEntry, Rate
from carecal.weeks import IsoWeek
from tests import factories as f
from tests.tamper import drop_guards

AFTER = datetime(2026, 12, 15, tzinfo=UTC)  # "now" for recording and billing: after the visits
ISSUED = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def after_the_visits():
    with clock.frozen(AFTER, tick=timedelta(microseconds=1)):
        yield


def books(session, *, clients=2, weeks=("2026-W45", "2026-W46"), assigned=True, opt_in=False):
    """An association with rates, `clients` clients with one weekly 2-hour visit each in
    `weeks` (November 2026), all confirmed as delivered."""
    org = f.organisation(session)
    f.billing_rates(session, org)
    volunteer = f.volunteer(session)
    people = []
    for n in range(clients):
        client = f.client(
            session,
            care_grade=2,
            grade_from=date(2026, 1, 1),
            benefits_assigned_on=date(2026, 1, 1) if assigned else None,
            conversion_budget_opt_in=opt_in,
        )
        request = f.care_request(session, client)
        for week in weeks:
            f.published_visit(session, week, request, volunteer, day=("tue", "wed", "thu")[n % 3])
        people.append(client)
    for week in weeks:
        records.confirm_week(session, IsoWeek.parse(week), "coordinator")
    return org, volunteer, people


def test_a_run_bills_each_client_per_payer_and_funding_with_the_statement(session):
    _, _, (client, _) = books(session)
    result = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    assert [i.number for i in result.invoices] == ["2026-0001", "2026-0002"]
    first = result.invoices[0]
    assert first.client == client and first.payer == "insurer" and first.payer_name == "AOK PLUS"
    assert first.funding == "relief" and "§ 45a SGB XI" in first.statement and "§ 45b SGB XI" in first.statement
    # two visits of 120 min at 18 €/h, within 11 × 131 € of relief money
    assert [line.amount_cents for line in first.lines] == [3600, 3600] and first.total_cents == 7200
    spends = session.scalars(select(LedgerEntry).where(LedgerEntry.client_id == client.id)).all()
    assert sorted(e.amount_cents for e in spends) == [-3600, -3600] and {e.vintage for e in spends} == {"2026"}
    assert reconcile(session, "2026-11").ok


def test_the_client_is_the_payer_without_an_assignment_and_private_money_is_billed_apart(session):
    _, _, (client,) = books(session, clients=1, assigned=False)
    # spend the relief budget down to 40 € by a correction, so the second visit is partly private
    from carecal.billing import budgets

    budgets.correct(session, client, 4000, "Kasse meldet 40 € Rest", "treasurer", day=date(2026, 11, 1))
    result = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    by_funding = {i.funding: i for i in result.invoices}
    assert set(by_funding) == {"relief", "private"}
    assert by_funding["relief"].payer == "client" and by_funding["relief"].payer_name == client.name
    assert by_funding["relief"].total_cents == 4000 and by_funding["private"].total_cents == 7200 - 4000
    assert "Privat zu zahlen" in by_funding["private"].statement
    assert reconcile(session, "2026-11").ok


def test_the_conversion_budget_is_billed_on_its_own_invoice(session):
    _, _, (client,) = books(session, clients=1, opt_in=True, weeks=("2026-W45", "2026-W46", "2026-W47"))
    from carecal.billing import budgets

    budgets.correct(session, client, 3000, "Kasse meldet 30 € Rest", "treasurer", day=date(2026, 11, 1))
    result = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    by_funding = {i.funding: i.total_cents for i in result.invoices}
    assert by_funding == {"relief": 3000, "conversion": 3 * 3600 - 3000}
    conversion = next(i for i in result.invoices if i.funding == "conversion")
    assert "§ 45a Abs. 4 SGB XI" in conversion.statement
    assert reconcile(session, "2026-11").ok


def test_running_a_month_again_bills_only_what_is_new(session):
    _, volunteer, (client, _) = books(session)
    invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    assert invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices == []
    late = f.published_visit(session, "2026-W47", client.requests[0], volunteer, day="fri")
    records.record_visit(session, late.id, "coordinator", status="delivered")
    again = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    assert [(i.number, [line.visit_id for line in i.lines]) for i in again.invoices] == [("2026-0003", [late.id])]
    assert reconcile(session, "2026-11").ok


def test_a_closed_month_refuses_changes_and_is_corrected_by_a_credit_note(session):
    _, _, (client, _) = books(session)
    invoice = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices[0]
    invoicing.close_month(session, "2026-11", "treasurer")
    visit_id = invoice.lines[0].visit_id

    with pytest.raises(Conflict, match="month 2026-11 is closed"):
        records.record_visit(session, visit_id, "coordinator", status="no-show", reason="she was not home")
    with pytest.raises(Conflict, match="closed"):
        invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)

    credit = invoicing.credit_note(
        session,
        invoice.number,
        "treasurer",
        "visit did not take place",
        visit_ids=[visit_id],
        issued_on=date(2026, 12, 20),
    )
    assert credit.kind == "credit_note" and credit.corrects == invoice and credit.number == "2026-0003"
    assert credit.total_cents == -3600 and credit.lines[0].corrects_line_id == invoice.lines[0].id
    refunds = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refund")).all()
    assert [(r.amount_cents, r.invoice_line_id) for r in refunds] == [(3600, credit.lines[0].id)]
    assert invoice.total_cents == 7200  # the original stays as it was
    assert reconcile(session, "2026-11").ok
    with pytest.raises(Conflict, match="already fully credited"):
        invoicing.credit_note(session, invoice.number, "treasurer", "again", visit_ids=[visit_id])
    actions = session.scalars(select(AuditEvent.action)).all()
    assert {"billing.run", "billing.close", "billing.credit_note"} <= set(actions)


def test_a_billed_record_in_an_open_month_changes_only_after_a_credit_note(session):
    books(session)
    invoice = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices[0]
    visit_id = invoice.lines[0].visit_id
    with pytest.raises(Conflict, match=f"billed on invoice {invoice.number}"):
        records.record_visit(
            session, visit_id, "coordinator", status="delivered", end=time(15, 30), reason="ended early"
        )
    invoicing.credit_note(session, invoice.number, "treasurer", "ended early", visit_ids=[visit_id], issued_on=ISSUED)
    records.record_visit(session, visit_id, "coordinator", status="delivered", end=time(15, 30), reason="ended early")
    rebilled = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices
    assert [(line.visit_id, line.minutes, line.amount_cents) for line in rebilled[0].lines] == [(visit_id, 90, 2700)]
    assert reconcile(session, "2026-11").ok


def test_the_database_refuses_to_rewrite_invoices_lines_and_ledger(db_url):
    from sqlalchemy.exc import DBAPIError

    with db.session_scope(db_url) as s:
        books(s, clients=1)
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=ISSUED)
    for statement in (
        "UPDATE invoice_line SET amount_cents = 1",
        "DELETE FROM invoice",
        "UPDATE ledger_entry SET amount_cents = 0",
        "DELETE FROM ledger_entry",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.session_scope(db_url) as s:
            s.execute(text(statement))


def test_reconcile_fails_on_a_tampered_row(session):
    books(session)
    invoice = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices[0]
    assert reconcile(session, "2026-11").ok
    # with the triggers dropped, a row slipped in at the end: the first visit billed once more
    drop_guards(session)
    session.execute(
        text(
            "INSERT INTO invoice_line (id, invoice_id, visit_id, record_id, day, minutes, category, unit_price_cents, "
            "amount_cents, visit_price_cents, prev_hash, row_hash) SELECT (SELECT max(id) + 1 FROM invoice_line), "
            "invoice_id, visit_id, record_id, day, minutes, category, unit_price_cents, amount_cents, "
            "visit_price_cents, prev_hash, row_hash FROM invoice_line WHERE id = :id"
        ),
        {"id": invoice.lines[0].id},
    )
    session.expire_all()
    problems = reconcile(session, "2026-11").problems
    assert any("hash chain broken: invoice_line row" in p for p in problems)
    assert any(f"invoice {invoice.number}: total 72,00 € but lines add up to 108,00 €" in p for p in problems)
    assert any("ledger moved 0,00 €" in p for p in problems)
    assert any("billed 72,00 €, but 120 min at 18,00 €/h is 36,00 €" in p for p in problems)
    assert any("billed twice" in p for p in problems)


def test_reconcile_finds_a_delivered_visit_left_unbilled_and_a_gap_in_the_numbers(session):
    _, volunteer, (client, _) = books(session)
    invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED)
    late = f.published_visit(session, "2026-W47", client.requests[0], volunteer, day="fri")
    records.record_visit(session, late.id, "coordinator", status="delivered")
    session.execute(text("UPDATE invoice_counter SET last_number = last_number + 1"))
    session.expire_all()
    problems = reconcile(session, "2026-11").problems
    assert any(f"visit {late.id}" in p and "not billed" in p for p in problems)
    assert any("not gapless" in p for p in problems)
    with pytest.raises(Conflict, match="not billed yet"):
        invoicing.close_month(session, "2026-11", "treasurer")


@pytest.mark.postgres
def test_invoice_numbers_stay_gapless_when_runs_race_on_postgresql(postgres_url):
    with db.session_scope(postgres_url) as s:
        books(s, clients=4, weeks=("2026-W41", "2026-W45"))  # October and November
        october = [i.number for i in invoicing.run_month(s, "2026-10", "treasurer", issued_on=ISSUED).invoices]
        invoicing.lock_month(s, "2026-11")  # the month row exists: runs meet at its lock, not at the insert
    jobs = [
        lambda s: invoicing.run_month(s, "2026-11", "run-a", issued_on=ISSUED),
        lambda s: invoicing.run_month(s, "2026-11", "run-b", issued_on=ISSUED),
    ]
    jobs += [lambda s, n=n: invoicing.credit_note(s, n, "t", "wrong client", issued_on=ISSUED) for n in october]
    barrier = threading.Barrier(len(jobs))
    errors = []

    def in_thread(work):
        try:
            with db.session_scope(postgres_url) as s:
                barrier.wait()
                work(s)
        except Exception as error:  # collected and asserted below
            errors.append(error)

    # two runs of November and four credit notes for October, all at once
    threads = [threading.Thread(target=in_thread, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session_scope(postgres_url) as s:
        sequences = s.scalars(select(Invoice.sequence).order_by(Invoice.sequence)).all()
        assert sequences == list(range(1, 4 + 4 + 4 + 1))  # October, November, four credit notes
        november = s.scalars(select(Invoice).where(Invoice.month == "2026-11")).all()
        assert len(november) == 4 and {i.created_by for i in november} in ({"run-a"}, {"run-b"})
        assert reconcile(s, "2026-11").ok
        # October's credited visits are still delivered: billed again, October adds up too
        assert not reconcile(s, "2026-10").ok
        invoicing.run_month(s, "2026-10", "treasurer", issued_on=ISSUED)
        assert reconcile(s, "2026-10").ok


def test_cli_run_close_credit_and_reconcile(cli, db_url):
    with db.session_scope(db_url) as s:
        _, _, (client, _) = books(s)
        ref = client.external_id
    run = cli("billing", "run", "--month", "2026-11", "--issued", "2026-12-01")
    assert run.exit_code == 0, run.stderr
    assert "2026-0001" in run.stdout and ref in run.stdout and "2 invoice(s), 144,00 €" in " ".join(run.stdout.split())
    assert "nothing new to bill" in cli("billing", "run", "--month", "2026-11").stdout
    assert cli("billing", "run", "--month", "2026-13").exit_code == 2
    reconciled = cli("billing", "reconcile", "--month", "2026-11")
    assert reconciled.exit_code == 0 and "reconciled" in reconciled.stdout
    assert cli("billing", "close", "--month", "2026-11").exit_code == 0
    refused = cli("billing", "close", "--month", "2026-11")
    assert refused.exit_code == 4 and "already closed" in refused.stderr
    credit = cli("billing", "credit", "2026-0001", "--reason", "double entry")
    assert credit.exit_code == 0 and "credit note 2026-0003" in credit.stdout and "-72,00 €" in credit.stdout
    assert cli("billing", "credit", "2099-0001", "--reason", "x").exit_code == 3
    assert cli("billing", "reconcile", "--month", "2026-11").exit_code == 0


def test_a_replan_after_recording_neither_loses_nor_doubles_the_visit(session):
    from carecal.billing import exports

    _, volunteer, (client,) = books(session, clients=1, weeks=("2026-W45",))
    request = client.requests[0]
    first_version = session.execute(text("SELECT id FROM roster_version")).scalar_one()
    session.execute(text("UPDATE roster_version SET status = 'superseded'"))
    session.expire_all()
    replanned = f.published_visit(session, "2026-W45", request, volunteer, day="tue")
    assert replanned.version_id != first_version
    again = records.confirm_week(session, IsoWeek.parse("2026-W45"), "coordinator")
    assert again.confirmed == [] and again.already_recorded == 1
    changed = records.record_visit(
        session, replanned.id, "coordinator", status="delivered", end=time(15, 0), reason="ended early"
    )
    assert changed.visit_id != replanned.id  # the one record of that visit, changed
    (invoice,) = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices
    assert [(line.minutes, line.amount_cents) for line in invoice.lines] == [(60, 1800)]
    rows = exports.hours_rows(session, "2026-11")
    assert [(row[1], row[10]) for row in rows] == [("delivered", 60)]
    assert reconcile(session, "2026-11").ok


def test_each_visit_is_priced_with_the_rate_valid_on_its_day(session):
    org, volunteer, (client,) = books(session, clients=1, weeks=())
    price = session.scalars(select(Rate).where(Rate.kind == "price_per_hour")).one()
    price.valid_to = date(2026, 11, 9)
    f.rate(session, org, "price_per_hour", 2100, date(2026, 11, 10), key="betreuung")
    for week in ("2026-W45", "2026-W46"):  # Tue 3 and Tue 10 November
        f.published_visit(session, week, client.requests[0], volunteer, day="tue")
        records.confirm_week(session, IsoWeek.parse(week), "coordinator")
    (invoice,) = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices
    assert [(line.day, line.unit_price_cents, line.amount_cents) for line in invoice.lines] == [
        (date(2026, 11, 3), 1800, 3600),
        (date(2026, 11, 10), 2100, 4200),
    ]
    assert reconcile(session, "2026-11").ok


def test_a_first_care_grade_mid_month_covers_only_visits_from_that_day(session):
    org = f.organisation(session)
    f.billing_rates(session, org)
    volunteer = f.volunteer(session)
    client = f.client(session, care_grade=2, grade_from=date(2026, 11, 5))
    request = f.care_request(session, client)
    for week in ("2026-W45", "2026-W46"):  # Tue 3 (no grade yet) and Tue 10 November
        f.published_visit(session, week, request, volunteer, day="tue")
        records.confirm_week(session, IsoWeek.parse(week), "coordinator")
    invoices = invoicing.run_month(session, "2026-11", "treasurer", issued_on=ISSUED).invoices
    assert {i.funding: [line.day for line in i.lines] for i in invoices} == {
        "relief": [date(2026, 11, 10)],
        "private": [date(2026, 11, 3)],
    }
    assert reconcile(session, "2026-11").ok
