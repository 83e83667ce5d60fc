"""Hostile and broken files at the CSV/XLSX importers: a clear error (exit 2) that says what
and where, fast, with bounded memory, never a traceback and never a huge value echoed."""

import io
import json
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from carecal.masterdata.files import MAX_CELL_CHARS
from carecal.masterdata.paths import DATA_DIR

HEADER = "external_id,first_name,last_name,date_of_birth,languages,district\n"
ROW = "c001,Olga,Schmidt,1941-05-09,ru,Zentrum\n"
SECONDS = 2.0
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture
def run_import(sqlite_url, monkeypatch, tmp_path_factory):
    """`carecal import clients|requests FILE --dry-run` in this process, timed (after one
    untimed call that opens the database and loads what a first command loads)."""
    from carecal.cli.main import app

    monkeypatch.setenv("CARECAL_DB", sqlite_url)
    runner = CliRunner()

    def invoke(path, kind="clients"):
        # CPU seconds of this process: the importer's own work, whatever else keeps the machine busy
        started = time.process_time()
        result = runner.invoke(app, ["import", kind, str(path), "--dry-run"], catch_exceptions=False)
        return result, time.process_time() - started

    warm_up = tmp_path_factory.mktemp("warm") / "clients.csv"
    warm_up.write_text(HEADER, encoding="utf-8")
    invoke(warm_up)
    return invoke


