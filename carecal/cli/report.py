"""`carecal report week`: the week as a self-contained HTML page."""

from pathlib import Path

import typer

from carecal.cli.common import WeekOption, noun, session, write_output
from carecal.roster.report import render_week_report
from carecal.weeks import IsoWeek

app = noun("report", "Human-readable reports.")


@app.command("week")
def report_week(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="HTML file (default: exports/roster-<week>.html)"),
    version: int = typer.Option(None, "--version", help="version number (default: the published one, else the latest)"),
) -> None:
    """Write the week as a self-contained HTML page.

    Visits by volunteer and day, uncovered requests with reasons, a district sketch of homes
    with assignment lines, coverage and load. No health data, no network access needed.
    """
    iso = IsoWeek.parse(week)
    with session() as s:
        html = render_week_report(s, iso, version)
    target = output or Path("exports") / f"roster-{iso}.html"
    write_output(html, target, f"week report {iso}")
