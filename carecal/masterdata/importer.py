"""Import a table of volunteers, clients or care requests: validate everything, then upsert.

Nothing is written unless every row is valid: the problems of all rows are gathered into
one InputError (file, row, column, value, reason; health values masked). Rows are keyed by
external_id, so importing the same file twice changes nothing the second time. Columns the
file leaves out are left as they are on existing rows (and take their default on new ones);
rows missing from the file are left alone (set active = no to retire someone).
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit, clock, organisation, privacy
from carecal.errors import InputError
from carecal.masterdata import codecs, districts
from carecal.masterdata.entities import APPLY, MODELS, RECORD_OF, Known, References, load_all
from carecal.masterdata.files import read_table, shown
from carecal.masterdata.layout import LAYOUTS, Layout
from carecal.models import Rate
from carecal.weeks import DEFAULT_TZ

DEFAULT_CATEGORY = "betreuung"
MAX_REPORTED = 100  # problems listed in one report; the count says how many there are


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    value: str | None  # the cell as the file has it, or what stands for it (see masked)
    reason: str
    masked: bool = False  # the value is kept in the office (carecal.privacy): `value` says so

    def __str__(self) -> str:
        where = self.file + (f" row {self.row}" if self.row else "")
        if self.column:
            where += f", column {self.column}"
        if self.value is not None:
            where += f", value {self.value}" if self.masked else f", value {shown(self.value)!r}"
        return f"{where}: {shown(self.reason, 300)}"


@dataclass
class ImportReport:
    kind: str
    file: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # external id -> changed columns
    unchanged: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (
            f"{self.file}: {self.total} rows: {len(self.created)} {verb}created, "
            f"{len(self.updated)} {verb}updated, {len(self.unchanged)} unchanged"
        )


def layout_for(kind: str, tz: str) -> Layout:
    """The layout with periods read in the organisation's time zone."""
    layout = LAYOUTS[kind]
    columns = tuple(
        dataclasses.replace(col, codec=codecs.Periods(tz)) if isinstance(col.codec, codecs.Periods) else col
        for col in layout.columns
    )
    return dataclasses.replace(layout, columns=columns)


def parse_rows(
    layout: Layout,
    file: str,
    header: list[str],
    rows: list[tuple[int, dict[str, str]]],
    known: Known,
    existing_ids: frozenset[str] = frozenset(),
) -> tuple[list[tuple[int, dict]], list[str], list[Problem]]:
    """Records for all rows, the columns present, and every problem found. Pure: no database.
    `known` says which client ids and activity keys a row may name; `existing_ids` the rows
    that exist already (a file that leaves out the home columns may update those, not create)."""
    problems: list[Problem] = []
    unknown = [name for name in header if name and name not in layout.by_name]
    for name in unknown:
        problems.append(Problem(file, 1, name, None, f"unknown column; expected {', '.join(layout.names)}"))
    missing = [col.name for col in layout.columns if col.required and col.name not in header]
    for name in missing:
        problems.append(Problem(file, 1, name, None, "required column is missing"))
    duplicates = {name for name in header if name and header.count(name) > 1}
    for name in sorted(duplicates):
        problems.append(Problem(file, 1, name, None, "column appears twice"))
    if problems:
        return [], [], problems

    present = [col.name for col in layout.columns if col.name in header]
    records = []
    first_row_of: dict[str, int] = {}
    for number, cells in rows:
        record, row_problems = parse_row(layout, file, number, cells, present, known, existing_ids)
        problems += row_problems
        key = record.get("external_id")
        if key is not None:
            if key in first_row_of:
                problems.append(
                    Problem(file, number, "external_id", key, f"the same id is already in row {first_row_of[key]}")
                )
            first_row_of.setdefault(key, number)
        records.append((number, record))
    return records, present, problems


