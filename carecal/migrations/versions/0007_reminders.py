"""Reminders in volunteers' calendars: the times each volunteer chose (NULL: the default)

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("volunteer", sa.Column("reminders", sa.JSON(), nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite >= 3.35): a batch copy of `volunteer` would trip the
    # foreign keys that point at it
    op.drop_column("volunteer", "reminders")
