"""Feed change counters: whose calendar feeds a commit can change, kept by the database

Revision ID: 0010
Revises: 0009

`feed_change` holds one counter per feed owner ('v<volunteer id>', 'c<client id>') and one
for everyone ('*'). A trigger on every table the feeds read bumps the counters of the
owners whose feeds a row change can alter; a change that alters every feed (a roster
version published or superseded, the organisation, the activity catalogue) bumps '*'.
The feed server re-reads a feed only when one of its two counters moved
(carecal.feeds.changes). Triggers, not application code, so that every writer counts:
the CLI, a migration, a hand-made fix in the SQL shell. Existing rows start at 0 and the
server reads every feed once after it starts, so no initial counts are needed.
"""

from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

EVERYONE = "SELECT '*' AS owner"

# table → SELECTs of the owners whose feeds a change of row {row} can alter. A roster
# version and its visits show only once published (drafts change freely and often); a
# person's name or address shows in the feeds of everyone they visit or are visited by.
_PUBLISHED = "EXISTS (SELECT 1 FROM roster_version p WHERE p.id = {row}.version_id AND p.published_at IS NOT NULL)"
_VISIT_OF_RECORD = "FROM visit v JOIN visit_record r ON r.visit_id = v.id WHERE r.id = {row}.record_id"
OWNERS = {
    "feed_token": ["SELECT 'v' || {row}.volunteer_id AS owner", "SELECT 'c' || {row}.client_id"],
    "volunteer": [
        "SELECT 'v' || {row}.id AS owner",
        "SELECT 'c' || v.client_id FROM visit v WHERE v.volunteer_id = {row}.id",
    ],
    "client": [
        "SELECT 'c' || {row}.id AS owner",
        "SELECT 'v' || v.volunteer_id FROM visit v WHERE v.client_id = {row}.id",
    ],
    "care_request": [
        "SELECT 'c' || {row}.client_id AS owner",
        "SELECT 'v' || v.volunteer_id FROM visit v WHERE v.care_request_id = {row}.id",
    ],
    "visit": [
        f"SELECT 'v' || {{row}}.volunteer_id AS owner WHERE {_PUBLISHED}",
        f"SELECT 'c' || {{row}}.client_id WHERE {_PUBLISHED}",
    ],
    "visit_record": [
        "SELECT 'v' || v.volunteer_id AS owner FROM visit v WHERE v.id = {row}.visit_id",
        "SELECT 'c' || v.client_id FROM visit v WHERE v.id = {row}.visit_id",
    ],
    "visit_record_change": [
        f"SELECT 'v' || v.volunteer_id AS owner {_VISIT_OF_RECORD}",
        f"SELECT 'c' || v.client_id {_VISIT_OF_RECORD}",
    ],
    "roster_week": [EVERYONE],
    "roster_version": ["SELECT '*' AS owner WHERE {row}.published_at IS NOT NULL"],
    "organisation": [EVERYONE],
    "activity": [EVERYONE],
    "activity_category": [EVERYONE],
}
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


def _bump(table: str, rows: tuple[str, ...]) -> str:
    touched = " UNION ".join(select.format(row=row) for row in rows for select in OWNERS[table])
    # the WHERE also settles SQLite's parse of INSERT ... SELECT ... ON CONFLICT
    return (
        f"INSERT INTO feed_change (owner, counter) SELECT owner, 1 FROM ({touched}) AS touched "
        "WHERE owner IS NOT NULL ON CONFLICT (owner) DO UPDATE SET counter = feed_change.counter + 1"
    )


def _triggers():
    for table in OWNERS:
        for event, rows in EVENTS.items():
            yield f"feed_change_{table}_{event.lower()}", table, event, rows


def upgrade() -> None:
    op.create_table(
        "feed_change",
        sa.Column("owner", sa.String(24), primary_key=True),
        sa.Column("counter", sa.BigInteger(), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, event, rows in _triggers():
        if postgres:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{_bump(table, rows)}; RETURN NULL; END $$"
            )
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {_bump(table, rows)}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, _, _ in _triggers():
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("feed_change")
