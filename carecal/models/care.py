"""What clients need: standing weekly care requests."""

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base
from carecal.models.catalogue import Activity
from carecal.models.people import Client


class CareRequest(Base):
    """A client's standing weekly need, e.g. 2 visits of 120 min, Tue or Thu afternoons.

    Each week it becomes `visits_per_week` instance requests with keys
    '<external_id>#1', '<external_id>#2', ... (see carecal.instance).
    """

    __tablename__ = "care_request"
    __table_args__ = (
        CheckConstraint("duration_min > 0", name="duration_positive"),
        CheckConstraint("visits_per_week between 1 and 7", name="visits_per_week_range"),
        CheckConstraint("priority >= 1", name="priority_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    duration_min: Mapped[int]
    visits_per_week: Mapped[int] = mapped_column(default=1)
    windows: Mapped[list] = mapped_column(doc='[{"day": "tue", "from": "13:00", "to": "18:00"}, ...]')
    priority: Mapped[int] = mapped_column(default=1)
    activity_key: Mapped[str] = mapped_column(ForeignKey("activity.key"), doc="what the visits are for (catalogue)")
    category: Mapped[str] = mapped_column(String(40), default="betreuung", doc="service category for the price list")
    note: Mapped[str | None] = mapped_column(String(500), doc="the office's own words; never leaves the office")
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    client: Mapped[Client] = relationship(back_populates="requests")
    activity: Mapped[Activity] = relationship()

    def active_between(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)