def parse_row(
    layout: Layout,
    file: str,
    number: int,
    cells: dict[str, str],
    present: list[str],
    known: Known,
    existing_ids: frozenset[str] = frozenset(),
) -> tuple[dict, list[Problem]]:
    problems = []
    record = {}

    def problem(column: str, reason: str) -> None:
        value = cells.get(column, "")
        hidden = privacy.hidden_value(column, value) if value else None
        problems.append(Problem(file, number, column, hidden or value, reason, masked=hidden is not None))

    for col in layout.columns:
        text = cells.get(col.name, "") if col.name in present else ""
        if not text:
            if col.required:
                problem(col.name, "required, but empty")
            record[col.name] = col.empty
            continue
        try:
            record[col.name] = col.codec.parse(text)
        except ValueError as error:
            problem(col.name, _hidden_reason(error) if privacy.hidden_value(col.name, text) else str(error))
            record[col.name] = col.empty

    if "lat" in layout.by_name:
        home_columns = {"lat", "lon", "district"} & set(present)
        if home_columns:
            _check_home(record, present, problem)
        elif record.get("external_id") not in existing_ids:
            problem("district", "a new row needs lat/lon or a district: the file has neither column")
    check = ROW_CHECKS.get(layout.kind)
    if check:
        check(record, problem, known)
    return record, problems


def _hidden_reason(error: ValueError) -> str:
    """A codec's reason may quote the cell; for a column kept in the office say only what is expected."""
    text = str(error)
    return text if "'" not in text else "not in the expected form (see the column layout)"


def _check_home(record: dict, present: list[str], problem) -> None:
    lat, lon, district = record.get("lat"), record.get("lon"), record.get("district")
    if district:
        official = districts.find(district)
        if official is None:
            problem("district", "not a Chemnitz district (the 39 districts: solver/data/chemnitz_districts.json)")
        else:
            record["district"] = official
    if (lat is None) != (lon is None):
        problem("lon" if lon is None else "lat", "give both lat and lon, or neither")
    elif lat is None or lon is None:
        if not district:
            problem("district", "needed when lat/lon are empty (its centre is used)")
    else:
        km = districts.km_between((lat, lon), districts.city_centre())
        if km > districts.MAX_KM_FROM_CITY:
            problem("lat", f"lat/lon lie {km:.0f} km from Chemnitz: a typo, or lat and lon swapped?")


def _check_volunteer(record: dict, problem, known: Known) -> None:
    for client_id, _ in record.get("must_not_visit") or ():
        if client_id not in known.clients:
            problem("must_not_visit", f"client {client_id} is unknown: import the clients first")
    masked = record.get("iban")
    if isinstance(masked, codecs.MaskedIban):
        on_file = known.ibans.get(record.get("external_id") or "")
        if on_file is None or privacy.mask_iban(on_file) != masked:
            problem(
                "iban",
                "a masked IBAN (as an export shows it) keeps the one on file, but it does not match it: "
                "type the whole IBAN",
            )
            record["iban"] = None
        else:
            record["iban"] = on_file  # unchanged


def _check_client(record: dict, problem, known: Known) -> None:
    born = record.get("date_of_birth")
    # The organisation's calendar day or another zone's: a day either way changes nothing here.
    if born and born > clock.today(DEFAULT_TZ):
        problem("date_of_birth", "lies in the future")
    grades = record.get("care_grades") or ()
    if record.get("conversion_budget_opt_in") and (not grades or grades[-1][0] < 2):
        problem("conversion_budget_opt_in", "§45a(4) needs a current care grade of 2 or higher (care_grades)")


def _check_request(record: dict, problem, known: Known) -> None:
    client_id = record.get("client_id")
    if client_id and client_id not in known.clients:
        problem("client_id", "unknown client: import the clients first")
    activity = record.get("activity")
    if activity and activity not in known.activities:
        keys = ", ".join(sorted(known.activities)) or "none yet: import the organisation first"
        problem("activity", f"not a key of the activity catalogue ({keys})")
    # The request's price category: the file's, else its activity's, else betreuung.
    category = known.activities.get(activity) if activity else None
    if record.get("category") is None:
        record["category"] = category or DEFAULT_CATEGORY
    elif category is not None and record["category"] != category:
        problem("category", f"the activity {activity!r} belongs to {category!r}: leave the cell empty or write that")
    duration = record.get("duration_min")
    if duration:
        for day, start, end in record.get("windows") or ():
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            if minutes < duration:
                problem("windows", f"the {day} window is {minutes} min, shorter than one visit ({duration} min)")
    first, last = record.get("valid_from"), record.get("valid_to")
    if first and last and last < first:
        problem("valid_to", "before valid_from")


