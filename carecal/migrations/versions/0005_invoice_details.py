"""Organisation: tax number, bank details and payment term for invoices

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("tax_number", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("iban", sa.String(length=34), nullable=True))
        batch.add_column(sa.Column("bic", sa.String(length=11), nullable=True))
        batch.add_column(sa.Column("bank_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("payment_term_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        for column in ("payment_term_days", "bank_name", "bic", "iban", "tax_number"):
            batch.drop_column(column)
