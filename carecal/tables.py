"""The one writer for every table carecal hands out: CSV and XLSX.

Hours, allowances, the audit log, the master-data exports, the roster as CSV: they all go
through `write_table`, so the rule that keeps a spreadsheet from running what is in a cell
lives here and nowhere else.

**Formula injection.** A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or
their full-width forms, or a tab or carriage return it strips first) as a formula. A CSV
may be opened with another delimiter than the one it was written with: German Excel
splits on `;`, others on `,` or tab, and then *any piece* of a cell after such a character
becomes a cell of its own (`Spiel;=cmd|' /C calc'!A0` → `Spiel` and a live `=cmd…`). So
`neutralise` puts an apostrophe in front of every piece of a text, at its start or after
`,` `;` tab or a line break, that would begin a formula (after any spaces and quotes). A
spreadsheet shows such a piece as text. `restore` is its exact inverse (the importers use
it), so an exported master-data file imports back unchanged.

In XLSX every text cell is stored as text (never as a formula) with its text unchanged;
a cell that would look like a formula also gets Excel's quote prefix, so editing it in
Excel keeps it text.

**Types.** Rows hold plain values. CSV writes dates as `2026-11-23`, times as `14:00`,
date-times (local, naive) as `2026-11-23 14:00:05`, `Money` and other decimals as `36.00`.
XLSX keeps them typed: date, time and date-time cells, numbers, and `Money` with a euro
format; the header row is bold and frozen and the columns are as wide as their content.
"""

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, TextIO

from carecal import private_files

FORMATS = ("csv", "xlsx")

# What makes a spreadsheet evaluate a cell: ASCII and full-width / small forms of = + - @,
# and tab or carriage return (which some programs strip before looking).
FORMULA_TRIGGERS = "=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20" + "\ufe66\ufe62\ufe63\ufe6b"
# After any of these a reader with another delimiter starts a new cell.
CELL_BREAKS = ",;\t\r\n"
# What a spreadsheet skips before it looks at the first character.
_LEADING = " \u00a0\u3000\"'"

_PIECE_START = f"(?:^|(?<=[{re.escape(CELL_BREAKS)}]))"
_WOULD_RUN = f"(?=[{re.escape(_LEADING)}]*[{re.escape(FORMULA_TRIGGERS)}])"
_GUARD = re.compile(_PIECE_START + _WOULD_RUN)
_GUARDED = re.compile(_PIECE_START + "'" + _WOULD_RUN)

# XLSX text cannot hold control characters (nor a carriage return: XML turns it into a line
# feed); Office writes them as _xHHHH_, and a literal "_xHHHH_" with its underscore escaped.
_XLSX_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")
_XLSX_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")

MONEY_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD.MM.YYYY"
TIME_FORMAT = "HH:MM"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM:SS"
_MIN_WIDTH, _MAX_WIDTH = 6, 60


class Money(Decimal):
    """An amount in euros (two decimals): a number with a currency format in XLSX."""


