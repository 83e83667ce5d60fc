"""A closed billing month is never rewritten by publishing a replanned roster."""

from datetime import UTC, datetime, timedelta

import pytest

from carecal.errors import Conflict
from carecal.models import BillingMonth, RosterVersion, Visit
from carecal.roster import versions
from carecal.weeks import IsoWeek
from tests import factories as f

WEEK = "2026-W48"


def _draft_moving_the_visit(session, visit: Visit, by: timedelta) -> RosterVersion:
    published = visit.version
    draft = RosterVersion(
        roster_week=published.roster_week, number=published.number + 1, status="draft", created_by="coordinator"
    )
    session.add(draft)
    session.add(
        Visit(
            version=draft,
            request_key=visit.request_key,
            care_request=visit.care_request,
            client=visit.client,
            volunteer=visit.volunteer,
            starts_at=visit.starts_at + by,
            ends_at=visit.ends_at + by,
            status="planned",
        )
    )
    session.flush()
    return draft


@pytest.fixture
def moved_visit(session):
    f.organisation(session)
    request = f.care_request(session, f.client(session))
    visit = f.published_visit(session, WEEK, request, f.volunteer(session), day="tue", start="14:00")
    _draft_moving_the_visit(session, visit, timedelta(hours=1))
    return visit


def test_publishing_a_change_in_a_closed_month_is_refused(session, moved_visit):
    session.add(BillingMonth(month="2026-11", closed_at=datetime(2026, 12, 3, tzinfo=UTC), closed_by="treasurer"))
    session.flush()
    with pytest.raises(Conflict, match=r"month 2026-11 is closed.*credit note"):
        versions.publish(session, IsoWeek.parse(WEEK), "coordinator")
    assert moved_visit.version.status == "published"


def test_publishing_a_change_in_an_open_month_goes_through(session, moved_visit):
    session.add(BillingMonth(month="2026-11"))  # billed once, not closed
    session.flush()
    published = versions.publish(session, IsoWeek.parse(WEEK), "coordinator")
    assert published.number == 2 and moved_visit.version.status == "superseded"
