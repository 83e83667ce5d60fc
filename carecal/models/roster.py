"""Roster weeks, their versions (draft, published, superseded) and the visits in each."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow
from carecal.models.care import CareRequest
from carecal.models.people import Client, Volunteer


class RosterWeek(Base):
    """One ISO week. `revision` rises with every new or published version: a coordinator
    whose view is older gets a conflict instead of overwriting a colleague's work."""

    __tablename__ = "roster_week"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True, doc="ISO week, e.g. 2026-W48")
    revision: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list["RosterVersion"]] = relationship(
        back_populates="roster_week", cascade="all, delete-orphan", order_by="RosterVersion.number"
    )

    __mapper_args__ = {"version_id_col": revision}

    @property
    def published(self) -> "RosterVersion | None":
        return next((v for v in reversed(self.versions) if v.status == "published"), None)

    @property
    def latest(self) -> "RosterVersion | None":
        return self.versions[-1] if self.versions else None


class RosterVersion(Base):
    __tablename__ = "roster_version"
    __table_args__ = (
        UniqueConstraint("roster_week_id", "number", name="uq_roster_version_week_number"),
        CheckConstraint("status in ('draft', 'published', 'superseded')", name="status"),
        # at most one published version per week (the life cycle: carecal.lifecycle)
        Index(
            "uq_roster_version_one_published",
            "roster_week_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_week_id: Mapped[int] = mapped_column(ForeignKey("roster_week.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    based_on: Mapped[int | None] = mapped_column(doc="number of the version this one was replanned from")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime | None]
    solver_status: Mapped[str | None] = mapped_column(String(20))
    stats: Mapped[dict] = mapped_column(default=dict)
    instance: Mapped[dict | None] = mapped_column(doc="the carecal-instance/1 document that was solved")

    roster_week: Mapped[RosterWeek] = relationship(back_populates="versions")
    visits: Mapped[list["Visit"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Visit.starts_at"
    )
    unassigned: Mapped[list["UnassignedRequest"]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="UnassignedRequest.request_key"
    )


class Visit(Base):
    """One planned visit of a roster version. `request_key` ('c017-2#1') is stable across
    versions and weeks' replans, so feeds and diffs recognise the same visit."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("version_id", "request_key", name="uq_visit_version_request_key"),
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        CheckConstraint("status in ('planned', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("roster_version.id", ondelete="CASCADE"), index=True)
    request_key: Mapped[str] = mapped_column(String(60))
    care_request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="planned")
    pinned: Mapped[bool] = mapped_column(default=False)

    version: Mapped[RosterVersion] = relationship(back_populates="visits")
    care_request: Mapped[CareRequest] = relationship()
    client: Mapped[Client] = relationship()
    volunteer: Mapped[Volunteer] = relationship()


class UnassignedRequest(Base):
    __tablename__ = "unassigned_request"
    __table_args__ = (UniqueConstraint("version_id", "request_key", name="uq_unassigned_version_request_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("roster_version.id", ondelete="CASCADE"), index=True)
    request_key: Mapped[str] = mapped_column(String(60))
    care_request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    reasons: Mapped[list] = mapped_column(default=list)

    version: Mapped[RosterVersion] = relationship(back_populates="unassigned")
    client: Mapped[Client] = relationship()
