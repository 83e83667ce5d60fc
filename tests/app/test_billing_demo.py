"""The billing demo step on the demo association's real data, then `billing reconcile`."""

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from carecal import clock, db, pseudonyms
from carecal.billing import demo as billing_demo
from carecal.billing import invoicing, payouts, records
from carecal.cli.main import app
from carecal.demo import DemoContext, DemoWeeks, load_master_data
from carecal.errors import RuleBroken
from carecal.models import (
    Activity,
    CareRequest,
    Client,
    Insurer,
    Invoice,
    LedgerEntry,
    Organisation,
    VisitRecord,
    Volunteer,
)
from carecal.weeks import to_local
from tests import factories as f

WEEK = "2026-W48"


def published_demo_week(url: str, visits: int = 40) -> None:
    """The demo week as the roster step would publish it: one visit per care request,
    spread over the weekdays and the demo volunteers (matching is not billing's concern)."""
    with db.session_scope(url) as s:
        requests = s.scalars(select(CareRequest).order_by(CareRequest.external_id)).all()[:visits]
        volunteers = s.scalars(select(Volunteer).order_by(Volunteer.external_id)).all()
        for n, request in enumerate(requests):
            f.published_visit(
                s,
                WEEK,
                request,
                volunteers[n % len(volunteers)],
                day=("mon", "tue", "wed", "thu", "fri")[n % 5],
                start=("09:00", "13:00", "15:30")[n // 5 % 3],
            )


def test_the_demo_step_bills_reprints_unchanged_and_reconcile_fails_on_a_tampered_row(
    sqlite_url, tmp_path, monkeypatch
):
    db.upgrade(sqlite_url)
    weeks = DemoWeeks.around(date(2026, 12, 1))  # last week 2026-W48, billed: 2026-10 and 2026-11
    ctx = DemoContext(url=sqlite_url, out=tmp_path, console=Console(width=200), weeks=weeks)
    load_master_data(ctx)
    published_demo_week(sqlite_url)
    with clock.frozen(datetime(2026, 11, 30, 7, tzinfo=UTC)):  # the Monday after, 08:00 in Chemnitz
        billing_demo.record_week(ctx, weeks.last)
    with clock.frozen(datetime(2026, 12, 1, 10, tzinfo=UTC)):
        billing_demo.step(ctx)

    for name in (
        "hours_2026-11.csv",
        "hours_2026-11_insurer-aok-plus-pflegekasse.xlsx",
        "hours_2026-11_tax-office.csv",
        "allowances_2026.csv",
        "audit-log.csv",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    # the demo's pseudonym key: made for it, beside its database, only for its owner
    key_file = Path(f"{make_url(sqlite_url).database}.pseudonym-key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(pseudonyms.read_key_file(key_file)) == 32
    assert len(list((tmp_path / "proofs").glob("leistungsnachweis_2026-11_*.pdf"))) >= 20
    hours = (tmp_path / "hours_2026-11.csv").read_text(encoding="utf-8")
    assert "cancelled-by-client" in hours and "none: " in hours and "laut Notiz" in hours

    with db.session_scope(sqlite_url) as s:
        invoices = s.scalars(select(Invoice).order_by(Invoice.sequence)).all()
        assert [i.sequence for i in invoices] == list(range(1, len(invoices) + 1))
        assert {i.issued_on for i in invoices} == {date(2026, 12, 1)}
        assert s.scalars(select(LedgerEntry)).first() is not None

    monkeypatch.setenv("CARECAL_DB", sqlite_url)
    runner = CliRunner()
    passed = runner.invoke(app, ["billing", "reconcile", "--month", "2026-11"])
    assert passed.exit_code == 0 and "reconciled" in passed.stdout

    # An issued invoice is a document: after credit notes and new records, new addresses of
    # the clients, the insurers and the association, and a reworded catalogue, every invoice
    # the demo issued prints exactly as it was sent.
    from carecal.billing import documents

    sent = {p.name: p.read_bytes() for p in (tmp_path / "invoices").glob("rechnung_*.pdf")}
    assert len(sent) >= 20
    with clock.frozen(datetime(2026, 12, 3, 10, tzinfo=UTC)), db.session_scope(sqlite_url) as s:
        for invoice in s.scalars(select(Invoice).order_by(Invoice.sequence).limit(3)).all():
            visit_id = invoice.lines[0].visit_id
            invoicing.credit_note(s, invoice.number, "treasurer", "Zeit falsch erfasst", [visit_id])
            record = s.scalars(select(VisitRecord).where(VisitRecord.visit_id == visit_id)).one()
            end = (to_local(record.ended_at, "Europe/Berlin") - timedelta(minutes=15)).time()
            records.record_visit(s, visit_id, "anna", status="delivered", end=end, reason="laut Notiz")
        invoicing.run_month(s, "2026-11", "treasurer")
        payouts.correct(s, "2026-11", "treasurer", "Zeiten laut Notiz korrigiert")  # the demo paid the month
        s.execute(update(Client).values(street="Neue Straße 1", representative_name=None))
        s.execute(update(Insurer).values(street="Postfach 1", postcode="01001"))
        s.execute(update(Organisation).values(street="Markt 1", iban="DE02120300000000202051", payment_term_days=30))
        for activity in s.scalars(select(Activity)).all():
            activity.labels = {**activity.labels, "de": activity.labels["de"].upper()}

    again = tmp_path / "again"
    with db.session_scope(sqlite_url) as s:
        documents.write_invoices(s, again, month="2026-11")
    reprinted = {p.name: p.read_bytes() for p in again.glob("rechnung_*.pdf")}
    assert reprinted == sent
    assert len(list(again.glob("rechnungskorrektur_*.pdf"))) == 3 and len(list(again.glob("korrektur*.pdf"))) == 3
    passed = runner.invoke(app, ["billing", "reconcile", "--month", "2026-11"])
    assert passed.exit_code == 0 and "reconciled" in passed.stdout

    tamper = text(
        "UPDATE visit_record SET ended_at = datetime(ended_at, '+30 minutes') WHERE id = "
        "(SELECT record_id FROM invoice_line ORDER BY id LIMIT 1)"
    )
    with pytest.raises(RuleBroken, match="is billed"), db.session_scope(sqlite_url) as s:
        s.execute(tamper)  # the database itself refuses to change a billed record ...
    with db.session_scope(sqlite_url) as s:  # ... so someone drops its guard first, behind carecal's back
        s.execute(text("DROP TRIGGER visit_record_billed_unchanged"))
        s.execute(tamper)
    failed = runner.invoke(app, ["billing", "reconcile", "--month", "2026-11"])
    assert failed.exit_code == 1
    assert "problem" in failed.stderr and "billed" in " ".join(failed.stderr.split())
