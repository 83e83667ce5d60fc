"""`carecal init` and `carecal db ...`: create and migrate the schema (`init` is mounted on the root)."""

import typer

from carecal import db
from carecal.cli.common import console, db_url, noun
from carecal.errors import CarecalError

app = noun("db", "Database schema: migrations.")


def init() -> None:
    """Create a fresh database at the newest schema."""
    url = db_url()
    if not db.is_empty(url):
        raise CarecalError(f"{db.safe_url(url)} already has tables; use `carecal db upgrade` to migrate it")
    db.upgrade(url)
    console.print(f"created {db.safe_url(url)} at schema {db.head_revision()}")


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    url = db_url()
    before = db.current_revision(url)
    db.upgrade(url, revision)
    console.print(f"{db.safe_url(url)}: schema {before or 'none'} → {db.current_revision(url)}")


@app.command("current")
def current() -> None:
    """Print the database's schema revision and the newest one carecal knows."""
    url = db_url()
    console.print(f"{db.safe_url(url)}: schema {db.current_revision(url) or 'none'} (newest: {db.head_revision()})")
