"""Calendar subscription tokens.

A token is the secret in a feed link (`/feeds/<token>.ics`). Only its SHA-256 hash is
stored: a copy of the database does not give anyone the links. A token belongs to exactly
one owner: a volunteer (their own visits) or a client (the family feed). Revoking keeps
the row, so the log of who issued and killed which link survives.

The events' SEQUENCE and DTSTAMP need no table: they are derived from the history of
published roster versions, which is never rewritten.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow
from carecal.models.people import Client, Volunteer


class FeedToken(Base):
    __tablename__ = "feed_token"
    __table_args__ = (CheckConstraint("(volunteer_id is null) <> (client_id is null)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), index=True, doc="set for a family feed"
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 hex of the token")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    volunteer: Mapped[Volunteer | None] = relationship()
    client: Mapped[Client | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class FeedChange(Base):
    """How often the database saw a change to what one owner's feeds show ('v<id>' for a
    volunteer, 'c<id>' for a client, '*' for every feed). Written only by the database's
    triggers (migration 0010); the feed server compares the counters to know which feeds
    to read again after a commit (carecal.feeds.changes)."""

    __tablename__ = "feed_change"

    owner: Mapped[str] = mapped_column(String(24), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger)
