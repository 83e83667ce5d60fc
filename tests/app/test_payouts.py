"""Paying the volunteers' allowances: a month's run, corrections, the tax-free limit, and
the reconciliation of payouts with signed hours (tamper included). The months here are
paid, not billed: the payouts' own checks (`payout_check`) must hold; `billing reconcile`,
which runs them among its own, names what the payouts break."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from carecal import clock, db
from carecal.billing import payout_check, payouts, records
from carecal.billing.reconcile import reconcile
from carecal.errors import Conflict, InputError
from carecal.models import AuditEvent, Payout, PayoutLine, VisitRecord
from carecal.weeks import IsoWeek
from tests import factories as f
from tests.tamper import drop_guards

AFTER = datetime(2026, 12, 15, tzinfo=UTC)  # "now": November is over
IBAN = "DE89370400440532013000"
MASKED = "DE89 **** 3000"


@pytest.fixture(autouse=True)
def after_the_visits():
    with clock.frozen(AFTER, tick=timedelta(microseconds=1)):
        yield


def association(session, *, limit_cents: int = 330000, over_limit: str = "hold"):
    """Rates: 9 €/h allowance in 2026, 10 €/h from 16 November; the §3 Nr. 26 limit of 2026."""
    org = f.organisation(session, payout_over_limit=over_limit)
    f.rate(session, org, "price_per_hour", 1800, date(2024, 1, 1), key="betreuung")
    f.rate(session, org, "allowance_per_hour", 900, date(2024, 1, 1), date(2026, 11, 15))
    f.rate(session, org, "allowance_per_hour", 1000, date(2026, 11, 16))
    f.rate(session, org, "relief_amount_month", 13100, date(2025, 1, 1))
    f.rate(session, org, "tax_free_limit_year", limit_cents, date(2026, 1, 1), date(2026, 12, 31), key="3_26")
    f.rate(session, org, "tax_free_limit_year", limit_cents, date(2027, 1, 1), key="3_26")
    f.rate(session, org, "tax_free_limit_year", 96000, date(2026, 1, 1), key="3_26a")
    return org


def month_of_visits(session, weeks=("2026-W45", "2026-W46", "2026-W47"), **association_args):
    """Two volunteers: Anna visits one client every Tuesday, Boris another every Wednesday;
    2 hours each, all confirmed as delivered. Anna's request is `anna.request` (for tests
    that add a visit)."""
    association(session, **association_args)
    anna = f.volunteer(session, iban=IBAN)
    boris = f.volunteer(session, iban="DE02120300000000202051", first_name="Boris")
    for volunteer, day in ((anna, "tue"), (boris, "wed")):
        request = f.care_request(session, f.client(session))
        volunteer.request = request
        for week in weeks:
            f.published_visit(session, week, request, volunteer, day=day)
    for week in weeks:
        records.confirm_week(session, IsoWeek.parse(week), "coordinator")
    return anna, boris


def paid_lines(session, volunteer) -> list[tuple[date, int, int, int]]:
    return [
        (line.day, line.minutes, line.rate_cents, line.amount_cents)
        for line in payouts.live_lines(payouts.month_payouts(session, "2026-11", volunteer.id))
    ]


def test_a_month_pays_each_volunteer_their_signed_visits_at_the_rate_of_the_day(session):
    anna, boris = month_of_visits(session)
    result = payouts.run(session, "2026-11", "treasurer")
    assert [p.volunteer for p in result.payouts] == [anna, boris] and result.batch == 1
    # 3 and 10 November at 9 €/h, 17 November at 10 €/h
    assert paid_lines(session, anna) == [
        (date(2026, 11, 3), 120, 900, 1800),
        (date(2026, 11, 10), 120, 900, 1800),
        (date(2026, 11, 17), 120, 1000, 2000),
    ]
    first = result.payouts[0]
    assert (first.kind, first.earned_cents, first.tax_free_cents, first.paid_cents) == ("payout", 5600, 5600, 5600)
    assert first.iban == IBAN and first.execution_date == date(2026, 12, 16)  # the next weekday
    assert result.paid_cents == 2 * 5600 and payout_check.check(session, "2026-11") == []
    assert "payout.run" in session.scalars(select(AuditEvent.action)).all()


def test_only_delivered_visits_with_a_signature_or_a_reason_earn_the_allowance(session):
    anna, boris = month_of_visits(session)
    tuesday, wednesday, *_ = sorted(
        (r for r in session.scalars(select(VisitRecord)) if r.day < date(2026, 11, 6)), key=lambda r: r.day
    )
    records.record_visit(session, tuesday.visit_id, "coordinator", status="no-show", reason="nobody opened the door")
    records.record_visit(
        session,
        wednesday.visit_id,
        "coordinator",
        status="delivered",
        signature="none",
        signature_reason="Vertretung nicht anwesend",
        reason="no signature",
    )
    # what the recording rules never let through, but the database might hold: no reason given
    session.execute(text("UPDATE visit_record SET signature_reason = NULL WHERE id = :id"), {"id": wednesday.id})
    session.expire_all()
    result = payouts.run(session, "2026-11", "treasurer")
    assert [line[0] for line in paid_lines(session, anna)] == [date(2026, 11, 10), date(2026, 11, 17)]
    assert [line[0] for line in paid_lines(session, boris)] == [date(2026, 11, 11), date(2026, 11, 18)]
    assert result.unpaid == [
        f"visit {wednesday.visit_id} on 2026-11-04: delivered, but neither signed nor with a reason why nobody signed"
    ]
    assert payout_check.check(session, "2026-11") == []


def test_a_month_is_paid_once_after_it_is_over_and_fully_recorded(session):
    anna, _ = month_of_visits(session)
    with clock.frozen(datetime(2026, 11, 30, 12, tzinfo=UTC)), pytest.raises(InputError, match="not over yet"):
        payouts.run(session, "2026-11", "treasurer")
    late = f.published_visit(session, "2026-W48", anna.request, anna)
    with pytest.raises(InputError, match="1 visit\\(s\\) of 2026-11 have no record yet") as refused:
        payouts.run(session, "2026-11", "treasurer")
    assert f"visit {late.id} (2026-W48, {anna.external_id})" in refused.value.problems
    records.record_visit(session, late.id, "coordinator", status="cancelled-by-client", reason="Arzttermin")
    payouts.run(session, "2026-11", "treasurer")
    with pytest.raises(Conflict, match="were made on 2026-12-15 by treasurer: pay what changed since"):
        payouts.run(session, "2026-11", "treasurer")


def test_a_volunteer_without_an_iban_stops_the_run_and_nothing_is_paid(session):
    anna, boris = month_of_visits(session)
    boris.iban = None
    with pytest.raises(InputError, match=f"no IBAN on file for {boris.external_id}"):
        payouts.run(session, "2026-11", "treasurer")


def test_a_change_after_the_payout_shows_in_reconcile_and_a_correction_pays_it(session):
    anna, boris = month_of_visits(session)
    first = payouts.run(session, "2026-11", "treasurer").payouts
    visits = {line.day: line.visit_id for p in first for line in p.lines}
    # Anna's visit of 17 November ended 30 minutes early; Boris's of 18 November did not happen
    records.record_visit(
        session, visits[date(2026, 11, 17)], "coordinator", status="delivered", end=time(15, 30), reason="early"
    )
    records.record_visit(
        session, visits[date(2026, 11, 18)], "coordinator", status="cancelled-by-volunteer", reason="ill"
    )
    problems = reconcile(session, "2026-11").problems
    assert f"{anna.external_id}: paid 56,00 € for 2026-11, but the delivered, signed visits earn 51,00 €" in problems
    assert any(f"visit {visits[date(2026, 11, 18)]} is paid 20,00 € but earns no allowance" in p for p in problems)

    result = payouts.correct(session, "2026-11", "treasurer", "visits changed after the payout")
    assert result.batch == 2
    by_volunteer = {p.volunteer: p for p in result.payouts}
    anna_fix, boris_fix = by_volunteer[anna], by_volunteer[boris]
    assert anna_fix.kind == "correction" and anna_fix.corrects == first[0] and anna_fix.paid_cents == -500
    assert [(line.amount_cents, line.corrects_line_id is not None) for line in anna_fix.lines] == [
        (-2000, True),
        (1500, False),
    ]
    assert boris_fix.corrects == first[1] and boris_fix.paid_cents == -2000 and boris_fix.iban is None
    assert paid_lines(session, anna)[-1] == (date(2026, 11, 17), 90, 1000, 1500)
    assert payout_check.check(session, "2026-11") == []
    assert payouts.correct(session, "2026-11", "treasurer", "again").payouts == []  # nothing changed


def test_a_correction_of_one_volunteer_leaves_the_others_alone(session):
    anna, boris = month_of_visits(session)
    first = payouts.run(session, "2026-11", "treasurer").payouts
    for payout in first:
        last = payout.lines[-1]
        records.record_visit(session, last.visit_id, "coordinator", status="delivered", end=time(15), reason="early")
    result = payouts.correct(session, "2026-11", "treasurer", "ended early", volunteer_ref=boris.external_id)
    assert [p.volunteer for p in result.payouts] == [boris]
    problems = reconcile(session, "2026-11").problems
    assert any(p.startswith(f"{anna.external_id}: paid") for p in problems)
    assert not any(p.startswith(f"{boris.external_id}:") for p in problems)


def test_the_tax_free_limit_holds_back_what_crosses_it_until_the_organisation_pays_it_taxable(session):
    anna, _ = month_of_visits(session, limit_cents=4000)  # a 40 € limit: crossed by the third visit
    result = payouts.run(session, "2026-11", "treasurer")
    payout = result.payouts[0]
    assert (payout.tax_free_cents, payout.taxable_cents, payout.held_cents, payout.paid_cents) == (4000, 0, 1600, 4000)
    assert payout.tax_free_before_cents == 0 and payout.limit_cents == 4000 and payout.limit_key == "3_26"
    assert result.over_limit[0] == (
        f"{anna.external_id} {anna.name}: the § 3 Nr. 26 EStG limit of 40,00 € is reached; "
        "16,00 € of 2026-11 held back (payout_over_limit: hold)"
    )
    assert payout_check.check(session, "2026-11") == []
    # the treasurer decides to pay it, taxed: the held money goes out with the next correction
    session.execute(text("UPDATE organisation SET payout_over_limit = 'taxable'"))
    session.expire_all()
    release = payouts.correct(session, "2026-11", "treasurer", "board decided to pay it as taxable").payouts
    assert [(p.volunteer, p.lines, p.taxable_cents, p.held_cents, p.paid_cents) for p in release][:1] == [
        (anna, [], 1600, -1600, 1600)
    ]
    assert payout_check.check(session, "2026-11") == []


def test_the_limit_counts_what_the_other_months_of_the_year_paid_tax_free(session):
    month_of_visits(session, weeks=("2026-W43", "2026-W45"), limit_cents=3000, over_limit="taxable")
    october = payouts.run(session, "2026-10", "treasurer").payouts[0]
    assert (october.month, october.tax_free_cents, october.taxable_cents) == ("2026-10", 1800, 0)
    november = payouts.run(session, "2026-11", "treasurer").payouts[0]
    # 18 € of the 30 € limit went in October: 12 € of November's 18 € are tax-free, 6 € taxable
    assert (november.tax_free_before_cents, november.tax_free_cents, november.taxable_cents) == (1800, 1200, 600)
    assert november.paid_cents == 1800 and payout_check.check(session, "2026-11") == []


def test_at_the_years_edge_each_year_has_its_own_limit(session):
    with clock.frozen(datetime(2027, 2, 3, tzinfo=UTC), tick=timedelta(microseconds=1)):
        month_of_visits(session, weeks=("2026-W50", "2026-W53", "2027-W01"), limit_cents=2000, over_limit="taxable")
        december = payouts.run(session, "2026-12", "treasurer").payouts[0]
        january = payouts.run(session, "2027-01", "treasurer").payouts[0]
    # 8 and 29 December at 10 €/h: 40 € against the 20 € limit of 2026; 5 January counts for 2027
    assert (december.tax_free_cents, december.taxable_cents, december.limit_cents) == (2000, 2000, 2000)
    assert (january.month, january.tax_free_before_cents, january.tax_free_cents) == ("2027-01", 0, 2000)


def test_reconcile_catches_a_payout_changed_or_added_behind_the_triggers_back(db_url):
    with db.session_scope(db_url) as s:
        month_of_visits(s)
        payouts.run(s, "2026-11", "treasurer")
    with db.session_scope(db_url) as s:
        assert payout_check.check(s, "2026-11") == []
        drop_guards(s)
        s.execute(
            text(
                "UPDATE payout SET tax_free_cents = tax_free_cents + 10000, earned_cents = earned_cents + "
                "10000 WHERE id = 1"
            )
        )
    with db.session_scope(db_url) as s:
        problems = reconcile(s, "2026-11").problems
    assert "hash chain broken: payout row 1: its content does not match its hash: it was changed" in problems
    assert any("earned 156,00 €, but its lines add up to 56,00 €" in p for p in problems)

    with db.session_scope(db_url) as s:  # a payout line slipped in at the end: a visit paid twice
        s.execute(
            text(
                "INSERT INTO payout_line (id, payout_id, visit_id, record_id, day, minutes, rate_cents, amount_cents, "
                "prev_hash, row_hash) SELECT (SELECT max(id) + 1 FROM payout_line), payout_id, visit_id, record_id, "
                "day, minutes, rate_cents, amount_cents, prev_hash, row_hash FROM payout_line WHERE id = 1"
            )
        )
    with db.session_scope(db_url) as s:
        problems = reconcile(s, "2026-11").problems
    assert any(p.startswith("hash chain broken: payout_line") for p in problems), problems
    assert any("is paid 2 times" in p for p in problems)


def test_the_database_refuses_to_rewrite_payouts(db_url):
    from sqlalchemy.exc import DBAPIError

    with db.session_scope(db_url) as s:
        month_of_visits(s)
        payouts.run(s, "2026-11", "treasurer")
    for statement in ("UPDATE payout SET iban = 'DE02120300000000202051'", "DELETE FROM payout_line"):
        with pytest.raises(DBAPIError, match="append-only: correct them with carecal payout correct"):
            with db.session_scope(db_url) as s:
                s.execute(text(statement))
    with db.session_scope(db_url) as s:
        assert len(s.scalars(select(PayoutLine)).all()) == 6 and {p.iban for p in s.scalars(select(Payout))} == {
            IBAN,
            "DE02120300000000202051",
        }


def test_cli_pays_shows_and_corrects_with_the_iban_masked(cli, db_url):
    with db.session_scope(db_url) as s:
        anna, _ = month_of_visits(s)
        anna_id = anna.external_id
    ran = cli("payout", "run", "--month", "2026-11", "--execution-date", "2026-12-18")
    assert ran.exit_code == 0, ran.stderr
    out = " ".join(ran.stdout.split())
    assert MASKED in out and IBAN not in out and "18.12.2026" in out
    assert "batch 1: 2 payout(s), 112,00 € to transfer" in out
    again = cli("payout", "run", "--month", "2026-11")
    assert again.exit_code != 0 and "were made on" in again.stderr
    shown = cli("payout", "show", "--month", "2026-11")
    assert shown.exit_code == 0 and anna_id in shown.stdout and IBAN not in shown.stdout
    corrected = cli("payout", "correct", "--month", "2026-11", "--reason", "nothing new")
    assert corrected.exit_code == 0 and "nothing to pay" in corrected.stdout
    assert cli("payout", "correct", "--month", "2026-11", "--reason", "x", "--volunteer", "v999").exit_code != 0
