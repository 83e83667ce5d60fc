"""A coordinator's decision that every later plan must honour, with author and reason."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow
from carecal.models.people import Client, Volunteer

OVERRIDE_KINDS = ("pin", "forbid", "absence", "client_away", "unassign")


class Override(Base):
    """kind      uses
    pin          week, request_key, volunteer, starts_at (optional)
    forbid       client, volunteer, until (optional)
    absence      volunteer, starts_at, ends_at
    client_away  client, starts_at, ends_at
    unassign     week, request_key
    Removing one keeps the row (removed_at/removed_by): history is never lost.
    """

    __tablename__ = "override"
    __table_args__ = (CheckConstraint("kind in ('pin', 'forbid', 'absence', 'client_away', 'unassign')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    week: Mapped[str | None] = mapped_column(String(8), index=True)
    request_key: Mapped[str | None] = mapped_column(String(60))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    until: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(100))

    client: Mapped[Client | None] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()

    @property
    def active(self) -> bool:
        return self.removed_at is None
