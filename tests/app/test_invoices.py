"""Invoice documents, credit notes, collective invoices and the proof of service, read back
as text: every field a payer needs, names in any script as written."""

import unicodedata
from datetime import UTC, date, datetime, time

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from carecal import clock, db, lookup, organisation
from carecal.billing import invoicing, records
from carecal.models import Activity, Insurer, Invoice
from carecal.weeks import IsoWeek
from tests import factories as f

AFTER = datetime(2026, 12, 15, tzinfo=UTC)
INVOICE_DETAILS = {
    "tax_number": "215/140/01234",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "bank_name": "Beispielbank Chemnitz",
    "payment_term_days": 14,
}


def pdf_text(path) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.fixture
def billed(db_url):
    """November 2026: a Russian-speaking client with a representative and an assignment of
    benefits (AOK PLUS pays), a Vietnamese client at the same insurer, a client who pays
    herself; two visits each, billed on 1 December, one visit credited on 5 December."""
    with db.session_scope(db_url) as s:
        org = f.organisation(s, **INVOICE_DETAILS)
        f.billing_rates(s, org)
        natalia = f.volunteer(s, first_name="Natalia", last_name="Wolkowa")
        ljudmila = f.client(
            s,
            first_name="Людмила",
            last_name="Иванова",
            street="Straße der Nationen 1",
            postcode="09111",
            representative_name="Ольга Иванова",
            insurance_number="A123456789",
            benefits_assigned_on=date(2026, 1, 1),
        )
        huong = f.client(
            s,
            first_name="Nguyễn Thị",
            last_name="Hương",
            street="Zschopauer Straße 5",
            postcode="09126",
            insurance_number="B987654321",
            benefits_assigned_on=date(2026, 2, 1),
        )
        paying = f.client(s, first_name="Erika", last_name="Selbst", street="Markt 1", postcode="09111")
        for client in (ljudmila, huong, paying):
            care = f.category(s, *f.CARE)
            reading = f.activity(s, "reading", {"de": "Vorlesen und Gespräch"}, category_key=care.key)
            request = f.care_request(s, client, activity_key=reading.key)
            for week in ("2026-W45", "2026-W46"):
                f.published_visit(s, week, request, natalia, day="tue")
        with clock.frozen(AFTER):
            for week in ("2026-W45", "2026-W46"):
                records.confirm_week(s, IsoWeek.parse(week), "anna")
            run = invoicing.run_month(s, "2026-11", "treasurer", issued_on=date(2026, 12, 1))
        by_client = {i.client.external_id: i for i in run.invoices}
        first = by_client[ljudmila.external_id]
        credit = invoicing.credit_note(
            s, first.number, "treasurer", "Besuch doppelt erfasst", [first.lines[0].visit_id], date(2026, 12, 5)
        )
        return {
            "ljudmila": (ljudmila.external_id, first.number, ljudmila.insurer_ik),
            "huong": (huong.external_id, by_client[huong.external_id].number),
            "paying": (paying.external_id, by_client[paying.external_id].number),
            "credit": credit.number,
        }


