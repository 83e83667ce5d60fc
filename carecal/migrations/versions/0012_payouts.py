"""Volunteers' allowances paid by bank transfer: volunteers' bank details and tax-free limit,
the organisation's rule for an allowance above that limit, payouts and their visit lines
(append-only hash chains, like invoices) and the months whose payouts were made

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

import carecal.models.base
from carecal.hashchain import GENESIS

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHAINED = ("payout", "payout_line")
MESSAGE = "rows are append-only: correct them with carecal payout correct"


def upgrade() -> None:
    # Plain ALTER TABLE: a batch copy would drop the tables' feed triggers (revision 0010)
    # and trip the foreign keys that point at them.
    op.add_column("volunteer", sa.Column("iban", sa.String(length=34), nullable=True))
    op.add_column("volunteer", sa.Column("account_holder", sa.String(length=70), nullable=True))
    op.add_column("volunteer", sa.Column("allowance_limit", sa.String(length=6), server_default="3_26", nullable=False))
    op.add_column("organisation", sa.Column("payout_over_limit", sa.String(length=8), server_default="hold", nullable=False))

    op.create_table(
        "payout_month",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("made_at", carecal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("made_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_payout_month")),
    )
    op.create_table(
        "payout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("earned_cents", sa.Integer(), nullable=False),
        sa.Column("tax_free_cents", sa.Integer(), nullable=False),
        sa.Column("taxable_cents", sa.Integer(), nullable=False),
        sa.Column("held_cents", sa.Integer(), nullable=False),
        sa.Column("limit_key", sa.String(length=6), nullable=False),
        sa.Column("limit_cents", sa.Integer(), nullable=False),
        sa.Column("tax_free_before_cents", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("payee", sa.String(length=70), nullable=True),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", carecal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("(kind = 'correction') = (corrects_id is not null)", name=op.f("ck_payout_correction_corrects")),
        sa.CheckConstraint("kind in ('payout', 'correction')", name=op.f("ck_payout_kind")),
        sa.CheckConstraint("limit_key in ('3_26', '3_26a')", name=op.f("ck_payout_limit_key")),
        sa.CheckConstraint(
            "tax_free_cents + taxable_cents + held_cents = earned_cents", name=op.f("ck_payout_split_adds_up")
        ),
        sa.ForeignKeyConstraint(["corrects_id"], ["payout.id"], name=op.f("fk_payout_corrects_id_payout")),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"], name=op.f("fk_payout_volunteer_id_volunteer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout")),
    )
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_corrects_id"), ["corrects_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_volunteer_id"), ["volunteer_id"], unique=False)
    op.create_table(
        "payout_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("corrects_line_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("rate_cents", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_line_id"], ["payout_line.id"], name=op.f("fk_payout_line_corrects_line_id_payout_line")
        ),
        sa.ForeignKeyConstraint(["payout_id"], ["payout.id"], name=op.f("fk_payout_line_payout_id_payout")),
        sa.ForeignKeyConstraint(["record_id"], ["visit_record.id"], name=op.f("fk_payout_line_record_id_visit_record")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_payout_line_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_line")),
    )
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_line_payout_id"), ["payout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_line_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payout_line_visit_id"), ["visit_id"], unique=False)

    for table in CHAINED:
        op.execute(
            sa.text("INSERT INTO chain_head (name, last_id, last_hash) VALUES (:name, 0, :hash)").bindparams(
                name=table, hash=GENESIS
            )
        )
    _create_guards(op.get_bind().dialect.name == "postgresql")


def _create_guards(postgres: bool) -> None:
    """The same guards as the other chains (revision 0004): no UPDATE, DELETE or TRUNCATE,
    and a new row only at the end of its chain."""
    if postgres:
        op.execute(
            "CREATE FUNCTION payout_append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '% {MESSAGE}', TG_TABLE_NAME; END $$"
        )
        for table in CHAINED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION payout_append_only_refusal()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION payout_append_only_refusal()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_append_at_end BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION append_at_end()"
            )
        return
    for table in CHAINED:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END"
            )
        op.execute(
            f"CREATE TRIGGER {table}_append_at_end BEFORE INSERT ON {table} "
            f"WHEN NEW.id <= (SELECT coalesce(max(id), 0) FROM {table}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}: a new row goes at the end'); END"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in CHAINED:
        if postgres:
            for trigger in ("append_only", "no_truncate", "append_at_end"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger} ON {table}")
        else:
            for trigger in ("no_update", "no_delete", "append_at_end"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS payout_append_only_refusal()")
    # chain heads only move forward (a trigger of revision 0004): lift it for this one delete
    if postgres:
        op.execute("ALTER TABLE chain_head DISABLE TRIGGER chain_head_forward")
        op.execute("DELETE FROM chain_head WHERE name IN ('payout', 'payout_line')")
        op.execute("ALTER TABLE chain_head ENABLE TRIGGER chain_head_forward")
    else:
        op.execute("DROP TRIGGER IF EXISTS chain_head_no_delete")
        op.execute("DELETE FROM chain_head WHERE name IN ('payout', 'payout_line')")
        op.execute(
            "CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head "
            "BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END"
        )
    op.drop_table("payout_line")
    op.drop_table("payout")
    op.drop_table("payout_month")
    op.execute("ALTER TABLE organisation DROP COLUMN payout_over_limit")
    for column in ("allowance_limit", "account_holder", "iban"):
        op.execute(f"ALTER TABLE volunteer DROP COLUMN {column}")
