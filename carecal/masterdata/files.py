"""Reading the master-data tables: CSV (comma or semicolon separated, UTF-8) and XLSX.

Reading yields every non-empty row as text cells keyed by header, with the spreadsheet row
number (the header is row 1) so that errors point where a coordinator looks. The
apostrophes that carecal's one table writer (`carecal.tables`) puts before anything a
spreadsheet would run as a formula are removed again, so an export imports back unchanged.
"""

import csv
import io
from datetime import date, datetime, time
from pathlib import Path

from carecal.errors import InputError
from carecal.tables import FORMATS, format_of, from_xlsx_text, restore

__all__ = ["FORMATS", "format_of", "read_table"]


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-empty rows (row number, {column: text})."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    rows = _read_xlsx(path) if format_of(path) == "xlsx" else _read_csv(path)
    if not rows:
        raise InputError(f"{path.name}: the file is empty (expected a header row)")
    header = [restore(cell).strip().lower() for cell in rows[0]]
    table = []
    for number, cells in enumerate(rows[1:], start=2):
        cells = [restore(cell).strip() for cell in cells]
        if not any(cells):
            continue
        if len(cells) > len(header) and any(cells[len(header) :]):
            raise InputError(f"{path.name} row {number}: more cells than header columns")
        table.append((number, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header) if name}))
    return header, table


def _read_csv(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path.name}: not UTF-8 text (byte {error.start}); save it as CSV UTF-8") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise InputError(f"{path.name}: not a readable XLSX file ({type(error).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return from_xlsx_text(value)
    return str(value)