def test_an_invoice_to_the_insurer_has_every_field(cli, billed, tmp_path):
    client, number, ik = billed["ljudmila"]
    result = cli("export", "invoice", "--number", number, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    text = pdf_text(tmp_path / "out" / f"rechnung_{number}.pdf")
    for expected in (
        "Brücke Chemnitz e. V.",
        "Straße der Nationen 12, 09111 Chemnitz",
        "IK 461234567",
        "Steuernummer 215/140/01234",
        "§ 4 Nr. 16 UStG",
        f"AOK PLUS Pflegekasse, IK {ik} Sternplatz 7 01067 Dresden",  # the insurer's postal address
        f"Rechnung {number}",
        "Rechnungsnummer: 2026-0001",
        "Datum: 01.12.2026",
        "Leistungszeitraum: 01.11.2026 – 30.11.2026",
        "Людмила Иванова, Straße der Nationen 1, 09111 Chemnitz",
        "Versichertennummer: A123456789",
        "Abtretungserklärung vom 01.01.2026",
        "03.11.2026 14:00–16:00 120 Vorlesen und Gespräch Betreuung 18,00 € 36,00 € § 45b SGB XI",
        "10.11.2026 14:00–16:00 120",
        "Rechnungsbetrag: 72,00 €",
        "Entlastungsbetrag nach § 45b SGB XI",
        "§ 45a SGB XI",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "bis zum 15.12.2026 (14 Tage nach Rechnungsdatum)",
    ):
        assert expected in text, expected


def test_an_invoice_to_the_client_names_no_insurance_number(cli, billed, tmp_path):
    _, number = billed["paying"]
    assert cli("export", "invoice", "--month", "2026-11", "--payer", "client", "--out", tmp_path / "out").exit_code == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"rechnung_{number}.pdf"]
    text = pdf_text(tmp_path / "out" / f"rechnung_{number}.pdf")
    assert "Erika Selbst Markt 1 09111 Chemnitz" in text and "Rechnungsbetrag: 72,00 €" in text
    assert "Versichertennummer" not in text and "Abtretung" not in text and "Pflegekasse, IK" not in text


def test_a_credit_note_names_the_invoice_it_corrects(cli, billed, tmp_path):
    _, number, _ = billed["ljudmila"]
    credit = billed["credit"]
    assert cli("export", "invoice", "--number", credit, "--out", tmp_path / "out").exit_code == 0
    text = pdf_text(tmp_path / "out" / f"rechnungskorrektur_{credit}.pdf")
    for expected in (
        f"Rechnungskorrektur (Gutschrift) {credit}",
        f"zu Rechnung: {number} vom 01.12.2026",
        f"storniert Leistungen der Rechnung {number} vom 01.12.2026. Grund: Besuch doppelt erfasst",
        "Datum: 05.12.2026",
        "03.11.2026 14:00–16:00 120",
        "-36,00 €",
        "Gutschrift: -36,00 €",
        "Den Betrag von 36,00 € erstatten wir",
        "§ 4 Nr. 16 UStG",
    ):
        assert expected in text, expected


def test_a_collective_invoice_has_one_section_per_client_of_the_insurer(cli, billed, tmp_path):
    _, number, ik = billed["ljudmila"]
    _, huong_number = billed["huong"]
    result = cli("export", "invoice", "--month", "2026-11", "--collective", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"sammelrechnung_2026-11_{ik}.pdf"]
    text = pdf_text(tmp_path / "out" / f"sammelrechnung_2026-11_{ik}.pdf")
    for expected in (
        "Sammelrechnung 11/2026",
        f"AOK PLUS Pflegekasse, IK {ik}",
        f"S-2026-11-{ik}",
        "Klient/innen: 2",
        "1. Nguyễn Thị Hương",
        "Versichertennummer: B987654321",
        "Abtretungserklärung: vom 01.02.2026",
        f"Rechnung {huong_number} vom 01.12.2026",
        "Summe Nguyễn Thị Hương: 72,00 €",
        "2. Людмила Иванова",
        f"Rechnung {number} vom 01.12.2026",
        f"zu Rechnung {number}: Besuch doppelt erfasst",
        "Summe Людмила Иванова: 36,00 €",
        "Gesamtbetrag: 108,00 €",
        "§ 4 Nr. 16 UStG",
        "IBAN DE89 3704 0044 0532 0130 00",
    ):
        assert expected in text, expected
    assert "Erika" not in text  # she pays herself: not the insurer's business


