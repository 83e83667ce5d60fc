"""Clients: visits on one day at most (rule 10 of docs/format.md), 1 for everybody so far

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("client", sa.Column("max_visits_per_day", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35 and PostgreSQL): a batch copy of `client` would have to
    # drop a table that other tables' foreign keys point at.
    op.execute("ALTER TABLE client DROP COLUMN max_visits_per_day")
