"""Activity catalogue: requests and visit records name a catalogue key; the office's own
words move to an office-only note; a volunteer's calendar language may be left to default

Revision ID: 0008
Revises: 0007

Existing free-text activities are kept, word for word, in the new `note` column (which
never leaves the office); requests and records get the catalogue key `visit` ("Besuch"),
created here when there is data to migrate. Import a catalogue and re-import the requests
to name the real activities. A calendar language of 'de' (the old default) is cleared for
volunteers who do not speak German: their calendar then follows their own languages.
"""

import json

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FALLBACK = "visit"
FALLBACK_LABELS = {"de": "Besuch", "ru": "Визит", "uk": "Візит", "en": "Visit"}
TABLES = ("care_request", "visit_record")


def upgrade() -> None:
    op.create_table(
        "activity_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_category")),
        sa.UniqueConstraint("key", name=op.f("uq_activity_category_key")),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("category_key", sa.String(length=40), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_key"], ["activity_category.key"], name=op.f("fk_activity_category_key_activity_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint("key", name=op.f("uq_activity_key")),
    )
    bind = op.get_bind()
    if any(bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in TABLES):
        bind.execute(
            sa.text("INSERT INTO activity (key, labels) VALUES (:key, :labels)"),
            {"key": FALLBACK, "labels": json.dumps(FALLBACK_LABELS, ensure_ascii=False)},
        )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("activity_key", sa.String(length=40), nullable=True))
            batch_op.add_column(sa.Column("note", sa.String(length=500), nullable=True))
        bind.execute(sa.text(f"UPDATE {table} SET note = activity, activity_key = :key"), {"key": FALLBACK})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("activity_key", existing_type=sa.String(length=40), nullable=False)
            batch_op.drop_column("activity")
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_activity_key_activity"), "activity", ["activity_key"], ["key"]
            )

    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.alter_column("ui_language", existing_type=sa.String(length=5), nullable=True)
    for row in bind.execute(sa.text("SELECT id, languages FROM volunteer WHERE ui_language = 'de'")):
        languages = row.languages if isinstance(row.languages, list) else json.loads(row.languages)
        if "de" not in languages:
            bind.execute(sa.text("UPDATE volunteer SET ui_language = NULL WHERE id = :id"), {"id": row.id})


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE volunteer SET ui_language = 'de' WHERE ui_language IS NULL"))
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.alter_column("ui_language", existing_type=sa.String(length=5), nullable=False)

    labels = {
        key: (value if isinstance(value, dict) else json.loads(value))["de"]
        for key, value in bind.execute(sa.text("SELECT key, labels FROM activity"))
    }
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("activity", sa.String(length=200), nullable=True))
        for row in bind.execute(sa.text(f"SELECT id, activity_key, note FROM {table}")).all():
            bind.execute(
                sa.text(f"UPDATE {table} SET activity = :text WHERE id = :id"),
                {"text": (row.note or labels[row.activity_key])[:200], "id": row.id},
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("activity", existing_type=sa.String(length=200), nullable=False)
            batch_op.drop_constraint(op.f(f"fk_{table}_activity_key_activity"), type_="foreignkey")
            batch_op.drop_column("note")
            batch_op.drop_column("activity_key")
    op.drop_table("activity")
    op.drop_table("activity_category")
