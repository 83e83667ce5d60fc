"""Issued invoices are documents: each keeps every field it prints (`invoice.document`,
part of its hash), and the care insurers' postal addresses are master data (`insurer`)

Revision ID: 0013
Revises: 0012

Invoices issued before keep no document (a NULL column is not part of a row's hash, so
their hashes hold); they are drawn from the records as they are.
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insurer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ik", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurer")),
        sa.UniqueConstraint("ik", name=op.f("uq_insurer_ik")),
    )
    # in place (no table rebuild on SQLite): the invoice table keeps its rows and guards
    op.add_column("invoice", sa.Column("document", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE invoice DROP COLUMN document")
    op.drop_table("insurer")
