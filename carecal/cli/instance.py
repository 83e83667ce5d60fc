"""`carecal instance export`: the solver's input for a week, as the database makes it."""

import json
from pathlib import Path

import typer

from carecal.cli.common import WeekOption, err_console, noun, session, write_output
from carecal.instance import build_instance
from carecal.weeks import IsoWeek

app = noun("instance", "The solver's carecal-instance/1 document for a week.")


@app.command("export")
def instance_export(
    week: str = WeekOption,
    output: Path = typer.Option(None, "--output", "-o", help="file to write (default: standard output)"),
) -> None:
    """Write the week's carecal-instance/1 document (what the solver gets) from the database."""
    iso = IsoWeek.parse(week)
    with session() as s:
        build = build_instance(s, iso)
    for note in build.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    write_output(json.dumps(build.document, indent=2, ensure_ascii=False) + "\n", output, f"instance {iso}")
