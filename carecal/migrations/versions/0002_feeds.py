"""Calendar feeds: subscription tokens (hash only) of volunteers and families

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

import carecal.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", carecal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", carecal.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("(volunteer_id is null) <> (client_id is null)", name=op.f("ck_feed_token_one_owner")),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_feed_token_client_id_client"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"], name=op.f("fk_feed_token_volunteer_id_volunteer"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_token_token_hash")),
    )
    with op.batch_alter_table("feed_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_token_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_token_volunteer_id"), ["volunteer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_token_volunteer_id"))
        batch_op.drop_index(batch_op.f("ix_feed_token_client_id"))
    op.drop_table("feed_token")