def test_the_proof_of_service_is_complete(cli, billed, tmp_path):
    client, number, ik = billed["ljudmila"]
    assert cli("export", "proof", "--month", "2026-11", "--client", client, "--out", tmp_path / "out").exit_code == 0
    text = pdf_text(tmp_path / "out" / f"leistungsnachweis_2026-11_{client}.pdf")
    for expected in (
        "Leistungsnachweis 11/2026",
        "Klient/in: Людмила Иванова",
        "Anschrift: Straße der Nationen 1, 09111 Chemnitz",
        "Versichertennummer: A123456789",
        f"AOK PLUS (IK {ik})",
        "Vertreten durch: Ольга Иванова",
        f"Rechnung: {number} vom 01.12.2026",
        "Vorlesen und Gespräch Betreuung",  # readable labels, not the key `betreuung`
        "§ 45b SGB XI 36,00 €",  # the source applied to the line that is still billed
        "nicht abgerechnet",  # the credited visit
        f"Abgerechnet über: Entlastungsbetrag nach § 45b SGB XI (Rechnung {number})",
        "Unterschrift Vertreter/in (Ольга Иванова)",
        "Unterschrift Brücke Chemnitz e. V.",
    ):
        assert expected in text, expected
    assert "Vertretung" not in text and "§ 45a Abs. 4" not in text  # no source that was not used

    client, _ = billed["huong"]
    assert cli("export", "proof", "--month", "2026-11", "--client", client, "--out", tmp_path / "out").exit_code == 0
    text = pdf_text(tmp_path / "out" / f"leistungsnachweis_2026-11_{client}.pdf")
    assert "Klient/in: Nguyễn Thị Hương" in text and "Unterschrift Klient/in (Nguyễn Thị Hương)" in text


def one_delivered_visit(session, *, insurers=(f.AOK,), **org_fields) -> None:
    org = f.organisation(session, insurers=insurers, **org_fields)
    f.billing_rates(session, org)
    client = f.client(session, benefits_assigned_on=date(2026, 1, 1))
    f.published_visit(session, "2026-W45", f.care_request(session, client), f.volunteer(session))
    with clock.frozen(AFTER):
        records.confirm_week(session, IsoWeek.parse("2026-W45"), "anna")


def test_invoices_need_the_associations_tax_number_and_bank_details(cli, db_url):
    with db.session_scope(db_url) as s:
        one_delivered_visit(s, tax_number=None, iban=None, payment_term_days=None)
    result = cli("--now", AFTER.isoformat(), "billing", "run", "--month", "2026-11")
    assert result.exit_code == 2
    assert "tax number, IBAN, payment term" in result.stderr and "carecal import organisation" in result.stderr
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Invoice)).all() == []


def test_an_insurer_is_billed_only_with_its_postal_address_on_file(cli, db_url):
    with db.session_scope(db_url) as s:
        one_delivered_visit(s, insurers=())
    result = cli("--now", AFTER.isoformat(), "billing", "run", "--month", "2026-11")
    assert result.exit_code == 2
    assert "the care insurer AOK PLUS (IK 107299005) has no postal address on file" in result.stderr
    assert "insurers" in result.stderr and "carecal import organisation" in result.stderr


def test_invoice_selection_errors_are_clear(cli, billed, tmp_path):
    assert cli("export", "invoice", "--out", tmp_path / "out").exit_code == 2
    assert cli("export", "invoice", "--month", "2026-11", "--payer", "aok", "--out", tmp_path / "out").exit_code == 2
    assert cli("export", "invoice", "--month", "2026-10", "--out", tmp_path / "out").exit_code == 3
    assert cli("export", "invoice", "--number", "2026-9999", "--out", tmp_path / "out").exit_code == 3


