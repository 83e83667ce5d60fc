"""A visit paid from two sources is billed once, at its one price, and shown honestly: last
year's carry-over and this year's amount (one line, two ledger spends), a budget used up in
the middle of a visit and the next budget, a budget and the private remainder (one line per
source, each on its source's invoice and marked as part of the visit). Reconcile counts the
parts of a visit, not its lines; the proof of service and the exports show the same split."""

import io
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from carecal import clock
from carecal.billing import budgets, exports, invoicing, issued, proof, records
from carecal.billing.reconcile import reconcile
from carecal.models import Invoice, LedgerEntry
from carecal.weeks import IsoWeek
from tests import factories as f


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def tick(moment: datetime):
    return clock.frozen(moment, tick=timedelta(microseconds=1))


def association(session, *, grade_from=date(2026, 1, 1), opt_in=False, assigned=True):
    org = f.organisation(session)
    f.billing_rates(session, org)
    client = f.client(
        session,
        care_grade=2,
        grade_from=grade_from,
        conversion_budget_opt_in=opt_in,
        benefits_assigned_on=date(2025, 1, 1) if assigned else None,
    )
    return client, f.care_request(session, client), f.volunteer(session)


def delivered(session, week: str, request, volunteer, *, day="tue"):
    """A published two-hour visit (36 € at 18 €/h), confirmed as delivered."""
    visit = f.published_visit(session, week, request, volunteer, day=day)
    records.confirm_week(session, IsoWeek.parse(week), "anna")
    return visit


def spends(session, visit_id: int) -> list[tuple[str, str, int]]:
    rows = session.scalars(select(LedgerEntry).where(LedgerEntry.reason == f"visit {visit_id}")).all()
    return sorted((e.budget, e.vintage, e.amount_cents) for e in rows)


def lines_of(invoices: list[Invoice]) -> dict[str, list[tuple[int, int, int]]]:
    return {i.funding: [(ln.visit_id, ln.amount_cents, ln.visit_price_cents) for ln in i.lines] for i in invoices}


def test_last_years_carry_over_and_this_years_amount_pay_one_line(session):
    from carecal.billing import documents

    client, request, volunteer = association(session)
    with tick(datetime(2027, 1, 4, 8, tzinfo=UTC)):
        # the insurer reports 135,50 € left: 4,50 € of 2026 and January's 131 €
        budgets.correct(session, client, 13550, "Kasse meldet Rest", "treasurer", day=date(2027, 1, 4))
    with tick(datetime(2027, 1, 6, 8, tzinfo=UTC)):
        visit = delivered(session, "2027-W01", request, volunteer)  # Tue 5 January
    with tick(datetime(2027, 2, 2, 8, tzinfo=UTC)):
        (invoice,) = invoicing.run_month(session, "2027-01", "treasurer").invoices
        assert invoice.funding == "relief" and invoice.number == "2027-0001"
        assert [(ln.visit_id, ln.amount_cents, ln.visit_price_cents) for ln in invoice.lines] == [
            (visit.id, 3600, 3600)
        ]
        assert spends(session, visit.id) == [("relief", "2026", -450), ("relief", "2027", -3150)]
        report = reconcile(session, "2027-01")
        assert report.ok, report.problems
        invoicing.close_month(session, "2027-01", "treasurer")

        (line,) = proof.proof_lines(session, client, "2027-01", "Europe/Berlin")
        assert line.funding == "§ 45b SGB XI 36,00 € (4,50 € Übertrag aus 2026, 31,50 € aus 2027)"
        assert line.amount_cents == 3600
        (row,) = exports.hours_rows(session, "2027-01")
        column = {name: i for i, name in enumerate(exports.HOURS_COLUMNS)}
        assert row[column["funding"]] == "§45b"
        assert row[column["funding_parts"]] == "§45b 2026 4.50 + §45b 2027 31.50"
        assert str(row[column["amount_eur"]]) == "36.00"
        text = pdf_text(documents.render_invoice(issued.printed(session, invoice)))
        assert "36,00 € § 45b SGB XI (4,50 € Übertrag aus 2026, 31,50 € aus 2027)" in text


