"""The association a database belongs to: the one place that finds it and its time zone.

A database holds one organisation (imported from data/organisation.json). Everything that
needs the organisation's wall clock (weeks, visit times, "today" for a default date, the
feed server's window) asks `timezone()` or `today()` here. Before the organisation is
imported, `timezone()` answers `DEFAULT_TZ` so that read-only commands still work on an
empty database; what cannot work without it (billing, invoices) uses `require()`.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import clock
from carecal.errors import NotFound
from carecal.models import Organisation
from carecal.weeks import DEFAULT_TZ


def find(session: Session) -> Organisation | None:
    """The organisation, or None before it is imported."""
    return session.scalars(select(Organisation).order_by(Organisation.id)).first()


def require(session: Session) -> Organisation:
    """The organisation, or a clear error that says how to create it."""
    org = find(session)
    if org is None:
        raise NotFound("no organisation in the database: import the master data first (`carecal import organisation`)")
    return org


def timezone(session: Session) -> str:
    """The organisation's IANA time zone (DEFAULT_TZ while none is imported)."""
    return timezone_of(find(session))


def timezone_of(org: Organisation | None) -> str:
    return org.timezone if org is not None and org.timezone else DEFAULT_TZ


def today(session: Session) -> date:
    """Today's date on the organisation's wall calendar."""
    return clock.today(timezone(session))