def money(cents: int | None) -> Money | None:
    return None if cents is None else Money(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def neutralise(text: str) -> str:
    """The text with an apostrophe before every piece that a spreadsheet would run."""
    return _GUARD.sub("'", text)


def restore(text: str) -> str:
    """The inverse of `neutralise`: `restore(neutralise(t)) == t` for every text."""
    return _GUARDED.sub("", text)


def would_run(text: str) -> bool:
    """Whether some piece of the text would start a formula, whatever the delimiter."""
    return _GUARD.search(text) is not None


def xlsx_text(text: str) -> str:
    """Text as an XLSX string cell holds it (control characters escaped as Office does)."""
    return _XLSX_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def from_xlsx_text(text: str) -> str:
    """The inverse of `xlsx_text`, as Excel reads a cell."""
    return _XLSX_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def format_of(path: Path, given: str | None = None) -> str:
    """csv or xlsx, from `given` or else the file's suffix."""
    from carecal.errors import InputError

    fmt = (given or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"{path.name}: unknown file format {fmt or '(none)'!r}; use .csv or .xlsx")
    return fmt


def write_table(
    target: Path | TextIO,
    header: Sequence[str],
    rows: Iterable[Sequence],
    fmt: str = "csv",
    *,
    title: str = "Sheet",
) -> int:
    """Write the header and rows to a file (CSV or XLSX) or an open text stream (CSV);
    returns the number of rows. A file is written whole and private (0600; a missing
    folder is created 0700: `carecal.private_files`)."""
    if fmt not in FORMATS:
        from carecal.errors import InputError

        raise InputError(f"format {fmt!r}: use csv or xlsx")
    if isinstance(target, Path):
        if fmt == "xlsx":
            with private_files.open_for_writing(target) as binary:
                return _write_xlsx(binary, header, rows, title)
        with private_files.open_for_writing(target, text=True, newline="") as stream:
            return _write_csv(stream, header, rows)
    if fmt == "xlsx":
        raise ValueError("XLSX needs a file, not a stream")
    return _write_csv(target, header, rows)


def csv_text(value) -> str:
    """A value as the (already neutralised) text of a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        _require_naive(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, int | Decimal | float):
        return str(value)
    return neutralise(str(value))


def _write_csv(stream: IO[str], header: Sequence[str], rows: Iterable[Sequence]) -> int:
    # Lines end in \n; the csv module then leaves a lone \r unquoted, which would split the
    # row for any reader: a row holding one is written with every cell quoted.
    plain = csv.writer(stream, lineterminator="\n")
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def write(row: Sequence) -> None:
        cells = [csv_text(value) for value in row]
        (quoted if any("\r" in cell for cell in cells) else plain).writerow(cells)

    write(header)
    count = 0
    for row in rows:
        write(row)
        count += 1
    return count


def _require_naive(value: datetime) -> None:
    if value.tzinfo is not None:
        raise ValueError("tables hold local wall-clock times: convert to the organisation's time zone first")


def _xlsx_value(value):
    """(value, number format or None, whether it is text that would run)."""
    if value is None:
        return None, None, False
    if isinstance(value, bool):
        return ("yes" if value else "no"), None, False
    if isinstance(value, Money):
        return value, MONEY_FORMAT, False
    if isinstance(value, Decimal):
        places = max(0, -int(value.as_tuple().exponent))
        return value, "0" + ("." + "0" * places if places else ""), False
    if isinstance(value, int | float):
        return value, None, False
    if isinstance(value, datetime):
        _require_naive(value)
        return value, DATETIME_FORMAT, False
    if isinstance(value, date):
        return value, DATE_FORMAT, False
    if isinstance(value, time):
        return value, TIME_FORMAT, False
    text = str(value)
    return xlsx_text(text), None, would_run(text)


def _shown_width(value, number_format: str | None) -> int:
    if value is None:
        return 0
    if number_format in (DATE_FORMAT, TIME_FORMAT, DATETIME_FORMAT):
        return len(number_format)
    if number_format == MONEY_FORMAT:
        return len(f"{value:,.2f}") + 2
    return max((len(line) for line in str(value).splitlines()), default=0)


def _write_xlsx(target: IO[bytes], header: Sequence[str], rows: Iterable[Sequence], title: str) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet"
    widths = [len(str(name)) for name in header]
    sheet.append([xlsx_text(str(name)) for name in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.data_type = "s"
    count = 0
    for row_number, row in enumerate(rows, start=2):
        count += 1
        for column, raw in enumerate(row, start=1):
            value, number_format, runs = _xlsx_value(raw)
            if value is None:
                continue
            cell = sheet.cell(row=row_number, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
                if runs:
                    cell.quotePrefix = True
            if number_format:
                cell.number_format = number_format
            if column <= len(widths):
                widths[column - 1] = max(widths[column - 1], _shown_width(value, number_format))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(_MAX_WIDTH, max(_MIN_WIDTH, width + 2))
    sheet.freeze_panes = "A2"
    book.save(target)
    return count
