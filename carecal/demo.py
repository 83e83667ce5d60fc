"""`carecal demo`: a fresh database with the demo association, then every feature's demo step.

The demo builds the database from the files in `data/` (organisation, volunteers, clients,
care requests) and then runs STEPS in order. Each feature adds its own step: a function
`step(ctx: DemoContext) -> None` that opens its own transactions with
`carecal.db.session_scope(ctx.url)`, does its part on the demo database and prints what it
did (and where any files went) on `ctx.console`. A step may append lines to `ctx.notes`
(e.g. "calendar of v001: https://..."); the demo prints them at the end.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, inspect, select

from carecal import clock, db, private_files
from carecal.billing import demo as billing_demo
from carecal.errors import CarecalError
from carecal.feeds import demo as feeds_demo
from carecal.masterdata import import_file, load_organisation
from carecal.masterdata.paths import DATA_DIR
from carecal.models import Client, Organisation, Volunteer
from carecal.roster import demo as roster_demo
from carecal.weeks import IsoWeek

DEFAULT_WEEK = "2026-W48"
DEFAULT_OUT = Path("exports")


@dataclass
class DemoContext:
    url: str
    week: IsoWeek
    out: Path
    console: Console
    actor: str = "demo"
    data_dir: Path = DATA_DIR
    notes: list[str] = field(default_factory=list)  # lines for the closing summary


# The feature steps, in the order they run after the master data is loaded.
Step = Callable[[DemoContext], None]
STEPS: list[Step] = [
    roster_demo.plan_and_publish_weeks,
    billing_demo.step,
    feeds_demo.write_calendars,
]


def step_title(step: Callable) -> str:
    """The first line of a step's docstring, else its name."""
    doc = (step.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else step.__name__.replace("_", " ")


# --- where the demo database goes -----------------------------------------------------------


def new_sqlite_url(directory: Path = Path("."), now: datetime | None = None) -> tuple[str, Path]:
    """./carecal.db when there is none yet, else a new timestamped file beside it.
    The URL holds the absolute path: it stays right whatever the working directory."""
    directory = directory.resolve()
    default = directory / "carecal.db"
    if not default.exists():
        return f"sqlite:///{default}", default
    stamp = (now or clock.now().astimezone()).strftime("%Y%m%d-%H%M%S")
    path = directory / f"carecal-demo-{stamp}.db"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"carecal-demo-{stamp}-{n}.db"
    return f"sqlite:///{path}", path


def require_no_data(url: str) -> None:
    """Refuse a database that already holds an organisation, volunteers or clients:
    the demo must never mix its invented people into real ones."""
    tables = set(inspect(db.engine_for(url)).get_table_names())
    with db.session_scope(url) as s:
        for model in (Organisation, Volunteer, Client):
            if model.__tablename__ in tables and s.scalar(select(func.count()).select_from(model)):
                raise CarecalError(
                    f"{db.safe_url(url)} already holds data ({model.__tablename__} rows); the demo needs an "
                    "empty database: name a new one with --db, or leave --db and $CARECAL_DB unset"
                )


# --- the demo itself -------------------------------------------------------------------------


def load_master_data(ctx: DemoContext) -> None:
    """Load the association from data/: organisation and rates, clients, volunteers, requests."""
    with db.session_scope(ctx.url) as s:
        org = load_organisation(s, ctx.data_dir / "organisation.json", actor=ctx.actor)
        ctx.console.print(f"  organisation  {org.name} (IK {org.ik}), {len(org.rates)} dated rates")
        for kind, name in (
            ("clients", "clients.csv"),
            ("volunteers", "volunteers.csv"),
            ("requests", "care_requests.csv"),
        ):
            report = import_file(s, kind, ctx.data_dir / name, actor=ctx.actor)
            ctx.console.print(f"  {kind:<13} {report.total:>4} imported from {ctx.data_dir / name}", soft_wrap=True)


def run_demo(ctx: DemoContext, steps: list[Step] | None = None) -> None:
    """Migrate ctx.url, load the master data, then run every step. Stops at the first failing step."""
    ctx.console.rule(f"[bold]carecal demo[/] · week {ctx.week}")
    ctx.console.print(f"database  {db.safe_url(ctx.url)}", soft_wrap=True)
    ctx.console.print(f"files     {ctx.out.resolve()}/", soft_wrap=True)
    require_no_data(ctx.url)
    db.upgrade(ctx.url)
    ctx.console.print(f"schema    migrated to {db.head_revision()}")
    private_files.make_dir(ctx.out)

    for step in [load_master_data, *(STEPS if steps is None else steps)]:
        title = step_title(step)
        ctx.console.print(f"\n[bold cyan]▸ {title}[/]")
        try:
            step(ctx)
        except CarecalError:
            ctx.console.print(
                f"[red]✗ the demo stopped at: {title}[/] (database so far: {db.safe_url(ctx.url)})", soft_wrap=True
            )
            raise
