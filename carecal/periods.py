"""Closed months: once a month's books are closed (`carecal billing close`), nothing dated
in it changes any more (§147 AO). Roster versions, visit records and budget corrections all
ask here before they touch a day; corrections after the close are credit notes.
"""

from datetime import date

from sqlalchemy.orm import Session

from carecal.billing.ledger import month_key
from carecal.errors import Conflict
from carecal.models import BillingMonth


def is_closed(session: Session, day: date) -> bool:
    """Whether the month that `day` falls in is closed."""
    month = session.get(BillingMonth, month_key(day))
    return month is not None and month.closed


def ensure_open(session: Session, day: date, what: str) -> None:
    """Refuse `what` when it touches a closed month."""
    if is_closed(session, day):
        raise Conflict(
            f"{what}: month {month_key(day)} is closed; "
            "correct it with a credit note (`carecal billing credit INVOICE`)"
        )
