"""The roster workflow's demo step: plan and publish the week before the demo week (so
continuity has a history), then the demo week itself, and write the week report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carecal import db, private_files
from carecal.roster import planning, versions
from carecal.roster.report import render_week_report

if TYPE_CHECKING:
    from carecal.demo import DemoContext

DEMO_TIME_LIMIT = 6.0  # seconds per week: the demo should stay quick


def _plan_and_publish(ctx: DemoContext, week) -> tuple[int, dict]:
    with db.session_scope(ctx.url) as s:
        prepared = planning.prepare_plan(s, week)
    planning.solve_week(prepared, time_limit=DEMO_TIME_LIMIT, workers=2)
    with db.session_scope(ctx.url) as s:
        version = versions.store_version(s, prepared, ctx.actor)
        versions.publish(s, week, ctx.actor, version.number)
        number = version.number
    return number, planning.summary(prepared.roster, prepared.build.document)


def plan_and_publish_weeks(ctx: DemoContext) -> None:
    """Plan and publish the week before and the demo week; write the week report."""
    for week in (ctx.week.shift(-1), ctx.week):
        number, figures = _plan_and_publish(ctx, week)
        busy = [row for row in figures["load"] if row["minutes"]]
        ctx.console.print(
            f"  {week}  version {number} published: {figures['covered']}/{figures['requests']} "
            f"requests covered ({figures['coverage_percent']} %, priority-weighted "
            f"{figures['weighted_coverage_percent']} %), {len(busy)}/{len(figures['load'])} "
            "volunteers with visits"
        )
    with db.session_scope(ctx.url) as s:
        html = render_week_report(s, ctx.week)
    path = ctx.out / f"roster-{ctx.week}.html"
    private_files.write_text(path, html)
    ctx.console.print(f"  week report   {path}")
    ctx.notes.append(f"roster: carecal --db {ctx.url} roster show --week {ctx.week}")
