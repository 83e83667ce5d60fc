"""The one lookup of the organisation and its time zone."""

from datetime import UTC, date, datetime

import pytest

from carecal import clock, organisation
from carecal.errors import NotFound
from carecal.weeks import DEFAULT_TZ
from tests import factories


def test_before_the_import_the_default_zone_applies_and_billing_is_told_what_to_do(session):
    assert organisation.find(session) is None
    assert organisation.timezone(session) == DEFAULT_TZ
    with pytest.raises(NotFound, match="carecal import organisation"):
        organisation.require(session)


def test_today_is_the_date_on_the_organisations_wall_calendar(session):
    factories.organisation(session, timezone="Asia/Tokyo")
    assert organisation.timezone(session) == "Asia/Tokyo"
    with clock.frozen(datetime(2026, 11, 22, 16, 0, tzinfo=UTC)):  # Sunday 16:00 UTC, Monday 01:00 in Tokyo
        assert organisation.today(session) == date(2026, 11, 23)
        assert clock.today(DEFAULT_TZ) == date(2026, 11, 22)
