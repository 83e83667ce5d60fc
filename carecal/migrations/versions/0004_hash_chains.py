"""Tamper evidence: the audit log, invoices, invoice lines and ledger entries become hash
chains (prev_hash, row_hash, one chain_head row per chain), computed here for the rows
already there; the append-only triggers now also refuse replacing inserts (SQLite's
INSERT OR REPLACE, upserts on both), inserts in the middle and TRUNCATE.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

from carecal.hashchain import GENESIS, row_hash

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHAINED = ("audit_event", "invoice", "invoice_line", "ledger_entry")
# Columns whose value two rows may not share (besides id): a replacing insert that hits
# one of them would delete the old row without firing any DELETE trigger on SQLite.
UNIQUE_KEYS = {"invoice": (("number",), ("year", "sequence"))}


def _message(table: str) -> str:
    if table == "audit_event":
        return "audit events are append-only"
    return f"{table} rows are append-only: correct them with a credit note"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_old_guards(postgres)
    op.create_table(
        "chain_head",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chain_head")),
    )
    for table in CHAINED:
        # NOT NULL needs a default for the rows already there. SQLite cannot drop it again
        # without rebuilding the table, which its foreign keys forbid in this transaction;
        # an empty hash never verifies, so the default cannot hide a row.
        for column in ("prev_hash", "row_hash"):
            op.add_column(table, sa.Column(column, sa.String(length=64), nullable=False, server_default=""))
            if postgres:
                op.alter_column(table, column, server_default=None)
        last_id, last_hash = _chain_existing_rows(table)
        op.execute(
            sa.text("INSERT INTO chain_head (name, last_id, last_hash) VALUES (:name, :id, :hash)").bindparams(
                name=table, id=last_id, hash=last_hash
            )
        )
    _create_guards(postgres)


def _chain_existing_rows(name: str) -> tuple[int, str]:
    bind = op.get_bind()
    table = sa.Table(name, sa.MetaData(), autoload_with=bind)
    prev, last_id = GENESIS, 0
    for row in bind.execute(sa.select(table).order_by(table.c.id)).mappings().all():
        values = {**row, "prev_hash": prev}
        digest = row_hash(name, values)
        bind.execute(table.update().where(table.c.id == row["id"]).values(prev_hash=prev, row_hash=digest))
        prev, last_id = digest, row["id"]
    return last_id, prev


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_guards(postgres)
    for table in CHAINED:
        for column in ("row_hash", "prev_hash"):
            # SQLite drops a column in place (3.35+): rebuilding the table would trip its foreign keys
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("chain_head")
    _restore_old_guards(postgres)


def _create_guards(postgres: bool) -> None:
    if postgres:
        op.execute(
            "CREATE FUNCTION append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_TABLE_NAME = 'audit_event' THEN RAISE EXCEPTION 'audit events are append-only'; END IF; "
            "RAISE EXCEPTION '% rows are append-only: correct them with a credit note', TG_TABLE_NAME; END $$"
        )
        # A new row goes at the end of its chain: a lower id would be a row slipped into the
        # middle, an equal one an upsert (INSERT ... ON CONFLICT DO UPDATE).
        op.execute(
            "CREATE FUNCTION append_at_end() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE top integer; BEGIN "
            "EXECUTE format('SELECT coalesce(max(id), 0) FROM %I', TG_TABLE_NAME) INTO top; "
            "IF NEW.id <= top THEN RAISE EXCEPTION '% rows are append-only: a new row goes at the end "
            "(id % is not above %)', TG_TABLE_NAME, NEW.id, top; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE FUNCTION chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND NEW.name = OLD.name AND NEW.last_id > OLD.last_id THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'chain heads only move forward'; END $$"
        )
        for table in CHAINED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION append_only_refusal()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION append_only_refusal()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_at_end BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION append_at_end()"
            )
        op.execute(
            "CREATE TRIGGER chain_head_forward BEFORE UPDATE OR DELETE ON chain_head "
            "FOR EACH ROW EXECUTE FUNCTION chain_head_forward()"
        )
        op.execute(
            "CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION chain_head_forward()"
        )
        return
    for table in CHAINED:
        message = _message(table)
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        # INSERT OR REPLACE deletes the row it collides with without firing DELETE triggers
        # (unless recursive_triggers is on), and an upsert turns into an UPDATE: refuse any
        # insert that is not a new row at the end, before SQLite looks for a conflict.
        clash = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE " + " AND ".join(f"{c} = NEW.{c}" for c in key) + ")"
            for key in UNIQUE_KEYS.get(table, ())
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_at_end BEFORE INSERT ON {table} "
            f"WHEN NEW.id <= (SELECT coalesce(max(id), 0) FROM {table}){' OR ' + clash if clash else ''} "
            f"BEGIN SELECT RAISE(ABORT, '{message}: a new row goes at the end'); END"
        )
    op.execute(
        "CREATE TRIGGER chain_head_forward BEFORE UPDATE ON chain_head "
        "WHEN NEW.name <> OLD.name OR NEW.last_id <= OLD.last_id "
        "BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END"
    )
    op.execute(
        "CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head "
        "BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END"
    )
    op.execute(
        "CREATE TRIGGER chain_head_no_replace BEFORE INSERT ON chain_head "
        "WHEN EXISTS (SELECT 1 FROM chain_head WHERE name = NEW.name) "
        "BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END"
    )


def _drop_guards(postgres: bool) -> None:
    if postgres:
        for table in CHAINED:
            for trigger in ("append_only", "no_truncate", "append_at_end"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger} ON {table}")
        op.execute("DROP TRIGGER IF EXISTS chain_head_forward ON chain_head")
        op.execute("DROP TRIGGER IF EXISTS chain_head_no_truncate ON chain_head")
        for function in ("append_only_refusal", "append_at_end", "chain_head_forward"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        return
    for table in CHAINED:
        for trigger in ("no_update", "no_delete", "append_at_end"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
    for trigger in ("forward", "no_delete", "no_replace"):
        op.execute(f"DROP TRIGGER IF EXISTS chain_head_{trigger}")


# The guards of revisions 0001 (audit log) and 0003 (billing), replaced above and put
# back by the downgrade.
def _drop_old_guards(postgres: bool) -> None:
    if postgres:
        for table in CHAINED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
        op.execute("DROP FUNCTION IF EXISTS billing_append_only()")
        return
    for table in CHAINED:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def _restore_old_guards(postgres: bool) -> None:
    if postgres:
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$"
        )
        op.execute(
            "CREATE FUNCTION billing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are append-only: correct them with a credit note', TG_TABLE_NAME; END $$"
        )
        for table in CHAINED:
            function = "audit_event_append_only" if table == "audit_event" else "billing_append_only"
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        return
    for table in CHAINED:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_message(table)}'); END"
            )
