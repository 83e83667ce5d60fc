"""The domain model. Every table is imported here so that metadata (and Alembic) see them all.

Each feature owns one module; a new table comes with a new Alembic migration.
"""

from carecal.models.audit import AuditEvent
from carecal.models.base import Base, UTCDateTime, utcnow
from carecal.models.billing import (
    BillingMonth,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    VisitRecord,
    VisitRecordChange,
)
from carecal.models.care import CareRequest
from carecal.models.catalogue import Activity, ActivityCategory
from carecal.models.chain import CHAINED_TABLES, ChainHead
from carecal.models.feeds import FeedChange, FeedToken
from carecal.models.organisation import Insurer, Organisation, Rate
from carecal.models.override import OVERRIDE_KINDS, Override
from carecal.models.payouts import Payout, PayoutLine, PayoutMonth
from carecal.models.people import (
    GENDERS,
    TRAVEL_MODES,
    WEEKDAYS,
    Absence,
    AvailabilityWindow,
    CareGrade,
    Client,
    ClientAway,
    Exclusion,
    Training,
    Volunteer,
)
from carecal.models.roster import RosterVersion, RosterWeek, UnassignedRequest, Visit

__all__ = [
    "Absence",
    "Activity",
    "ActivityCategory",
    "AuditEvent",
    "AvailabilityWindow",
    "Base",
    "CareGrade",
    "CareRequest",
    "CHAINED_TABLES",
    "ChainHead",
    "Client",
    "ClientAway",
    "Exclusion",
    "FeedChange",
    "FeedToken",
    "Insurer",
    "GENDERS",
    "OVERRIDE_KINDS",
    "Organisation",
    "Override",
    "Payout",
    "PayoutLine",
    "PayoutMonth",
    "Rate",
    "RosterVersion",
    "RosterWeek",
    "TRAVEL_MODES",
    "Training",
    "UTCDateTime",
    "UnassignedRequest",
    "Visit",
    "Volunteer",
    "WEEKDAYS",
    "utcnow",
    "BillingMonth",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "LedgerEntry",
    "VisitRecord",
    "VisitRecordChange",
]
