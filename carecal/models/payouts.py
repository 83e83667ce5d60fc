"""The volunteers' allowances as paid: one payout per volunteer and month, its visit lines,
and the months whose payouts were made.

Payouts and their lines are append-only (triggers) and hash chains (`carecal.models.chain`),
like invoices: what was paid is never rewritten. A later change (a visit recorded late, a
visit's minutes corrected) is paid or taken back by a correction, a new payout that
references the month's first one, with lines that add visits or reverse earlier lines.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow
from carecal.models.billing import VisitRecord
from carecal.models.chain import Chained
from carecal.models.people import Volunteer


class PayoutMonth(Base):
    """A month whose payouts were made. Runs lock this row (SELECT ... FOR UPDATE), so a
    month is paid once even when two treasurers run it at the same moment."""

    __tablename__ = "payout_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    batches: Mapped[int] = mapped_column(default=0, doc="1 = the run; every correction adds one")
    made_at: Mapped[datetime | None]
    made_by: Mapped[str | None] = mapped_column(String(100))

    @property
    def made(self) -> bool:
        return self.made_at is not None


class Payout(Chained, Base):
    """What one volunteer earned and was paid for one month in one batch (the month's run,
    or a correction). `earned_cents` (the sum of its lines) = tax-free + taxable + held:
    the part within the yearly tax-free limit, the part above it paid as taxable, and the
    part above it held back (the organisation's `payout_over_limit`). Transferred is
    tax-free + taxable; a negative amount was overpaid and is to be settled."""

    __tablename__ = "payout"
    __table_args__ = (
        CheckConstraint("kind in ('payout', 'correction')", name="kind"),
        CheckConstraint("(kind = 'correction') = (corrects_id is not null)", name="correction_corrects"),
        CheckConstraint("tax_free_cents + taxable_cents + held_cents = earned_cents", name="split_adds_up"),
        CheckConstraint("limit_key in ('3_26', '3_26a')", name="limit_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True, doc="the month of the visits paid, e.g. 2026-11")
    batch: Mapped[int] = mapped_column(doc="1 = the month's run, 2, 3, ... its corrections")
    kind: Mapped[str] = mapped_column(String(12))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("payout.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)
    earned_cents: Mapped[int] = mapped_column(doc="the sum of the lines")
    tax_free_cents: Mapped[int]
    taxable_cents: Mapped[int]
    held_cents: Mapped[int]
    limit_key: Mapped[str] = mapped_column(String(6), doc="3_26 or 3_26a: the volunteer's tax-free limit")
    limit_cents: Mapped[int] = mapped_column(doc="that limit for the year (rate valid on 31 December)")
    tax_free_before_cents: Mapped[int] = mapped_column(doc="tax-free allowance of the year paid before this payout")
    iban: Mapped[str | None] = mapped_column(String(34), doc="the account paid (none when nothing is transferred)")
    payee: Mapped[str | None] = mapped_column(String(70), doc="the name on that account")
    execution_date: Mapped[date] = mapped_column(doc="the day the bank is asked to transfer it")
    reason: Mapped[str | None] = mapped_column(String(500), doc="why a correction was made")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    corrects: Mapped["Payout | None"] = relationship(remote_side=[id])
    lines: Mapped[list["PayoutLine"]] = relationship(
        back_populates="payout", cascade="all, delete-orphan", order_by="PayoutLine.id"
    )

    @property
    def paid_cents(self) -> int:
        """What the bank transfers (negative: overpaid, to be settled)."""
        return self.tax_free_cents + self.taxable_cents


class PayoutLine(Chained, Base):
    """One visit's allowance on a payout, or the reversal of an earlier line (negative)."""

    __tablename__ = "payout_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payout.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("visit_record.id"), index=True)
    corrects_line_id: Mapped[int | None] = mapped_column(ForeignKey("payout_line.id"))
    day: Mapped[date]
    minutes: Mapped[int]
    rate_cents: Mapped[int] = mapped_column(doc="allowance per hour valid that day")
    amount_cents: Mapped[int]

    payout: Mapped[Payout] = relationship(back_populates="lines")
    record: Mapped[VisitRecord] = relationship()
