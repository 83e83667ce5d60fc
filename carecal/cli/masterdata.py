"""Master data commands: import/export files, and list/show volunteers and clients."""

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carecal import config, lookup
from carecal.cli.common import ActorOption, console, session
from carecal.cli.main import client_app, export_app, import_app, volunteer_app
from carecal.errors import InputError
from carecal.masterdata import export_csv, export_file, import_file, load_organisation
from carecal.masterdata.files import FORMATS
from carecal.masterdata.importer import ImportReport
from carecal.models import WEEKDAYS, CareRequest, Client, Exclusion, Organisation, Volunteer
from carecal.weeks import to_local

DryRunOption = typer.Option(False, "--dry-run", help="validate and report what would change, write nothing")
FileArgument = typer.Argument(
    ..., metavar="FILE", help="a .csv (comma or semicolon separated, UTF-8) or .xlsx file", exists=False, dir_okay=False
)
OutOption = typer.Option(None, "--output", "-o", help="file to write (default: CSV on standard output)")
FormatOption = typer.Option(None, "--format", "-f", help="csv or xlsx (default: from the file name)")
OnOption = typer.Option(None, "--on", help="date for training validity, YYYY-MM-DD (default: today)")


# --- import ----------------------------------------------------------------------------------


def _import(kind: str, file: Path, dry_run: bool, actor: str | None) -> None:
    with session() as s:
        report = import_file(s, kind, file, actor=config.actor(actor), dry_run=dry_run)
    _print_report(report)


def _print_report(report: ImportReport) -> None:
    console.print(report.summary())
    if report.created:
        shown = ", ".join(report.created[:20]) + (" …" if len(report.created) > 20 else "")
        console.print(f"  {'would create' if report.dry_run else 'created'}: {shown}")
    if report.updated:
        table = Table(
            "id", "changed columns", title="would update" if report.dry_run else "updated", title_justify="left"
        )
        for key, columns in report.updated.items():
            table.add_row(key, ", ".join(columns))
        console.print(table)
    if report.dry_run:
        console.print("[yellow]dry run: nothing was written[/]")


