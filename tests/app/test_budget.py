"""Budgets from the database: accruals from care grades and rates, show, corrections."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from carecal import db
from carecal.billing import budgets
from carecal.errors import Conflict, InputError
from carecal.models import AuditEvent, BillingMonth, CareGrade, LedgerEntry
from tests import factories as f


def client_with_rates(session, **fields):
    org = f.organisation(session)
    f.billing_rates(session, org)
    return f.client(session, **fields)


def test_the_ledger_accrues_from_the_care_grades_and_lapses_on_1_july(session):
    client = client_with_rates(session, care_grade=1, grade_from=date(2025, 3, 10))
    on_30_june = budgets.client_ledger(session, client, date(2026, 6, 30))
    assert on_30_june.relief == {"2025": 10 * 13100, "2026": 6 * 13100}
    on_1_july = budgets.client_ledger(session, client, date(2026, 7, 1))
    assert on_1_july.relief_balance() == 7 * 13100


def test_a_care_grade_change_mid_month_counts_by_days_for_the_conversion_budget(session):
    client = client_with_rates(session, care_grade=2, grade_from=date(2025, 1, 1), conversion_budget_opt_in=True)
    client.care_grades.append(CareGrade(grade=3, valid_from=date(2026, 11, 16)))
    session.flush()
    ledger = budgets.client_ledger(session, client, date(2026, 11, 20))
    assert ledger.conversion_balance("2026-11") == (15 * 31840 + 15 * 59880) // 30
    assert budgets.client_ledger(session, client, date(2026, 12, 1)).conversion_balance("2026-12") == 59880


def test_a_correction_is_stored_with_its_reason_and_audited_without_health_data(session):
    client = client_with_rates(session, care_grade=2, grade_from=date(2026, 1, 1))
    entries = budgets.correct(
        session, client, 50000, "Schreiben der AOK vom 18.11.2026", "treasurer", day=date(2026, 11, 20)
    )
    assert [(e.kind, e.vintage, e.amount_cents) for e in entries] == [("correction", "2026", 50000 - 11 * 13100)]
    assert budgets.client_ledger(session, client, date(2026, 11, 20)).relief_balance() == 50000
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "budget.correct")).one()
    assert event.payload["reason"] == "Schreiben der AOK vom 18.11.2026" and event.payload["delta_cents"] == -94100
    assert "grade" not in str(event.payload)
    with pytest.raises(InputError, match="needs a reason"):
        budgets.correct(session, client, 100, " ", "treasurer", day=date(2026, 11, 20))
    session.add(BillingMonth(month="2026-10", runs=1, closed_at=datetime(2026, 11, 5, tzinfo=UTC)))
    with pytest.raises(Conflict, match="month 2026-10 is closed"):
        budgets.correct(session, client, 100, "late letter", "treasurer", day=date(2026, 10, 31))


def test_cli_budget_show_and_correct(cli, db_url):
    with db.session_scope(db_url) as s:
        client = client_with_rates(s, care_grade=2, grade_from=date(2025, 12, 1))
        ref = client.external_id
    shown = cli("budget", "show", ref, "--at", "2026-03-15")
    out = " ".join(shown.stdout.split())
    assert shown.exit_code == 0
    assert "relief amount 2025: 131,00 €, spendable until 30.06.2026" in out
    assert "relief amount available: 524,00 €" in out
    corrected = cli("budget", "correct", ref, "--amount", "400,00", "--reason", "AOK letter", "--at", "2026-03-15")
    assert corrected.exit_code == 0 and "-124,00 €" in corrected.stdout
    after = " ".join(cli("budget", "show", ref, "--at", "2026-07-01").stdout.split())
    # the correction took 124 € from 2025's 131 € first; the 7 € left of 2025 lapsed on
    # 1 July, and 2026 has 393 € + four more months (April to July) of 131 €
    assert "relief amount available: 917,00 €" in after and "2025" in after and "lapse" in after
    assert cli("budget", "correct", ref, "--amount", "12,345", "--reason", "x").exit_code == 2
    assert cli("budget", "show", "nobody").exit_code == 3
    with db.session_scope(db_url) as s:
        assert s.scalars(select(LedgerEntry.reason)).all() == ["AOK letter"]
