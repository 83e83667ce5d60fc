"""The `carecal` command: a thin shell over the library, one module per noun.

Each noun's module (`carecal.cli.roster`, ...) defines its own sub-app; this module mounts
them in the order `carecal --help` lists them and turns library errors into a message and
an exit code.
"""

from datetime import timedelta

import typer
from rich.markup import escape
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from carecal import __version__, clock
from carecal.cli import (
    audit,
    billing,
    budget,
    client,
    database,
    demo,
    export,
    feed,
    imports,
    instance,
    override,
    payout,
    report,
    roster,
    visit,
    volunteer,
)
from carecal.cli.common import db_option, err_console, parse_now
from carecal.errors import CarecalError


class CarecalGroup(TyperGroup):
    """Shows a CarecalError as one clear message on stderr, never as a traceback; so is what
    the database itself refused (its own first line: never the SQL or its values)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CarecalError as error:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
            raise typer.Exit(error.exit_code) from None
        except DBAPIError as error:
            said = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
            err_console.print(
                f"[bold red]error:[/] the database refused this; nothing was saved: {escape(said)}", highlight=False
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=CarecalGroup,
    name="carecal",
    help="Weekly rosters, calendar feeds and billing for low-threshold care services (§45a SGB XI).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

app.command("init")(database.init)
app.command("demo")(demo.demo)
for module in (
    database,
    volunteer,
    client,
    imports,
    export,
    instance,
    roster,
    override,
    report,
    feed,
    visit,
    budget,
    billing,
    payout,
    audit,
):
    app.add_typer(module.app)


def _print_version(value: bool) -> None:
    # An option callback: runs while the options are read, before a command is required.
    if value:
        typer.echo(f"carecal {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", help="SQLAlchemy database URL (default: $CARECAL_DB, else sqlite:///./carecal.db)"
    ),
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
    now: str = typer.Option(
        None, "--now", hidden=True, help="pretend it is this moment (ISO 8601 with offset): rehearsals, tests"
    ),
):
    db_option.set(db)
    if now is not None:
        # The one clock reads this moment for the whole command (and moves on from it).
        ctx.with_resource(clock.frozen(parse_now(now), tick=timedelta(microseconds=1)))


def run() -> None:
    app(prog_name="carecal")


if __name__ == "__main__":
    run()
