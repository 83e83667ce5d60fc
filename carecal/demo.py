"""`carecal demo`: a fresh database with the demo association, then every feature's demo step.

The demo builds the database from the files in `data/` (organisation, volunteers, clients,
care requests) and then runs STEPS in order. Each feature adds its own step: a function
`step(ctx: DemoContext) -> None` that opens its own transactions with
`carecal.db.session_scope(ctx.url)`, does its part on the demo database and prints what it
did (and where any files went) on `ctx.console`. A step may append lines to `ctx.notes`
(e.g. "calendar of v001: https://..."); the demo prints them at the end.

The demo lives in the present: it builds the weeks around today (`DemoWeeks`). The weeks
that are over (from the first week of the last complete month to last week) are lived
through as a coordinator would have: each planned and published on the Friday before,
its visits recorded on the Monday after (the clock is set to those moments, so every
stamp and audit event is where it would be). This week is published, next week planned
(a draft), and the complete months billed today.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, inspect, select

from carecal import clock, db, private_files
from carecal.billing import demo as billing_demo
from carecal.billing.ledger import month_key
from carecal.errors import CarecalError
from carecal.feeds import demo as feeds_demo
from carecal.masterdata import import_file, load_organisation
from carecal.masterdata.paths import DATA_DIR
from carecal.models import Client, Organisation, Volunteer
from carecal.roster import demo as roster_demo
from carecal.weeks import DEFAULT_TZ, IsoWeek, local

DEFAULT_OUT = Path("exports")
DEMO_TIME_LIMIT = 6.0  # seconds the solver may take for a week planned from scratch
DEMO_TZ = DEFAULT_TZ  # the demo association's time zone (data/organisation.json)


@dataclass(frozen=True)
class DemoWeeks:
    """The weeks the demo builds around `today`: those that are `over` (planned, published,
    delivered and recorded), `this` week (published), the `next` (planned, a draft), and
    the complete months it bills (`billed`, oldest first)."""

    today: date
    over: tuple[IsoWeek, ...]
    this: IsoWeek
    next: IsoWeek
    billed: tuple[str, ...]

    @classmethod
    def around(cls, today: date) -> "DemoWeeks":
        this = IsoWeek.containing(today)
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        over, week = [], IsoWeek.containing(last_month)
        while week < this:
            over.append(week)
            week = week.shift(1)
        current = month_key(today)
        billed = sorted({month_key(day) for w in over for day in w.days() if month_key(day) < current})
        return cls(today, tuple(over), this, this.shift(1), tuple(billed))

    @property
    def last(self) -> IsoWeek:
        return self.over[-1]

    @property
    def month(self) -> str:
        """The last complete month."""
        return self.billed[-1]


def planned_at(week: IsoWeek) -> datetime:
    """When the demo's coordinator plans and publishes a week: the Friday before, at noon."""
    return local(week.monday - timedelta(days=3), time(12, 0), DEMO_TZ)


def recorded_at(week: IsoWeek) -> datetime:
    """When the demo's coordinator records what happened in a week: the Monday after, 08:00
    (or now, if that is still to come)."""
    return min(local(week.monday + timedelta(days=7), time(8, 0), DEMO_TZ), clock.now())


@dataclass
class DemoContext:
    url: str
    out: Path
    console: Console
    actor: str = "demo"
    data_dir: Path = DATA_DIR
    time_limit: float = DEMO_TIME_LIMIT
    documents: bool = True  # the PDF proofs and invoices (most of the demo's time)
    weeks: DemoWeeks = field(default_factory=lambda: DemoWeeks.around(clock.today(DEMO_TZ)))
    notes: list[str] = field(default_factory=list)  # lines for the closing summary


def weeks_up_to_today(ctx: DemoContext) -> None:
    """Live through the weeks up to today: plan, publish and record each; publish this week, plan the next.

    Each week that is over is planned and published on the Friday before and recorded on
    the Monday after; this week was published on Friday, and what of it has already taken
    place is confirmed now; next week is planned now and left a draft."""
    weeks = ctx.weeks
    for n, week in enumerate([*weeks.over, weeks.this]):
        with clock.frozen(planned_at(week), tick=timedelta(microseconds=1)):
            roster_demo.plan_week(ctx, week, publish=True)
        if n > 0:
            done = weeks.over[n - 1]
            with clock.frozen(recorded_at(done), tick=timedelta(microseconds=1)):
                billing_demo.record_week(ctx, done)
    billing_demo.confirm_what_has_happened(ctx, weeks.this)
    roster_demo.plan_week(ctx, weeks.next, publish=False)


# The feature steps, in the order they run after the master data is loaded.
Step = Callable[[DemoContext], None]
STEPS: list[Step] = [
    weeks_up_to_today,
    billing_demo.step,
    roster_demo.write_report,
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
    weeks = ctx.weeks
    ctx.console.rule(f"[bold]carecal demo[/] · today {weeks.today:%a %d %b %Y} · week {weeks.this}")
    ctx.console.print(f"database  {db.safe_url(ctx.url)}", soft_wrap=True)
    ctx.console.print(f"files     {ctx.out.resolve()}/", soft_wrap=True)
    ctx.console.print(
        f"weeks     {weeks.over[0]} … {weeks.last} over (recorded), {weeks.this} this week (published), "
        f"{weeks.next} next week (planned); billed: {', '.join(weeks.billed)}",
        highlight=False,
    )
    require_no_data(ctx.url)
    db.upgrade(ctx.url)
    ctx.console.print(f"schema    migrated to {db.head_revision()}")
    private_files.make_dir(ctx.out)

    # The association was set up just before the first week the demo lives through.
    setup = [(load_master_data, planned_at(weeks.over[0]) - timedelta(hours=3))]
    for step, moment in [*setup, *((s, None) for s in (STEPS if steps is None else steps))]:
        title = step_title(step)
        ctx.console.print(f"\n[bold cyan]▸ {title}[/]")
        try:
            if moment is None:
                step(ctx)
            else:
                with clock.frozen(moment, tick=timedelta(microseconds=1)):
                    step(ctx)
        except CarecalError:
            ctx.console.print(
                f"[red]✗ the demo stopped at: {title}[/] (database so far: {db.safe_url(ctx.url)})", soft_wrap=True
            )
            raise