ROW_CHECKS = {"volunteers": _check_volunteer, "clients": _check_client, "requests": _check_request}


def price_periods(session: Session) -> dict[str, list[tuple[date, date | None]]]:
    """Per service category, the periods its price_per_hour rates are valid in."""
    periods: dict[str, list[tuple[date, date | None]]] = {}
    for rate in session.scalars(select(Rate).where(Rate.kind == "price_per_hour").order_by(Rate.valid_from)):
        periods.setdefault(rate.key or "", []).append((rate.valid_from, rate.valid_to))
    return periods


def first_unpriced_day(periods: list[tuple[date, date | None]], first: date, last: date | None) -> date | None:
    """The first day of [first, last] (open-ended: from `first` on) that no period covers."""
    day = first
    for start, end in sorted(periods):
        if start > day:
            break
        if end is None:
            return None
        if end >= day:
            day = end + timedelta(days=1)
        if last is not None and day > last:
            return None
    return day


def unpriced_requests(file: str, records: list[tuple[int, dict]], periods: dict) -> list[Problem]:
    """A request's category must have a price on every day the request is valid: else
    billing would fail months later."""
    problems = []
    for number, record in records:
        category, first = record.get("category"), record.get("valid_from")
        if not category or not first:
            continue
        gap = first_unpriced_day(periods.get(category, []), first, record.get("valid_to"))
        if gap is not None:
            problems.append(
                Problem(
                    file,
                    number,
                    "category",
                    category,
                    f"no price_per_hour/{category} valid on {gap} (the request runs from {first}): "
                    "add the price to the organisation file first",
                )
            )
    return problems


def _audit_columns(layout: Layout, columns: list[str]) -> list[str]:
    """Changed columns for the audit log; even the news that a health field changed stays out."""
    names = [name for name in columns if not privacy.is_health(name)]
    return names + ["(health data)"] if len(names) < len(columns) else names


def import_file(session: Session, kind: str, path: Path | str, *, actor: str, dry_run: bool = False) -> ImportReport:
    """Validate the whole file, then create or update one object per row (unless dry_run)."""
    if kind not in LAYOUTS:
        raise InputError(f"unknown kind {kind!r}: expected {', '.join(LAYOUTS)}")
    path = Path(path)
    layout = layout_for(kind, organisation.timezone(session))
    header, rows = read_table(path)
    refs = References(session)
    model = MODELS[kind]
    existing = {obj.external_id: obj for obj in load_all(session, kind)}
    records, present, problems = parse_rows(layout, path.name, header, rows, refs.known(), frozenset(existing))
    if kind == "requests" and not problems:
        problems = unpriced_requests(path.name, records, price_periods(session))
    if problems:
        rows_hit = len({p.row for p in problems})
        raise InputError(
            f"{path.name}: {len(problems)} problem(s) in {rows_hit} row(s); nothing was imported",
            [str(p) for p in problems[:MAX_REPORTED]]
            + ([f"... and {len(problems) - MAX_REPORTED} more"] if len(problems) > MAX_REPORTED else []),
        )

    report = ImportReport(kind, path.name, dry_run)
    names = layout.names
    for _, record in records:
        key = record["external_id"]
        obj = existing.get(key)
        if obj is None:
            report.created.append(key)
            if not dry_run:
                obj = model()
                APPLY[kind](obj, record, names, refs)
                session.add(obj)
            continue
        old = RECORD_OF[kind](obj, names)
        changed = [name for name in present if old[name] != record[name]]
        if not changed:
            report.unchanged.append(key)
            continue
        report.updated[key] = changed
        if not dry_run:
            APPLY[kind](obj, {**old, **{n: record[n] for n in changed}}, changed, refs)
    if not dry_run:
        session.flush()
        audit.record(
            session,
            actor,
            f"masterdata.import.{kind}",
            object_type=kind,
            object_id=path.name,
            file=path.name,
            rows=report.total,
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
            created_ids=report.created,
            updated_columns={key: _audit_columns(layout, columns) for key, columns in report.updated.items()},
        )
    return report
