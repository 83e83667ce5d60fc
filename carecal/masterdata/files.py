"""Reading the master-data tables: CSV (comma or semicolon separated, UTF-8) and XLSX.

Reading yields every non-empty row as text cells keyed by header, with the spreadsheet row
number (the header is row 1) so that errors point where a coordinator looks. The
apostrophes that carecal's one table writer (`carecal.tables`) puts before anything a
spreadsheet would run as a formula are removed again, so an export imports back unchanged.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

from carecal.errors import InputError
from carecal.tables import FORMATS, format_of, from_xlsx_text, restore

__all__ = ["FORMATS", "format_of", "read_table"]


# Caps on what an import reads, so that a hostile or broken file gets a clear error, fast,
# instead of a traceback or gigabytes of memory. Real files are far below them: 3,000
# clients make about 1 MB of CSV.
MAX_FILE_BYTES = 10_000_000
MAX_ROWS = 20_000
MAX_COLUMNS = 100
MAX_CELL_CHARS = 2_000
MAX_XLSX_UNPACKED_BYTES = 20_000_000  # what the XLSX's zip says its parts unpack to
SHOWN_CHARS = 60  # a cell quoted in an error message is cut to this


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """A cell as an error message may quote it: never more than `limit` characters."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-empty rows (row number, {column: text})."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{path.name}: {size:,} bytes is more than an import reads ({MAX_FILE_BYTES:,}); split the file"
        )
    rows = _read_xlsx(path) if format_of(path) == "xlsx" else _read_csv(path)
    header: list[str] = []
    table = []
    problems: list[str] = []
    for number, cells in enumerate(rows, start=1):
        if len(cells) > MAX_COLUMNS and any(cells[MAX_COLUMNS:]):
            raise InputError(f"{path.name} row {number}: more than {MAX_COLUMNS} columns")
        if number > MAX_ROWS + 1:
            raise InputError(f"{path.name}: more than {MAX_ROWS:,} rows; split the file")
        for column, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                name = header[column] if column < len(header) else f"#{column + 1}"
                problems.append(
                    f"{path.name} row {number}, column {shown(name)}: longer than {MAX_CELL_CHARS} characters"
                )
                cells[column] = ""
        if number == 1:
            header = [restore(cell).strip().lower() for cell in cells]
            continue
        cells = [restore(cell).strip() for cell in cells]
        if not any(cells):
            continue
        if len(cells) > len(header) and any(cells[len(header) :]):
            problems.append(f"{path.name} row {number}: more cells than header columns")
        table.append((number, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header) if name}))
    if not header:
        raise InputError(f"{path.name}: the file is empty (expected a header row)")
    if problems:
        raise InputError(f"{path.name}: {len(problems)} problem(s); nothing was imported", problems[:50])
    return header, table


def _read_csv(path: Path) -> Iterator[list[str]]:
    data = path.read_bytes()  # at most MAX_FILE_BYTES
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(_not_utf8(path.name, data, error.start)) from None
    if "\x00" in text:
        raise InputError(f"{path.name}: not a text file (it holds NUL bytes); save it as CSV UTF-8")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    csv.field_size_limit(MAX_FILE_BYTES)  # a long cell is reported by read_table, not by the csv module
    try:
        yield from reader
    except csv.Error as error:
        raise InputError(f"{path.name} row {reader.line_num}: not readable as CSV ({error})") from None


def _not_utf8(file: str, data: bytes, offset: int) -> str:
    """Where the first byte that is not UTF-8 is: row and column, as a spreadsheet counts."""
    start = data.rfind(b"\n", 0, offset) + 1
    row = data.count(b"\n", 0, offset) + 1
    head = data.split(b"\n", 1)[0].decode("utf-8-sig", "replace").replace("\r", " ")
    delimiter = ";" if head.count(";") > head.count(",") else ","
    header = next(csv.reader([head], delimiter=delimiter), [])
    before = data[start:offset].decode("utf-8", "replace").replace("\r", " ")
    column = len(next(csv.reader([before + "x"], delimiter=delimiter), [""]))
    name = header[column - 1].strip() if 0 < column <= len(header) else f"#{column}"
    return (
        f"{file} row {row}, column {shown(name)}: not UTF-8 text (byte 0x{data[offset]:02X}); "
        "save the file as CSV UTF-8"
    )


def _read_xlsx(path: Path) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception:  # zipfile raises many types for a damaged archive (BadZipFile, NotImplementedError, ...)
        raise InputError(f"{path.name}: not a readable XLSX file (not a zip archive it can open)") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise InputError(
            f"{path.name}: unpacks to {unpacked:,} bytes, more than an import reads ({MAX_XLSX_UNPACKED_BYTES:,})"
        )
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise InputError(f"{path.name}: not a readable XLSX file ({type(error).__name__})") from None
    formulas: list[str] = []
    header: list[str] = []
    try:
        sheet = workbook.worksheets[0]
        declared = sheet.max_row  # from the sheet's <dimension>, when it has one
        if declared is not None and declared > MAX_ROWS + 1:
            raise InputError(
                f"{path.name}: the sheet spans {declared:,} rows, more than an import reads ({MAX_ROWS:,}); "
                "delete the empty rows below the table or split it"
            )
        rows = sheet.iter_rows(max_col=MAX_COLUMNS + 1, max_row=MAX_ROWS + 2)
        for number, row in enumerate(rows, start=1):
            if all(getattr(cell, "value", None) is None for cell in row):
                yield []  # an empty row (or one openpyxl made up for a gap): nothing to look at
                continue
            cells = []
            for column, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    name = header[column] if column < len(header) else f"#{column + 1}"
                    formulas.append(f"{path.name} row {number}, column {shown(name)}: a formula; type the text")
                    cells.append("")
                else:
                    cells.append(_cell_text(getattr(cell, "value", None)))
            if number == 1:
                header = [cell.strip().lower() for cell in cells]
            yield cells
    except InputError:
        raise
    except Exception as error:  # a broken sheet inside a readable zip
        raise InputError(f"{path.name}: not a readable XLSX file ({type(error).__name__})") from None
    finally:
        workbook.close()
    if formulas:
        raise InputError(f"{path.name}: {len(formulas)} formula cell(s); nothing was imported", formulas[:50])


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
