"""The visit life cycle, guarded by the database (carecal.lifecycle): visits of published
versions never change, outcomes only for published visits and never through a new
version, no change to a billed record or in a closed month, invoice lines only for
delivered visits, one published version per week, versions go draft → published →
superseded

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Every message starts with "carecal rule: " (carecal.db.RULE_MARK): carecal shows such a
# refusal as one line. The time-dependent rules (has a visit started? is a week over?)
# need the application's clock and are checked in carecal.lifecycle only.
_BILLED = (
    "EXISTS (SELECT 1 FROM invoice_line l WHERE l.record_id = OLD.id AND l.corrects_line_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM invoice_line c WHERE c.corrects_line_id = l.id))"
)


# (name, table, event, condition on NEW/OLD, message)
RULES = [
    (
        "visit_of_published_version_unchanged",
        "visit",
        "UPDATE",
        "(SELECT status FROM roster_version WHERE id = OLD.version_id) <> 'draft'",
        "a visit of a published roster version never changes: plan or replan a new version",
    ),
    (
        "visit_of_published_version_kept",
        "visit",
        "DELETE",
        "(SELECT status FROM roster_version WHERE id = OLD.version_id) <> 'draft'",
        "a visit of a published roster version is history and is never deleted",
    ),
    (
        "visit_outcome_unchanged_by_version",
        "visit",
        "INSERT",
        "EXISTS (SELECT 1 FROM visit_record r JOIN visit rv ON rv.id = r.visit_id "
        "JOIN roster_version a ON a.id = rv.version_id JOIN roster_version b ON b.roster_week_id = a.roster_week_id "
        "WHERE b.id = NEW.version_id AND rv.request_key = NEW.request_key AND (rv.volunteer_id <> NEW.volunteer_id "
        "OR rv.starts_at <> NEW.starts_at OR rv.ends_at <> NEW.ends_at OR rv.status <> NEW.status))",
        "a visit with a recorded outcome never changes through a roster version",
    ),
    (
        "visit_record_of_published_visit",
        "visit_record",
        "INSERT",
        "(SELECT rv.status FROM roster_version rv JOIN visit v ON v.version_id = rv.id WHERE v.id = NEW.visit_id) "
        "= 'draft'",
        "only a visit of a published roster can have an outcome",
    ),
    (
        "visit_record_billed_unchanged",
        "visit_record",
        "UPDATE",
        _BILLED,
        "the visit is billed: issue a credit note (carecal billing credit INVOICE) before changing its record",
    ),
    (
        "visit_record_new_in_open_month",
        "visit_record",
        "INSERT",
        "{closed:NEW}",
        "the month of this visit is closed: correct it with a credit note",
    ),
    (
        "visit_record_changed_in_open_month",
        "visit_record",
        "UPDATE",
        "{closed:OLD} OR {closed:NEW}",
        "the month of this visit is closed: correct it with a credit note",
    ),
    (
        "invoice_line_for_delivered_visit",
        "invoice_line",
        "INSERT",
        "NEW.corrects_line_id IS NULL AND (SELECT status FROM visit_record WHERE id = NEW.record_id) <> 'delivered'",
        "only a delivered visit is billed",
    ),
    (
        "roster_version_moves_forward",
        "roster_version",
        "UPDATE",
        "(OLD.status = 'superseded' AND NEW.status <> 'superseded') "
        "OR (OLD.status = 'published' AND NEW.status = 'draft')",
        "a roster version goes from draft to published to superseded, never back",
    ),
]


def _condition(text: str, postgres: bool) -> str:
    for row in ("NEW", "OLD"):
        month = f"to_char({row}.day, 'YYYY-MM')" if postgres else f"strftime('%Y-%m', {row}.day)"
        closed = (
            "EXISTS (SELECT 1 FROM billing_month m WHERE m.closed_at IS NOT NULL AND m.month = " + month + ")"
        )
        text = text.replace("{closed:" + row + "}", closed)
    return text


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, event, condition, message in RULES:
        condition = _condition(condition, postgres)
        text = f"carecal rule: {message}"
        if postgres:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {condition} THEN RAISE EXCEPTION '{text}'; END IF; "
                f"RETURN {'OLD' if event == 'DELETE' else 'NEW'}; END $$"
            )
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{text}'); END"
            )
    op.create_index(
        "uq_roster_version_one_published",
        "roster_version",
        ["roster_week_id"],
        unique=True,
        sqlite_where=sa.text("status = 'published'"),
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("uq_roster_version_one_published", table_name="roster_version")
    for name, table, _, _, _ in RULES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