def _xlsx(rows=(("external_id", "first_name"), ("c1", "Olga"))) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_sheet(xml: bytes) -> bytes:
    """A valid workbook whose first sheet is replaced by `xml`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_xlsx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, xml if item.filename == SHEET else source.read(item.filename))
    return out.getvalue()


SHEET_HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _refused(result, seconds, *needles):
    assert result.exit_code == 2, result.output
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert len(result.stderr) < 4000, "no huge value echoed"
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_a_csv_field_over_131072_characters_is_an_error_not_a_traceback(run_import, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text(HEADER + ROW.replace("Olga", "x" * 131_073), encoding="utf-8")
    _refused(*run_import(path), "row 2, column first_name", f"longer than {MAX_CELL_CHARS} characters")


def test_a_thousand_bad_rows_make_a_short_report(run_import, tmp_path):
    path = tmp_path / "clients.csv"
    bad = ROW.replace(",ru,", "," + "xx; " * 400 + ",")
    path.write_text(HEADER + "".join(bad.replace("c001", f"c{n:04d}") for n in range(1000)), encoding="utf-8")
    result, seconds = run_import(path)
    assert result.exit_code == 2 and seconds < SECONDS
    assert "1000 problem(s) in 1000 row(s)" in result.stderr and "... and 900 more" in result.stderr
    assert len(result.stderr) < 60_000 and "characters)" in result.stderr  # values and reasons cut short


def test_an_xlsx_bomb_is_refused_before_it_is_unpacked(run_import, tmp_path):
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>c</t></is></c></row>' % (i, i) for i in range(1, 400_000)
    )
    path = tmp_path / "clients.xlsx"
    path.write_bytes(_with_sheet(SHEET_HEAD + b"<sheetData>" + rows + b"</sheetData></worksheet>"))
    assert path.stat().st_size < 2_500_000
    _refused(*run_import(path), "unpacks to", "more than an import reads")


def test_a_sheet_that_spans_a_million_rows_is_refused(run_import, tmp_path):
    far = (
        SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        b'external_id</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    )
    path = tmp_path / "clients.xlsx"
    path.write_bytes(_with_sheet(far))
    _refused(*run_import(path), "spans 1,048,576 rows")


def test_a_formula_in_an_xlsx_cell_says_so(run_import, tmp_path):
    path = tmp_path / "clients.xlsx"
    path.write_bytes(_xlsx(rows=(("external_id", "first_name"), ("c1", '=CONCAT("Ol","ga")'))))
    _refused(*run_import(path), "row 2, column first_name: a formula; type the text")


def test_a_non_utf8_csv_names_the_first_bad_row_and_column(run_import, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes((HEADER + ROW + ROW.replace("c001", "c002")).encode().replace(b"Schmidt", b"M\xfcller", 2))
    _refused(*run_import(path), "row 2, column last_name: not UTF-8 text (byte 0xFC)", "CSV UTF-8")


@pytest.mark.parametrize("postcode", ["0911", "00911", "091111", "O9111", "٠٩١١١"])
def test_postcodes_are_five_digits(run_import, tmp_path, postcode):
    path = tmp_path / "clients.csv"
    path.write_text(HEADER.replace("\n", ",postcode\n") + ROW.replace("\n", f",{postcode}\n"), encoding="utf-8")
    result, seconds = run_import(path)
    _refused(result, seconds, "column postcode", "not a German postcode of 5 digits")


def test_a_category_needs_a_price_on_the_requests_dates(cli, tmp_path):
    # the demo association with one more service category in its catalogue, but no price for it
    organisation = json.loads((DATA_DIR / "organisation.json").read_text(encoding="utf-8"))
    chores = {"de": "Haushalt", "ru": "Хозяйство", "uk": "Господарство", "en": "Housework"}
    organisation["activity_categories"].append({"key": "haushalt", "labels": chores})
    organisation["activities"].append({"key": "housework", "category": "haushalt", "labels": chores})
    (tmp_path / "organisation.json").write_text(json.dumps(organisation), encoding="utf-8")
    assert cli("import", "organisation", tmp_path / "organisation.json").exit_code == 0
    assert cli("import", "clients", DATA_DIR / "clients.csv").exit_code == 0
    path = tmp_path / "requests.csv"
    path.write_text(
        "external_id,client_id,activity,category,duration_min,windows,valid_from\n"
        "c001-9,c001,housework,haushalt,60,tue 10:00-12:00,2026-01-01\n"
        "c001-8,c001,shopping,alltagsbegleitung,60,tue 10:00-12:00,2023-06-01\n"
        "c001-7,c001,reading,betreuung,60,tue 10:00-12:00,2024-06-01\n",
        encoding="utf-8",
    )
    result = cli("import", "requests", path)
    assert result.exit_code == 2
    assert "row 2, column category, value 'haushalt': no price_per_hour/haushalt valid on 2026-01-01" in result.stderr
    assert "row 3, column category" in result.stderr and "valid on 2023-06-01" in result.stderr
    assert "row 4" not in result.stderr


# --- fuzz: arbitrary bytes -----------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _never_a_traceback(result, seconds):
    assert result.exit_code in (0, 2), result.output  # 0 only for a file that happens to be valid
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert len(result.stderr) < 20_000


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_csv(run_import, tmp_path, data):
    path = tmp_path / "clients.csv"
    path.write_bytes(data)
    _never_a_traceback(*run_import(path))


@FUZZ
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=2000))
def test_arbitrary_text_after_a_valid_header(run_import, tmp_path, text):
    path = tmp_path / "requests.csv"
    path.write_text("external_id,client_id,activity,duration_min,windows,valid_from\n" + text, encoding="utf-8")
    _never_a_traceback(*run_import(path, "requests"))


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_xlsx(run_import, tmp_path, data):
    path = tmp_path / "clients.xlsx"
    path.write_bytes(data)
    _never_a_traceback(*run_import(path))


VALID_XLSX = _xlsx(rows=(("external_id", "first_name", "last_name"), ("c1", "Olga", "Schmidt")))


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_damaged_xlsx(run_import, tmp_path, flips):
    data = bytearray(VALID_XLSX)
    for position, value in flips:
        data[position] = value
    path = tmp_path / "clients.xlsx"
    path.write_bytes(bytes(data))
    _never_a_traceback(*run_import(path))


def test_an_xlsx_whose_archive_asks_for_a_newer_zip_reader(run_import, tmp_path):
    """A damage the fuzz test above found: zipfile refuses such an archive with
    NotImplementedError, not BadZipFile; it is one clear line all the same."""
    data = bytearray(VALID_XLSX)
    entry = data.index(b"PK\x01\x02")  # the first entry of the central directory
    data[entry + 6] = 64  # its "version needed to extract": 6.4, more than zipfile reads
    path = tmp_path / "clients.xlsx"
    path.write_bytes(bytes(data))
    result, seconds = run_import(path)
    _never_a_traceback(result, seconds)
    assert result.exit_code == 2 and "clients.xlsx: not a readable XLSX file" in result.output


@FUZZ
@given(xml=st.binary(max_size=2048) | st.text(max_size=500).map(lambda t: SHEET_HEAD + t.encode() + b"</worksheet>"))
def test_an_xlsx_with_an_arbitrary_sheet(run_import, tmp_path, xml):
    path = tmp_path / "clients.xlsx"
    path.write_bytes(_with_sheet(xml))
    _never_a_traceback(*run_import(path))
