"""Billing: visit records and their history, budget ledgers, invoices, credit notes,
the per-year invoice counter and billing months

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

import carecal.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_month',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('last_run_at', carecal.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', carecal.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_billing_month'))
    )
    op.create_table('invoice_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_invoice_counter'))
    )
    op.create_table('invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('payer', sa.String(length=8), nullable=False),
    sa.Column('payer_name', sa.String(length=200), nullable=False),
    sa.Column('payer_ik', sa.String(length=9), nullable=True),
    sa.Column('funding', sa.String(length=12), nullable=False),
    sa.Column('statement', sa.String(length=500), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'credit_note') = (corrects_id is not null)", name=op.f('ck_invoice_credit_note_corrects')),
    sa.CheckConstraint("funding in ('relief', 'conversion', 'private')", name=op.f('ck_invoice_funding')),
    sa.CheckConstraint("kind in ('invoice', 'credit_note')", name=op.f('ck_invoice_kind')),
    sa.CheckConstraint("payer in ('insurer', 'client')", name=op.f('ck_invoice_payer')),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_invoice_client_id_client')),
    sa.ForeignKeyConstraint(['corrects_id'], ['invoice.id'], name=op.f('fk_invoice_corrects_id_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    sa.UniqueConstraint('year', 'sequence', name='uq_invoice_year_sequence')
    )
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_month'), ['month'], unique=False)

    op.create_table('visit_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('started_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.Column('signature', sa.String(length=16), nullable=True),
    sa.Column('signature_reason', sa.String(length=300), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("signature is null or signature in ('client', 'representative', 'none')", name=op.f('ck_visit_record_signature')),
    sa.CheckConstraint("status in ('delivered', 'cancelled-by-client', 'cancelled-by-volunteer', 'no-show')", name=op.f('ck_visit_record_status')),
    sa.CheckConstraint('started_at < ended_at', name=op.f('ck_visit_record_start_before_end')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_record_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_record')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_visit_record_visit_id'))
    )
    with op.batch_alter_table('visit_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_record_day'), ['day'], unique=False)

    op.create_table('invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('corrects_line_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('visit_price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['corrects_line_id'], ['invoice_line.id'], name=op.f('fk_invoice_line_corrects_line_id_invoice_line')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
    sa.ForeignKeyConstraint(['record_id'], ['visit_record.id'], name=op.f('fk_invoice_line_record_id_visit_record')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_invoice_line_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line'))
    )
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_line_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_record_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['visit_record.id'], name=op.f('fk_visit_record_change_record_id_visit_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_record_change'))
    )
    with op.batch_alter_table('visit_record_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_record_change_record_id'), ['record_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('budget', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('vintage', sa.String(length=7), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('invoice_line_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('created_at', carecal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("budget in ('relief', 'conversion')", name=op.f('ck_ledger_entry_budget')),
    sa.CheckConstraint("kind in ('spend', 'refund', 'correction')", name=op.f('ck_ledger_entry_kind')),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_ledger_entry_client_id_client')),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_line.id'], name=op.f('fk_ledger_entry_invoice_line_id_invoice_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_invoice_line_id'), ['invoice_line_id'], unique=False)
    _create_append_only_guards()


def downgrade() -> None:
    _drop_append_only_guards()
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_invoice_line_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entry_client_id'))

    op.drop_table('ledger_entry')
    with op.batch_alter_table('visit_record_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_record_change_record_id'))

    op.drop_table('visit_record_change')
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_visit_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_line_record_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_line_invoice_id'))

    op.drop_table('invoice_line')
    with op.batch_alter_table('visit_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_record_day'))

    op.drop_table('visit_record')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_month'))
        batch_op.drop_index(batch_op.f('ix_invoice_corrects_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_client_id'))

    op.drop_table('invoice')
    op.drop_table('invoice_counter')
    op.drop_table('billing_month')


# Invoices, their lines and ledger movements are never rewritten (§147 AO): corrections are
# new rows (credit notes, refunds, corrections) that reference what they correct. The
# database refuses UPDATE and DELETE, as it does for the audit log.
APPEND_ONLY = ("invoice", "invoice_line", "ledger_entry")


def _create_append_only_guards() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "CREATE FUNCTION billing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are append-only: correct them with a credit note', TG_TABLE_NAME; END $$"
        )
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION billing_append_only()")
        else:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only: correct them with a credit note'); END")


def _drop_append_only_guards() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS billing_append_only()")
