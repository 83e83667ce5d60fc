"""The `carecal` command: a thin shell over the library, one sub-app per noun.

Each noun lives in its own module and registers its commands on the sub-apps below; this
module only assembles them and turns library errors into a message and an exit code.
"""

import importlib
import sys

import typer
from typer.core import TyperGroup

from carecal import __version__
from carecal.cli.common import db_option, err_console
from carecal.errors import CarecalError


class CarecalGroup(TyperGroup):
    """Shows a CarecalError as one clear message on stderr, never as a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CarecalError as error:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=CarecalGroup,
    name="carecal",
    help="Weekly rosters, calendar feeds and billing for low-threshold care services (§45a SGB XI).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def sub_app(name: str, help: str) -> typer.Typer:
    sub = typer.Typer(name=name, help=help, no_args_is_help=True, pretty_exceptions_show_locals=False)
    app.add_typer(sub)
    return sub


# The nouns. Their commands are defined in the modules listed in COMMAND_MODULES.
db_app = sub_app("db", "Database schema: migrations.")
volunteer_app = sub_app("volunteer", "Volunteers: list and show.")
client_app = sub_app("client", "Clients: list and show.")
import_app = sub_app("import", "Import master data from CSV or XLSX.")
export_app = sub_app("export", "Write files: master data, calendars, hours, proofs, allowances, audit log.")
instance_app = sub_app("instance", "The solver's carecal-instance/1 document for a week.")
roster_app = sub_app("roster", "Plan, review, replan and publish a week's roster.")
override_app = sub_app("override", "The coordinator's decisions that every plan honours.")
report_app = sub_app("report", "Human-readable reports.")
feed_app = sub_app("feed", "Personal calendar subscription feeds.")
visit_app = sub_app("visit", "What happened at each visit: delivered, cancelled, signed.")
budget_app = sub_app("budget", "Clients' care budgets (§45b, §45a(4)).")
billing_app = sub_app("billing", "Invoices, month close and reconciliation.")


@app.callback()
def main(
    db: str = typer.Option(
        None, "--db", help="SQLAlchemy database URL (default: $CARECAL_DB, else sqlite:///./carecal.db)"
    ),
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
):
    if version:
        typer.echo(f"carecal {__version__}")
        raise typer.Exit()
    db_option.set(db)


# Modules that define commands; importing one registers its commands on the apps above.
COMMAND_MODULES = [
    "carecal.cli.database",
    "carecal.cli.masterdata",
    "carecal.cli.demo",
    "carecal.cli.roster",
    "carecal.cli.feed",
    "carecal.cli.billing",
]
for _module in COMMAND_MODULES:
    importlib.import_module(_module)


def run() -> None:
    app(prog_name="carecal")


if __name__ == "__main__":
    sys.exit(run())
