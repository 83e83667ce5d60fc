"""Export volunteers, clients or care requests in exactly the layout the import reads."""

from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from carecal import organisation, tables
from carecal.masterdata import codecs
from carecal.masterdata.entities import RECORD_OF, load_all
from carecal.masterdata.importer import layout_for
from carecal.masterdata.layout import LAYOUTS


def export_rows(session: Session, kind: str) -> tuple[list[str], list[dict]]:
    """The header and one record per object, ordered by external id."""
    layout = layout_for(kind, organisation.timezone(session))
    return layout.names, [RECORD_OF[kind](obj, layout.names) for obj in load_all(session, kind, ordered=True)]


def _as_text(session: Session, kind: str) -> tuple[list[str], list[list[str]]]:
    layout = layout_for(kind, organisation.timezone(session))
    header, records = export_rows(session, kind)
    return header, [[layout.by_name[name].codec.format(record[name]) for name in header] for record in records]


def export_csv(session: Session, kind: str, target: TextIO) -> int:
    header, rows = _as_text(session, kind)
    return tables.write_table(target, header, rows, "csv")


def export_file(session: Session, kind: str, path: Path | str, fmt: str | None = None) -> int:
    """Write the file (format from `fmt` or the suffix); returns the number of rows."""
    path = Path(path)
    fmt = tables.format_of(path, fmt)
    if fmt == "csv":
        header, rows = _as_text(session, kind)
    else:
        layout = layout_for(kind, organisation.timezone(session))
        header, records = export_rows(session, kind)
        rows = [[_xlsx_cell(layout.by_name[name].codec, record[name]) for name in header] for record in records]
    return tables.write_table(path, header, rows, fmt, title=LAYOUTS[kind].title)


def _xlsx_cell(codec: codecs.Codec, value):
    """Numbers and dates typed (the import reads them back); everything else as its text."""
    if value is None or value == ():
        return None
    if isinstance(codec, codecs.Integer | codecs.Number | codecs.Date):
        return value
    return codec.format(value)