@import_app.command("volunteers")
def import_volunteers(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update volunteers from FILE (keyed by external_id). Import clients first:
    must_not_visit names client ids. Layout: data/README.md."""
    _import("volunteers", file, dry_run, actor)


@import_app.command("clients")
def import_clients(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update clients from FILE (keyed by external_id). Layout: data/README.md."""
    _import("clients", file, dry_run, actor)


@import_app.command("requests")
def import_requests(file: Path = FileArgument, dry_run: bool = DryRunOption, actor: str = ActorOption) -> None:
    """Create or update clients' standing care requests from FILE (keyed by external_id)."""
    _import("requests", file, dry_run, actor)


@import_app.command("organisation")
def import_organisation(
    file: Path = typer.Argument(..., metavar="FILE", help="a JSON file like data/organisation.json"),
    actor: str = ActorOption,
) -> None:
    """Create or update the association (name, IK, address, time zone) and its dated rates."""
    with session() as s:
        org = load_organisation(s, file, actor=config.actor(actor))
        console.print(f"{org.name} (IK {org.ik}): {len(org.rates)} dated rates")


# --- export ----------------------------------------------------------------------------------


def _export(kind: str, output: Path | None, fmt: str | None) -> None:
    if fmt is not None and fmt.lower() not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected csv or xlsx")
    with session() as s:
        if output is None:
            if fmt and fmt.lower() == "xlsx":
                raise InputError("xlsx needs a file: give -o FILE.xlsx")
            export_csv(s, kind, sys.stdout)
            return
        count = export_file(s, kind, output, fmt)
    console.print(f"wrote {count} {kind} to {output}", highlight=False)


@export_app.command("volunteers")
def export_volunteers(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all volunteers in the import layout (CSV or XLSX)."""
    _export("volunteers", output, fmt)


@export_app.command("clients")
def export_clients(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all clients in the import layout (CSV or XLSX). The file holds health data."""
    _export("clients", output, fmt)


@export_app.command("requests")
def export_requests(output: Path = OutOption, fmt: str = FormatOption) -> None:
    """Write all care requests in the import layout (CSV or XLSX)."""
    _export("requests", output, fmt)


# --- volunteers ------------------------------------------------------------------------------


def _day(on: str | None) -> date:
    if on is None:
        return date.today()
    try:
        return date.fromisoformat(on)
    except ValueError:
        raise InputError(f"--on {on!r} is not a date like 2026-11-23") from None


def _tz(s: Session) -> str:
    return s.scalar(select(Organisation.timezone).limit(1)) or "Europe/Berlin"


def _training_state(v: Volunteer, kind: str, day: date) -> str:
    """'to 2027-10-03', 'no expiry', 'lapsed' or 'none' on `day`."""
    valid = [t for t in v.trainings if t.kind == kind and t.valid_on(day)]
    if valid:
        ends = max((t.expires_on for t in valid), key=lambda e: e or date.max)
        return f"to {ends}" if ends else "no expiry"
    if any(t.kind == kind for t in v.trainings):
        return "[red]lapsed[/]"
    return "[dim]none[/]"


@volunteer_app.command("list")
def volunteer_list(
    all_: bool = typer.Option(False, "--all", help="include inactive volunteers"),
    language: str = typer.Option(None, "--language", "-l", help="only those who speak this language (ISO 639-1)"),
    on: str = OnOption,
) -> None:
    """Volunteers with languages, travel, weekly cap and training status."""
    day = _day(on)
    with session() as s:
        query = select(Volunteer).options(selectinload(Volunteer.trainings)).order_by(Volunteer.external_id)
        if not all_:
            query = query.where(Volunteer.active.is_(True))
        volunteers = [v for v in s.scalars(query) if language is None or language.lower() in v.languages]
        table = Table(
            "id",
            "name",
            "district",
            "languages",
            "g",
            "travel",
            "h/wk",
            "basic",
            "dementia",
            title=f"{len(volunteers)} volunteers (trainings on {day})",
            title_justify="left",
        )
        table.columns[0].no_wrap = True
        for v in volunteers:
            table.add_row(
                v.external_id + ("" if v.active else " [dim](inactive)[/]"),
                v.name,
                v.district or "",
                " ".join(v.languages),
                v.gender,
                f"{v.travel_mode} {v.max_km:g} km",
                f"{v.max_minutes_per_week / 60:g}",
                _training_state(v, "basic", day),
                _training_state(v, "dementia", day),
            )
    console.print(table)


def _fields(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(show_header=False, box=None, title=title, title_justify="left", title_style="bold")
    table.add_column(style="cyan")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def _windows(windows) -> str:
    return "; ".join(f"{WEEKDAYS[w.weekday]} {w.start:%H:%M}-{w.end:%H:%M}" for w in windows) or "none"


def _period(start: datetime, end: datetime, tz: str) -> str:
    a, b = to_local(start, tz), to_local(end, tz)
    return f"{a:%a %Y-%m-%d %H:%M} – {b:%a %Y-%m-%d %H:%M}"


@volunteer_app.command("show")
def volunteer_show(
    external_id: str = typer.Argument(..., metavar="ID", help="the volunteer's id, e.g. v007"), on: str = OnOption
) -> None:
    """Everything about one volunteer: contact, home, languages, availability, trainings, absences."""
    day = _day(on)
    with session() as s:
        v = lookup.volunteer(s, external_id)
        tz = _tz(s)
        home = ", ".join(x for x in (v.street, f"{v.postcode or ''} {v.district or ''}".strip()) if x)
        where = f"{v.lat:.5f}, {v.lon:.5f}" + (" (district centre: approximate)" if v.location_approximate else "")
        console.print(
            _fields(
                f"{v.name} ({v.external_id})" + ("" if v.active else " — inactive"),
                [
                    ("gender", v.gender),
                    ("phone", v.phone or ""),
                    ("e-mail", v.email or ""),
                    ("home", home),
                    ("location", where),
                    ("languages", " ".join(v.languages) + "  (best first)"),
                    ("calendar language", v.ui_language),
                    ("travel", f"{v.travel_mode}, at most {v.max_km:g} km one way"),
                    ("limits", f"{v.max_minutes_per_week} min a week, {v.max_visits_per_day} visits a day"),
                    ("availability", _windows(v.availability)),
                ],
            )
        )
        trainings = Table("training", "completed", "expires", f"on {day}", title="Trainings", title_justify="left")
        for t in v.trainings:
            trainings.add_row(
                t.kind,
                str(t.completed_on),
                str(t.expires_on or "never"),
                "valid" if t.valid_on(day) else "[red]not valid[/]",
            )
        console.print(trainings)
        now = datetime.now(UTC)
        upcoming = [a for a in v.absences if a.ends_at > now]
        console.print("[bold]Absences[/] " + ("(none ahead)" if not upcoming else ""))
        for a in upcoming:
            console.print(f"  {_period(a.starts_at, a.ends_at, tz)}" + (" (override)" if a.override_id else ""))
        exclusions = s.scalars(select(Exclusion).where(Exclusion.volunteer_id == v.id)).all()
        if exclusions:
            console.print("[bold]Must not visit[/]")
            for e in exclusions:
                until = f" until {e.until}" if e.until else ""
                console.print(f"  {e.client.external_id} {e.client.short_label}: {e.kind}{until}")


# --- clients ---------------------------------------------------------------------------------


@client_app.command("list")
def client_list(
    all_: bool = typer.Option(False, "--all", help="include inactive clients"),
    district: str = typer.Option(None, "--district", "-d", help="only clients living in this district"),
) -> None:
    """Clients with district, languages, gender wish and weekly visits (no health data)."""
    with session() as s:
        query = select(Client).options(selectinload(Client.requests)).order_by(Client.external_id)
        if not all_:
            query = query.where(Client.active.is_(True))
        if district:
            query = query.where(Client.district.ilike(district))
        clients = s.scalars(query).all()
        table = Table(
            "id",
            "name",
            "district",
            "languages",
            "wish",
            "visits/wk",
            "billed to",
            title=f"{len(clients)} clients",
            title_justify="left",
        )
        table.columns[0].no_wrap = True
        for c in clients:
            visits = sum(r.visits_per_week for r in c.requests if r.valid_to is None or r.valid_to >= date.today())
            table.add_row(
                c.external_id + ("" if c.active else " [dim](inactive)[/]"),
                c.name,
                c.district or "",
                " ".join(c.languages),
                c.gender_preference or "",
                str(visits),
                "insurer" if c.benefits_assigned_on else "client",
            )
    console.print(table)


@client_app.command("show")
def client_show(external_id: str = typer.Argument(..., metavar="ID", help="the client's id, e.g. c017")) -> None:
    """Everything about one client, health data included (the coordinator's own screen)."""
    with session() as s:
        c = lookup.client(s, external_id)
        tz = _tz(s)
        today = date.today()
        grade = c.care_grade_on(today)
        grades = "; ".join(f"{g.grade} from {g.valid_from}" for g in c.care_grades) or "none"
        where = f"{c.lat:.5f}, {c.lon:.5f}" + (" (district centre: approximate)" if c.location_approximate else "")
        console.print(
            _fields(
                f"{c.name} ({c.external_id})" + ("" if c.active else " — inactive"),
                [
                    ("born", str(c.date_of_birth)),
                    ("phone", c.phone or ""),
                    ("home", ", ".join(x for x in (c.street, f"{c.postcode or ''} {c.district or ''}".strip()) if x)),
                    ("location", where),
                    ("languages", " ".join(c.languages) + "  (first: mother tongue)"),
                    ("dementia", "yes" if c.dementia else "no"),
                    ("care grade", f"{grade if grade is not None else 'none'} today ({grades})"),
                    ("gender wish", c.gender_preference or "none"),
                    ("insurer", f"{c.insurer_name or ''} {f'(IK {c.insurer_ik})' if c.insurer_ik else ''}".strip()),
                    ("insurance number", c.insurance_number or ""),
                    (
                        "representative",
                        ", ".join(x for x in (c.representative_name, c.representative_contact) if x) or "none",
                    ),
                    ("consent recorded", str(c.consent_recorded_on or "[red]missing[/]")),
                    (
                        "billing",
                        f"insurer directly (assignment of {c.benefits_assigned_on})"
                        if c.benefits_assigned_on
                        else "client pays and claims back",
                    ),
                    ("§45a(4) conversion", "yes" if c.conversion_budget_opt_in else "no"),
                    ("family calendar", "yes" if c.family_feed_opt_in else "no"),
                ],
            )
        )
        requests = s.scalars(
            select(CareRequest).where(CareRequest.client_id == c.id).order_by(CareRequest.external_id)
        ).all()
        table = Table(
            "request",
            "activity",
            "category",
            "visits",
            "minutes",
            "windows",
            "priority",
            "valid",
            title="Care requests",
            title_justify="left",
        )
        for r in requests:
            windows = "\n".join(f"{w['day']} {w['from']}-{w['to']}" for w in r.windows)
            table.add_row(
                r.external_id,
                r.activity,
                r.category,
                f"{r.visits_per_week}×",
                str(r.duration_min),
                windows,
                str(r.priority),
                f"{r.valid_from} – {r.valid_to or ''}",
            )
        console.print(table)
        if c.exclusions:
            console.print("[bold]Must not be visited by[/]")
            for e in c.exclusions:
                console.print(
                    f"  {e.volunteer.external_id} {e.volunteer.name}: {e.kind}"
                    + (f" until {e.until}" if e.until else "")
                )
        now = datetime.now(UTC)
        away = [a for a in c.away if a.ends_at > now]
        if away:
            console.print("[bold]Away[/]")
            for a in away:
                console.print(f"  {_period(a.starts_at, a.ends_at, tz)}")