def test_a_budget_used_up_mid_visit_hands_the_rest_to_the_next_budget(session):
    client, request, volunteer = association(session, opt_in=True)
    with tick(datetime(2026, 11, 2, 8, tzinfo=UTC)):
        budgets.correct(session, client, 2000, "Kasse meldet 20 € Rest", "treasurer", day=date(2026, 11, 2))
    with tick(datetime(2026, 11, 4, 8, tzinfo=UTC)):
        visit = delivered(session, "2026-W45", request, volunteer)  # Tue 3 November
    with tick(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        invoices = invoicing.run_month(session, "2026-11", "treasurer").invoices
        assert lines_of(invoices) == {"relief": [(visit.id, 2000, 3600)], "conversion": [(visit.id, 1600, 3600)]}
        assert spends(session, visit.id) == [("conversion", "2026-11", -1600), ("relief", "2026", -2000)]
        assert {i.funding: i.payer for i in invoices} == {"relief": "insurer", "conversion": "insurer"}
        report = reconcile(session, "2026-11")
        assert report.ok, report.problems
        assert report.figures["billed_visits"] == 1 and report.figures["invoiced_cents"] == 3600
        (line,) = proof.proof_lines(session, client, "2026-11", "Europe/Berlin")
        assert line.funding == "§ 45b SGB XI 20,00 €\n§ 45a Abs. 4 SGB XI 16,00 €"


def budget_and_private(session):
    """20 € of relief money left for a 36 € visit on Tue 3 November: 20 € to the insurer,
    16 € privately to the client."""
    client, request, volunteer = association(session)
    with tick(datetime(2026, 11, 2, 8, tzinfo=UTC)):
        budgets.correct(session, client, 2000, "Kasse meldet 20 € Rest", "treasurer", day=date(2026, 11, 2))
    with tick(datetime(2026, 11, 4, 8, tzinfo=UTC)):
        visit = delivered(session, "2026-W45", request, volunteer)
    with tick(datetime(2026, 12, 2, 8, tzinfo=UTC)):
        invoices = invoicing.run_month(session, "2026-11", "treasurer").invoices
    return client, visit, invoices


def test_a_budget_and_the_private_remainder_are_two_marked_parts_of_one_visit(session):
    from carecal.billing import documents

    client, visit, invoices = budget_and_private(session)
    assert lines_of(invoices) == {"relief": [(visit.id, 2000, 3600)], "private": [(visit.id, 1600, 3600)]}
    assert {i.funding: (i.payer, i.total_cents) for i in invoices} == {
        "relief": ("insurer", 2000),
        "private": ("client", 1600),
    }
    assert spends(session, visit.id) == [("relief", "2026", -2000)]
    report = reconcile(session, "2026-11")
    assert report.ok, report.problems
    assert (report.figures["ledger_cents"], report.figures["private_cents"]) == (2000, 1600)
    # each invoice shows its part of the one price
    views = [issued.printed(session, i) for i in invoices]
    assert [(v.lines[0].amount_cents, v.lines[0].part, v.lines[0].funding) for v in views] == [
        (2000, True, "§ 45b SGB XI"),
        (1600, True, "privat"),
    ]
    text = pdf_text(documents.render_invoice(views[1]))
    assert (
        "03.11.2026 14:00–16:00 120 Gespräch und Spaziergang Betreuung 18,00 € 16,00 € (Teil von 36,00 €) privat"
        in text
    )


def test_a_credit_note_of_a_split_visit_reverses_every_part_and_the_rerun_bills_it_once(session):
    client, visit, invoices = budget_and_private(session)
    relief = next(i for i in invoices if i.funding == "relief")
    private = next(i for i in invoices if i.funding == "private")
    with tick(datetime(2026, 12, 3, 8, tzinfo=UTC)):
        credits = invoicing.credit(session, relief.number, "treasurer", "Besuch endete früher", [visit.id])
        assert [(c.corrects, c.total_cents) for c in credits] == [(relief, -2000), (private, -1600)]
        assert spends(session, visit.id) == [("relief", "2026", -2000)]  # the spend stays, its refund is beside it
        refunds = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refund")).all()
        assert [(r.vintage, r.amount_cents, r.day) for r in refunds] == [("2026", 2000, date(2026, 11, 3))]
        # the visit is still delivered and now unbilled: the month does not add up until it is billed again
        report = reconcile(session, "2026-11")
        assert any(f"visit {visit.id}" in p and "bill it again" in p for p in report.problems)

        records.record_visit(session, visit.id, "anna", status="delivered", end=time(15, 30), reason="früher beendet")
        again = invoicing.run_month(session, "2026-11", "treasurer").invoices
        # 90 min at 18 €/h = 27 €: 20 € relief again, 7 € private; each a correction of its original
        assert lines_of(again) == {"relief": [(visit.id, 2000, 2700)], "private": [(visit.id, 700, 2700)]}
        assert [i.supplements for i in again] == [relief, private]
        report = reconcile(session, "2026-11")
        assert report.ok, report.problems
        invoicing.close_month(session, "2026-11", "treasurer")


def test_reconcile_names_a_split_visit_credited_only_in_part(session):
    from carecal.billing.invoicing import _reverse

    _, visit, invoices = budget_and_private(session)
    private = next(i for i in invoices if i.funding == "private")
    with tick(datetime(2026, 12, 3, 8, tzinfo=UTC)):
        head = issued.Letterhead.of(session)
        _reverse(session, private, private.lines, "treasurer", "nur der private Teil", date(2026, 12, 3), head)
        problems = reconcile(session, "2026-11").problems
    assert (
        f"visit {visit.id}: billed 20,00 €, but 120 min at 18,00 €/h is 36,00 € (part of it was credited)" in problems
    )


def test_a_split_visit_in_the_last_week_before_the_lapse_and_its_credit_after_it(session):
    client, request, volunteer = association(session, grade_from=date(2026, 1, 1))
    with tick(datetime(2027, 6, 1, 8, tzinfo=UTC)):
        # 4,50 € of 2026 left, and 2027's six months
        budgets.correct(session, client, 450 + 6 * 13100, "Kasse meldet Rest", "treasurer", day=date(2027, 6, 1))
    with tick(datetime(2027, 6, 29, 8, tzinfo=UTC)):
        visit = delivered(session, "2027-W26", request, volunteer, day="mon")  # Monday 28 June
    with tick(datetime(2027, 7, 2, 8, tzinfo=UTC)):
        (invoice,) = invoicing.run_month(session, "2027-06", "treasurer").invoices
        assert spends(session, visit.id) == [("relief", "2026", -450), ("relief", "2027", -3150)]
        assert reconcile(session, "2027-06").ok
        on_1_july = budgets.client_ledger(session, client, date(2027, 7, 1))
        assert on_1_july.relief == {"2026": 0, "2027": 7 * 13100 - 3150}
        assert not [line for line in on_1_july.lines if line.movement.kind == "lapse"]  # nothing left to lapse

        # credited in July: the 4,50 € go back to 2026's money as of 28 June, and so lapse on 1 July
        invoicing.credit_note(session, invoice.number, "treasurer", "falsche Zeit", [visit.id])
        after = budgets.client_ledger(session, client, date(2027, 7, 2))
        assert after.relief == {"2026": 0, "2027": 7 * 13100}
        assert [(m.movement.vintage, m.movement.amount_cents) for m in after.lines if m.movement.kind == "lapse"] == [
            ("2026", -450)
        ]
        # billed again, the June visit still takes 2026's money: it took place before the lapse
        records.record_visit(session, visit.id, "anna", status="delivered", end=time(15, 0), reason="kürzer")
        (again,) = invoicing.run_month(session, "2027-06", "treasurer").invoices
        assert again.supplements == invoice and again.total_cents == 1800
        assert spends(session, visit.id) == [
            ("relief", "2026", -450),
            ("relief", "2026", -450),
            ("relief", "2027", -3150),
            ("relief", "2027", -1350),
        ]
        assert reconcile(session, "2027-06").ok
        invoicing.close_month(session, "2027-06", "treasurer")
        assert budgets.client_ledger(session, client, date(2027, 7, 2)).relief == {"2026": 0, "2027": 7 * 13100 - 1350}
