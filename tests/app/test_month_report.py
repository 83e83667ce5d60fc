"""The treasurer's month: invoices by payer and funding, payouts, open amounts and the
check results, as an HTML page and a one-page PDF."""

import io
from datetime import date, time

from pypdf import PdfReader
from sqlalchemy import select, text

from carecal import organisation
from carecal.billing import invoicing, month_report, payouts, records
from carecal.models import Invoice
from tests.app.test_payouts import IBAN, after_the_visits, month_of_visits  # noqa: F401 (fixture)


def billed_and_paid(session, **args):
    anna, boris = month_of_visits(session, **args)
    organisation.require(session).payment_term_days = 0  # due the day they are issued
    for client in {r.client for r in (anna.request, boris.request)}:
        client.benefits_assigned_on = date(2026, 1, 1) if client == anna.request.client else None
    invoicing.run_month(session, "2026-11", "treasurer", issued_on=date(2026, 12, 1))
    payouts.run(session, "2026-11", "treasurer")
    return anna, boris


def test_the_view_sums_invoices_by_payer_and_funding_payouts_and_whats_open(session):
    anna, boris = billed_and_paid(session, limit_cents=4000)
    view = month_report.month_view(session, "2026-11")
    assert view.checks_ok and view.problems == []
    # three 2-hour visits each at 18 €/h: Anna's client assigned benefits (insurer), Boris's pays itself
    assert [(g.payer, g.funding, g.invoices, g.total_cents) for g in view.invoices] == [
        ("AOK PLUS", "§45b", 1, 10800),
        ("clients", "§45b", 1, 10800),
    ]
    p = view.payouts
    assert (p.made, p.volunteers, p.earned_cents, p.tax_free_cents, p.held_cents, p.transferred_cents) == (
        True,
        2,
        11200,
        8000,
        3200,
        8000,
    )
    assert p.over_limit == (anna.external_id, boris.external_id) and p.execution_dates == (date(2026, 12, 16),)
    # today (15 Dec) the invoices of 1 December are past a term of 0 days; the held money is open
    opened = {row.what: (row.count, row.cents) for row in view.open}
    assert opened["invoices and credit notes past their due date"] == (2, 21600)
    assert opened["allowances held back above a tax-free limit"] == (2, 3200)
    assert "delivered visits not billed" not in opened


def test_what_does_not_add_up_is_on_the_page(session, tmp_path):
    anna, _ = billed_and_paid(session)
    visit_id = payouts.month_payouts(session, "2026-11", anna.id)[0].lines[-1].visit_id
    invoice = session.scalars(select(Invoice).where(Invoice.client_id == anna.request.client_id)).one()
    invoicing.credit_note(session, invoice.number, "treasurer", "ended early", visit_ids=[visit_id])
    records.record_visit(session, visit_id, "coordinator", status="delivered", end=time(15), reason="early")
    html_path, pdf_path = month_report.write_month_report(session, "2026-11", tmp_path)
    html = html_path.read_text(encoding="utf-8")
    # credited and recorded anew: not billed again yet, and paid for two hours that are now one
    assert "problem(s)" in html and f"visit {visit_id} is paid 120 min at 10,00 €/h = 20,00 €" in html
    assert "delivered visits not billed" in html and IBAN not in html
    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    page = " ".join((reader.pages[0].extract_text() or "").split())
    assert len(reader.pages) == 1 and "PROBLEM(S)" in page and "Invoices by payer and funding" in page


def test_before_billing_and_paying_the_page_says_what_to_run(session, tmp_path):
    month_of_visits(session)
    session.execute(text("UPDATE organisation SET payment_term_days = 14"))
    view = month_report.month_view(session, "2026-11")
    assert view.invoices == [] and not view.payouts.made
    opened = {row.what: (row.count, row.cents) for row in view.open}
    assert opened["delivered visits not billed"] == (6, 6 * 3600)
    assert opened["allowances earned, not paid (negative: paid, no longer earned)"] == (0, 11200)
    html = month_report.render_html(view)
    assert "carecal billing run --month 2026-11" in html and "carecal payout run --month 2026-11" in html


def test_cli_writes_both_files(cli, db_url, tmp_path):
    from carecal import db

    with db.session_scope(db_url) as s:
        billed_and_paid(s)
    made = cli("report", "month", "--month", "2026-11", "--out", tmp_path)
    assert made.exit_code == 0, made.stderr
    assert (tmp_path / "month_2026-11.html").exists() and (tmp_path / "month_2026-11.pdf").exists()
    assert "reconciled" in made.stdout