def test_a_reprint_is_byte_for_byte_the_invoice_that_was_sent(cli, db_url, billed, tmp_path):
    """Issue 27's case: a visit credited and recorded anew (09:00-11:00 printed, 09:00-10:30
    now) must not change the invoice or the credit note that were sent; nor may a new
    address of the client, the insurer or the association, or a reworded activity."""
    first = tmp_path / "first"
    assert cli("export", "invoice", "--month", "2026-11", "--out", first).exit_code == 0
    sent = {p.name: p.read_bytes() for p in first.iterdir()}
    assert len(sent) == 4  # three invoices and the credit note

    client, number, _ = billed["ljudmila"]
    with db.session_scope(db_url) as s:
        credited = invoicing.find_invoice(s, billed["credit"]).lines[0].visit_id
        with clock.frozen(AFTER):
            records.record_visit(s, credited, "anna", status="delivered", end=time(15, 30), reason="laut Notiz")
        person = lookup.client(s, client)
        person.street, person.representative_name = "Neue Straße 9", "Пётр Иванов"
        s.execute(update(Insurer).values(street="Anderswo 1", postcode="01099"))
        org = organisation.require(s)
        org.street, org.iban, org.tax_number = "Zschopauer Straße 1", "DE02120300000000202051", "215/140/99999"
        s.execute(update(Activity).where(Activity.key == "reading").values(labels={"de": "Lesen"}))
    again = tmp_path / "again"
    assert cli("export", "invoice", "--month", "2026-11", "--out", again).exit_code == 0
    assert {p.name: p.read_bytes() for p in again.iterdir()} == sent

    text = pdf_text(first / f"rechnungskorrektur_{billed['credit']}.pdf")
    assert "03.11.2026 14:00–16:00 120 Vorlesen und Gespräch" in text  # as the line it reverses was printed
    # the collective invoice of the month is made of the documents as they were issued
    assert cli("export", "invoice", "--month", "2026-11", "--collective", "--out", again).exit_code == 0
    collective = pdf_text(next(again.glob("sammelrechnung_*.pdf")))
    assert "Straße der Nationen 1" in collective and "Sternplatz 7" in collective and "Neue Straße" not in collective


def test_a_correction_invoice_names_the_original_it_adds_to(cli, db_url, billed, tmp_path):
    _, number, _ = billed["ljudmila"]
    with db.session_scope(db_url) as s, clock.frozen(AFTER):
        credited = invoicing.find_invoice(s, billed["credit"]).lines[0].visit_id
        records.record_visit(s, credited, "anna", status="delivered", end=time(15, 30), reason="laut Notiz")
    run = cli("--now", AFTER.isoformat(), "billing", "run", "--month", "2026-11", "--issued", "2026-12-15")
    assert run.exit_code == 0, run.stderr
    with db.session_scope(db_url) as s:
        corrections = [i for i in invoicing.list_invoices(s, month="2026-11") if i.supplements]
        assert [(i.funding, i.total_cents, i.supplements.number) for i in corrections] == [("relief", 2700, number)]
        correction = corrections[0].number
    assert cli("export", "invoice", "--number", correction, "--out", tmp_path / "out").exit_code == 0
    text = pdf_text(tmp_path / "out" / f"korrekturrechnung_{correction}.pdf")
    for expected in (
        f"Korrekturrechnung {correction}",
        f"zu Rechnung: {number} vom 01.12.2026",
        "nicht enthalten sind (nachträglich erfasst oder nach einer Gutschrift neu berechnet)",
        "03.11.2026 14:00–15:30 90 Vorlesen und Gespräch Betreuung 18,00 € 27,00 € § 45b SGB XI",
        "Rechnungsbetrag: 27,00 €",
    ):
        assert expected in text, expected


def test_billing_list_and_export_invoice_by_client(cli, billed, tmp_path):
    client, number, _ = billed["ljudmila"]
    listed = cli("billing", "list", "--client", client)
    assert listed.exit_code == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines() if line.strip().startswith("2026-")]
    assert rows == [
        [number, "01.12.2026", "2026-11", client, "§45b", "72,00", "€", "invoice"],
        [billed["credit"], "05.12.2026", "2026-11", client, "§45b", "-36,00", "€", "credit", "of", number],
    ]
    assert "2 document(s), 36,00 €" in listed.stdout
    assert "no invoice matches" in cli("billing", "list", "--month", "2026-10").stdout
    assert cli("billing", "list", "--client", "c999").exit_code == 3

    out = tmp_path / "out"
    assert cli("export", "invoice", "--client", client, "--out", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"rechnung_{number}.pdf", f"rechnungskorrektur_{billed['credit']}.pdf"]
    )
