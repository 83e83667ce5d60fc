"""Billing in any order of months: correction invoices name the original invoice they add
to, and a month remembers its first run once it was over

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Plain ADD COLUMN (no table rebuild on SQLite): the invoice table keeps its rows,
    # hashes and append-only triggers; a NULL column is not part of a row's hash.
    if postgres:
        op.add_column(
            "invoice",
            sa.Column(
                "supplements_id",
                sa.Integer(),
                sa.ForeignKey("invoice.id", name="fk_invoice_supplements_id_invoice"),
                nullable=True,
            ),
        )
    else:
        op.execute("ALTER TABLE invoice ADD COLUMN supplements_id INTEGER REFERENCES invoice (id)")
    op.add_column("billing_month", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    # a month run after its end before this version was billed once it was over
    run_month = "to_char(last_run_at, 'YYYY-MM')" if postgres else "strftime('%Y-%m', last_run_at)"
    op.execute(f"UPDATE billing_month SET completed_at = last_run_at WHERE runs > 0 AND {run_month} > month")


def downgrade() -> None:
    # in place on both (SQLite 3.35+): rebuilding the table would drop its guards
    op.execute("ALTER TABLE billing_month DROP COLUMN completed_at")
    op.execute("ALTER TABLE invoice DROP COLUMN supplements_id")
