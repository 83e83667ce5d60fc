"""The association itself and its dated rates (prices, allowances, legal amounts)."""

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base
from carecal.weeks import DEFAULT_TZ


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ik: Mapped[str] = mapped_column(String(9), doc="Institutionskennzeichen, 9 digits")
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TZ)
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    recognition: Mapped[str | None] = mapped_column(
        String(300), doc="recognition of the §45a offer, e.g. 'KSV Sachsen, Az. ...'"
    )
    # What an invoice needs besides the address (§ 14 UStG, and where to pay)
    tax_number: Mapped[str | None] = mapped_column(String(30), doc="Steuernummer of the tax office")
    iban: Mapped[str | None] = mapped_column(String(34), doc="account for payments, without spaces")
    bic: Mapped[str | None] = mapped_column(String(11))
    bank_name: Mapped[str | None] = mapped_column(String(100))
    payment_term_days: Mapped[int | None] = mapped_column(doc="days from the invoice date to pay")
    # What the treasurer decides once for every payout (carecal.billing.payouts)
    payout_over_limit: Mapped[str] = mapped_column(
        String(8),
        default="hold",
        server_default="hold",
        doc="an allowance above the yearly tax-free limit: 'hold' it, or pay it as 'taxable'",
    )

    rates: Mapped[list["Rate"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Rate.valid_from"
    )


class Insurer(Base):
    """A care insurer (Pflegekasse) the association bills: its postal address, for the
    invoices it gets. Clients name theirs by IK (`Client.insurer_ik`)."""

    __tablename__ = "insurer"

    id: Mapped[int] = mapped_column(primary_key=True)
    ik: Mapped[str] = mapped_column(String(9), unique=True, doc="Institutionskennzeichen, 9 digits")
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))


class Rate(Base):
    """An amount in cents valid over [valid_from, valid_to] (valid_to None = open-ended).

    `kind` says what it is; `key` narrows it:
      price_per_hour        key = service category     what the association bills per hour
      allowance_per_hour    key = None                 volunteer expense allowance
      relief_amount_month   key = None                 Entlastungsbetrag §45b (131 € from 2025)
      conversion_max_month  key = care grade "2".."5"  §45a(4) maximum per month
      tax_free_limit_year   key = "3_26" | "3_26a"     §3 Nr. 26 / 26a EStG yearly limit (valid on 31 Dec)
    Legal amounts are data, not code constants: they change by date.
    """

    __tablename__ = "rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(40))
    amount_cents: Mapped[int]
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(300))

    organisation: Mapped[Organisation] = relationship(back_populates="rates")
