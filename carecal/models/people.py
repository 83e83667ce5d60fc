"""Volunteers and clients, with what matching needs to know about them.

Special-category data (Art. 9 GDPR) lives only on Client and CareGrade: `dementia`, the care
grade, `insurance_number`, `date_of_birth`. Code that leaves the coordinator's machine
(feeds, logs, error messages, pseudonymised exports) must not read them. A volunteer's IBAN
is shown masked everywhere (carecal.privacy.mask_iban) except in the bank's transfer file.
"""

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carecal.models.base import Base, utcnow

if TYPE_CHECKING:  # care.py imports this module: a type reference only
    from carecal.models.care import CareRequest

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GENDERS = ("f", "m", "d")
TRAVEL_MODES = ("walk", "bike", "transit", "car")


class Volunteer(Base):
    __tablename__ = "volunteer"
    __table_args__ = (
        CheckConstraint("gender in ('f', 'm', 'd')", name="gender"),
        CheckConstraint("travel_mode in ('walk', 'bike', 'transit', 'car')", name="travel_mode"),
        CheckConstraint("max_km > 0", name="max_km_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    district: Mapped[str | None] = mapped_column(String(60))
    lat: Mapped[float]
    lon: Mapped[float]
    location_approximate: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="lat/lon is the district centroid, not the address"
    )
    languages: Mapped[list] = mapped_column(doc="ISO 639-1 codes, best first")
    gender: Mapped[str] = mapped_column(String(1))
    travel_mode: Mapped[str] = mapped_column(String(10))
    max_km: Mapped[float] = mapped_column(doc="longest one-way trip, km")
    max_minutes_per_week: Mapped[int]
    max_visits_per_day: Mapped[int] = mapped_column(default=3)
    ui_language: Mapped[str | None] = mapped_column(
        String(5), doc="language of their calendar; None: their first language the catalogue has"
    )
    reminders: Mapped[list | None] = mapped_column(
        doc='calendar reminders, e.g. ["1d@18:00", "1h"]; [] none; NULL the default (carecal.feeds.reminders)'
    )
    iban: Mapped[str | None] = mapped_column(String(34), doc="account the allowance is paid to, compact")
    account_holder: Mapped[str | None] = mapped_column(
        String(70), doc="the name on that account, when it is not the volunteer's own"
    )
    allowance_limit: Mapped[str] = mapped_column(
        String(6), default="3_26", server_default="3_26", doc="tax-free limit of the allowance: 3_26 or 3_26a EStG"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    availability: Mapped[list["AvailabilityWindow"]] = relationship(
        back_populates="volunteer",
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start)",
    )
    trainings: Mapped[list["Training"]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", order_by="Training.completed_on"
    )
    absences: Mapped[list["Absence"]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", order_by="Absence.starts_at"
    )
    exclusions: Mapped[list["Exclusion"]] = relationship(back_populates="volunteer", cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def payee(self) -> str:
        """Whose account the allowance goes to: the holder on file, else the volunteer."""
        return self.account_holder or self.name


class AvailabilityWindow(Base):
    """A weekly window in local wall-clock time, e.g. tue 13:00-18:00."""

    __tablename__ = "availability_window"
    __table_args__ = (CheckConstraint('start < "end"', name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(doc="0 = Monday .. 6 = Sunday")
    start: Mapped[time]
    end: Mapped[time]

    volunteer: Mapped[Volunteer] = relationship(back_populates="availability")


class Training(Base):
    """A completed training; `kind` is 'basic' (required to be scheduled) or 'dementia'."""

    __tablename__ = "training"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[date]
    expires_on: Mapped[date | None]

    volunteer: Mapped[Volunteer] = relationship(back_populates="trainings")

    def valid_on(self, day: date) -> bool:
        return self.completed_on <= day and (self.expires_on is None or day <= self.expires_on)


class Absence(Base):
    """A volunteer cannot visit in [starts_at, ends_at) (holiday, illness: the kind is not stored)."""

    __tablename__ = "absence"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(300))
    override_id: Mapped[int | None] = mapped_column(
        ForeignKey("override.id", ondelete="CASCADE"), doc="set when an override created it"
    )

    volunteer: Mapped[Volunteer] = relationship(back_populates="absences")


class Client(Base):
    __tablename__ = "client"
    __table_args__ = (
        CheckConstraint("gender_preference is null or gender_preference in ('f', 'm', 'd')", name="gender_preference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(50))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    district: Mapped[str | None] = mapped_column(String(60))
    lat: Mapped[float]
    lon: Mapped[float]
    location_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list] = mapped_column(doc="ISO 639-1 codes; the first is the mother tongue")
    dementia: Mapped[bool] = mapped_column(Boolean, default=False)
    gender_preference: Mapped[str | None] = mapped_column(String(1))
    max_visits_per_day: Mapped[int] = mapped_column(
        default=1, server_default="1", doc="visits on one day at most (rule 10 of docs/format.md)"
    )
    insurer_name: Mapped[str | None] = mapped_column(String(200))
    insurer_ik: Mapped[str | None] = mapped_column(String(9))
    insurance_number: Mapped[str | None] = mapped_column(String(20))
    representative_name: Mapped[str | None] = mapped_column(String(200))
    representative_contact: Mapped[str | None] = mapped_column(String(200))
    consent_recorded_on: Mapped[date | None] = mapped_column(doc="data-processing consent (or the representative's)")
    benefits_assigned_on: Mapped[date | None] = mapped_column(
        doc="date of the signed Abtretungserklärung: then the insurer is billed directly"
    )
    conversion_budget_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, doc="§45a(4) used")
    family_feed_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    lives_at_home: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    care_grades: Mapped[list["CareGrade"]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="CareGrade.valid_from"
    )
    requests: Mapped[list["CareRequest"]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="CareRequest.external_id"
    )
    exclusions: Mapped[list["Exclusion"]] = relationship(back_populates="client", cascade="all, delete-orphan")
    away: Mapped[list["ClientAway"]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientAway.starts_at"
    )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def short_label(self) -> str:
        """First name and initial: how a client appears outside the office (feeds)."""
        return f"{self.first_name} {self.last_name[:1]}."

    def care_grade_on(self, day: date) -> int | None:
        grade = None
        for period in self.care_grades:
            if period.valid_from <= day:
                grade = period.grade
        return grade


class CareGrade(Base):
    """Pflegegrad 1-5 from `valid_from` on (until the next row)."""

    __tablename__ = "care_grade"
    __table_args__ = (
        CheckConstraint("grade between 1 and 5", name="grade_range"),
        UniqueConstraint("client_id", "valid_from", name="uq_care_grade_client_valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    grade: Mapped[int]
    valid_from: Mapped[date]

    client: Mapped[Client] = relationship(back_populates="care_grades")


class ClientAway(Base):
    """The client is not at home in [starts_at, ends_at) (hospital, travel)."""

    __tablename__ = "client_away"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    override_id: Mapped[int | None] = mapped_column(ForeignKey("override.id", ondelete="CASCADE"))

    client: Mapped[Client] = relationship(back_populates="away")


class Exclusion(Base):
    """This volunteer must not visit this client.

    kind: 'relative' or 'household' (the volunteer's own declaration), 'client_wish',
    or 'coordinator' (an override, optionally until a date).
    """

    __tablename__ = "exclusion"
    __table_args__ = (CheckConstraint("kind in ('relative', 'household', 'client_wish', 'coordinator')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    until: Mapped[date | None]
    override_id: Mapped[int | None] = mapped_column(ForeignKey("override.id", ondelete="CASCADE"))

    client: Mapped[Client] = relationship(back_populates="exclusions")
    volunteer: Mapped[Volunteer] = relationship(back_populates="exclusions")

    def applies_on(self, day: date) -> bool:
        return self.until is None or day <= self.until
