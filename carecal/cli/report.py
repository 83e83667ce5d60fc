"""`carecal report week|month`: the week as a self-contained HTML page; the treasurer's month
as an HTML page and a one-page PDF."""

from pathlib import Path

import typer

from carecal.cli.common import WeekOption, console, noun, session, write_output
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


@app.command("month")
def report_month(
    month: str = typer.Option(..., "--month", "-m", help="the month, e.g. 2026-11"),
    out: Path = typer.Option(Path("exports"), "--out", help="directory for month_MONTH.html and .pdf"),
) -> None:
    """The treasurer's month on one page: invoices by payer and funding, the volunteers' payouts,
    open amounts and the check results (HTML and PDF)."""
    from carecal.billing import month_report  # loads the PDF library: only for this command

    with session(write=False) as s:
        view = month_report.month_view(s, month)
        html, pdf = month_report.write_month_report(s, view.month, out)
    verdict = "reconciled" if view.checks_ok else f"{len(view.problems)} problem(s)"
    console.print(f"wrote {html} and {pdf}: {view.month} {verdict}", highlight=False, soft_wrap=True)
