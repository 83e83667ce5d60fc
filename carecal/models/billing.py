"""What happened at each visit, the clients' budget ledgers, invoices and closed months.

Money is integer cents throughout. Nothing here is ever deleted: a record's changes are
kept as history rows, a billed amount is corrected by a credit note that references the
invoice, and a closed month is never rewritten (§147 AO). Invoices, their lines and
ledger entries are append-only (triggers) and hash chains (`carecal.models.chain`).
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow
from carecal.models.catalogue import Activity
from carecal.models.chain import Chained
from carecal.models.people import Client
from carecal.models.roster import Visit

RECORD_STATUSES = ("delivered", "cancelled-by-client", "cancelled-by-volunteer", "no-show")
CANCELLATIONS = ("cancelled-by-client", "cancelled-by-volunteer")  # the visit does not take place
SIGNATURES = ("client", "representative", "none")


class VisitRecord(Base):
    """What happened at one published visit. The current state; `changes` keeps every
    earlier state with who, when and why."""

    __tablename__ = "visit_record"
    __table_args__ = (
        CheckConstraint(
            "status in ('delivered', 'cancelled-by-client', 'cancelled-by-volunteer', 'no-show')", name="status"
        ),
        CheckConstraint("signature is null or signature in ('client', 'representative', 'none')", name="signature"),
        CheckConstraint("started_at < ended_at", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    day: Mapped[date] = mapped_column(index=True, doc="local date of the visit: decides its month")
    status: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    activity_key: Mapped[str] = mapped_column(ForeignKey("activity.key"), doc="what was done (catalogue)")
    note: Mapped[str | None] = mapped_column(String(500), doc="the office's own words; never leaves the office")
    signature: Mapped[str | None] = mapped_column(String(16))
    signature_reason: Mapped[str | None] = mapped_column(String(300), doc="why nobody signed")
    reason: Mapped[str | None] = mapped_column(String(500), doc="why it was last changed")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()
    activity: Mapped[Activity] = relationship()
    changes: Mapped[list["VisitRecordChange"]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="VisitRecordChange.id"
    )

    @property
    def minutes(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds() // 60)


class VisitRecordChange(Base):
    """One change of a visit record: the state after it, who made it, when and why."""

    __tablename__ = "visit_record_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("visit_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[dict] = mapped_column(doc="the record's fields after this change")

    record: Mapped[VisitRecord] = relationship(back_populates="changes")


class Invoice(Chained, Base):
    """An invoice or a credit note (`corrects_id` set, negative amounts) for one client,
    one payer and one funding source, for one month's visits. An invoice with
    `supplements_id` set is a correction invoice (Korrekturrechnung): it bills visits of a
    month already billed (recorded late, or credited and recorded anew) and names the
    client's original invoice of that month."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("year", "sequence", name="uq_invoice_year_sequence"),
        CheckConstraint("kind in ('invoice', 'credit_note')", name="kind"),
        CheckConstraint("payer in ('insurer', 'client')", name="payer"),
        CheckConstraint("funding in ('relief', 'conversion', 'private')", name="funding"),
        CheckConstraint("(kind = 'credit_note') = (corrects_id is not null)", name="credit_note_corrects"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, doc="e.g. 2026-0007")
    year: Mapped[int]
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12), default="invoice")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    supplements_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id"), doc="a correction invoice: the original invoice it adds to"
    )
    month: Mapped[str] = mapped_column(String(7), index=True, doc="billing month, e.g. 2026-11")
    issued_on: Mapped[date]
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    payer: Mapped[str] = mapped_column(String(8))
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_ik: Mapped[str | None] = mapped_column(String(9))
    funding: Mapped[str] = mapped_column(String(12))
    statement: Mapped[str] = mapped_column(String(500), doc="the §45a/§45b (or §45a(4)) statement")
    total_cents: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(500), doc="why a credit note was issued")
    document: Mapped[dict | None] = mapped_column(
        doc="every field it prints, as issued (carecal.billing.issued): what its PDF is drawn from"
    )
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship()
    corrects: Mapped["Invoice | None"] = relationship(remote_side=[id], foreign_keys=[corrects_id])
    supplements: Mapped["Invoice | None"] = relationship(remote_side=[id], foreign_keys=[supplements_id])
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )


class InvoiceLine(Chained, Base):
    """One visit (or the part of it one funding source pays) on an invoice."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("visit_record.id"), index=True)
    corrects_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"))
    day: Mapped[date]
    minutes: Mapped[int]
    category: Mapped[str] = mapped_column(String(40))
    unit_price_cents: Mapped[int] = mapped_column(doc="price per hour")
    amount_cents: Mapped[int] = mapped_column(doc="this funding source's share of the visit")
    visit_price_cents: Mapped[int] = mapped_column(doc="the whole visit's price, whoever pays")

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    record: Mapped[VisitRecord] = relationship()


class LedgerEntry(Chained, Base):
    """A stored movement on a client's budget: a spend (invoice line), a refund (credit
    note line) or a manual correction. Monthly accruals and lapses are not stored: they
    follow from the care grades and the rates (carecal.billing.ledger).

    `vintage`: for relief money the year it accrued ("2026"), for the conversion budget
    its month ("2026-11").
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("budget in ('relief', 'conversion')", name="budget"),
        CheckConstraint("kind in ('spend', 'refund', 'correction')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    budget: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    day: Mapped[date]
    vintage: Mapped[str] = mapped_column(String(7))
    amount_cents: Mapped[int] = mapped_column(doc="+ adds to the budget, - takes from it")
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceCounter(Base):
    """The last invoice number used in a year. Billing runs lock this row (SELECT ... FOR
    UPDATE) for their whole transaction, so numbers run without gaps even when two runs race."""

    __tablename__ = "invoice_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class BillingMonth(Base):
    """A month that has been billed at least once; `completed_at` is its first run once it
    was over (invoices after it are corrections); `closed_at` set makes it immutable."""

    __tablename__ = "billing_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    runs: Mapped[int] = mapped_column(default=0)
    last_run_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))

    @property
    def closed(self) -> bool:
        return self.closed_at is not None
