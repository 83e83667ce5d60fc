"""The roster workflow's part of `carecal demo`: plan (and publish) a week, write the week
report of this week.

The first week is planned from scratch; every later one starts from the week before, moved
on by a week (the solver keeps what still holds and plans the rest), as a coordinator
keeps a pattern that works: it is quick, and it is how the demo's weeks have continuity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from carecal import db, organisation, private_files
from carecal.instance import last_published, roster_document
from carecal.roster import planning, versions
from carecal.roster.report import render_week_report
from carecal.weeks import IsoWeek, local, to_local

if TYPE_CHECKING:
    from carecal.demo import DemoContext


def a_week_later(roster: dict, week: IsoWeek, tz: str) -> dict:
    """A carecal-roster/1 document moved on to `week`: every visit on the same weekday at the
    same wall-clock time (summer time or not)."""

    def moved(text: str) -> str:
        wall = to_local(datetime.fromisoformat(text), tz).replace(tzinfo=None) + timedelta(days=7)
        return local(wall.date(), wall.time(), tz).isoformat()

    return {
        **roster,
        "week": str(week),
        "assignments": [{**a, "start": moved(a["start"]), "end": moved(a["end"])} for a in roster["assignments"]],
    }


def plan_week(ctx: DemoContext, week: IsoWeek, *, publish: bool) -> None:
    """Plan `week` (from the week before where there is one), store it, publish it if asked."""
    with db.session_scope(ctx.url) as s:
        prepared = planning.prepare_plan(s, week)
        before = last_published(s, week)
        if before is not None and before.roster_week.week == str(week.shift(-1)):
            prepared.base = a_week_later(roster_document(before), week, organisation.timezone(s))
    planning.solve_week(prepared, time_limit=ctx.time_limit, workers=2)
    with db.session_scope(ctx.url, write=True) as s:
        version = versions.store_version(s, prepared, ctx.actor)
        if publish:
            versions.publish(s, week, ctx.actor, version.number)
        number = version.number
    figures = planning.summary(prepared)
    busy = [row for row in figures["load"] if row["minutes"]]
    ctx.console.print(
        f"  {week}  version {number} {'published' if publish else 'planned (draft)'}: "
        f"{figures['covered']}/{figures['requests']} requests covered ({figures['coverage_percent']} %, "
        f"priority-weighted {figures['weighted_coverage_percent']} %), {len(busy)}/{len(figures['load'])} "
        "volunteers with visits",
        highlight=False,
    )


def write_report(ctx: DemoContext) -> None:
    """Write the week report of this week."""
    week = ctx.weeks.this
    with db.session_scope(ctx.url) as s:
        html = render_week_report(s, week)
    path = ctx.out / f"roster-{week}.html"
    private_files.write_text(path, html)
    ctx.console.print(f"  week report   {path}", soft_wrap=True)
    ctx.notes.append(f"roster: carecal --db {ctx.url} roster show --week {week}")
