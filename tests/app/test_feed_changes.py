"""The database counts, per feed owner, the changes to what their feeds show: every table
is either a feed input (with triggers) or one the feeds never read, and each kind of
change moves the counters of exactly the owners it can concern."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from carecal import audit, db
from carecal.billing.records import record_visit
from carecal.feeds import tokens
from carecal.feeds.changes import EVERYONE, NOT_READ_BY_FEEDS, FeedChanges, owner_key
from carecal.models import Base, Client, Organisation, RosterVersion, Visit, Volunteer
from tests import factories as f

WEEK = "2026-W48"


def _triggered_tables(db_url) -> dict[str, set[str]]:
    """table → the events (insert, update, delete) whose triggers count feed changes."""
    postgres = not db_url.startswith("sqlite")
    query = (
        "SELECT event_object_table, lower(event_manipulation) FROM information_schema.triggers "
        "WHERE trigger_name LIKE 'feed_change_%'"
        if postgres
        else "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'feed_change_%'"
    )
    found: dict[str, set[str]] = {}
    with db.engine_for(db_url).connect() as connection:
        for table, what in connection.execute(text(query)):
            found.setdefault(table, set()).add(what.rsplit("_", 1)[-1])
    return found


def test_every_table_is_a_counted_feed_input_or_one_the_feeds_never_read(db_url):
    triggered = _triggered_tables(db_url)
    assert all(events == {"insert", "update", "delete"} for events in triggered.values()), triggered
    schema = set(Base.metadata.tables)
    assert not set(triggered) & NOT_READ_BY_FEEDS
    unclassified = schema - set(triggered) - NOT_READ_BY_FEEDS
    assert not unclassified, f"say whether the feeds read {sorted(unclassified)} (migration or NOT_READ_BY_FEEDS)"
    assert set(triggered) | NOT_READ_BY_FEEDS <= schema, "a listed table that no longer exists"


@pytest.fixture
def people(db_url):
    """Anna visits Raissa, Boris visits Sergej; both published in WEEK."""
    with db.session_scope(db_url) as s:
        f.organisation(s)
        anna, boris = f.volunteer(s, first_name="Anna"), f.volunteer(s, first_name="Boris")
        raissa, sergej = f.client(s, first_name="Raissa"), f.client(s, first_name="Sergej")
        f.published_visit(s, WEEK, f.care_request(s, raissa), anna)
        f.published_visit(s, WEEK, f.care_request(s, sergej), boris)
        return {person.first_name: owner_key(person) for person in (anna, boris, raissa, sergej)}


def _moved(db_url, change) -> set[str]:
    changes = FeedChanges(db_url)
    before = changes.counters()
    with db.session_scope(db_url, write=True) as s:
        change(s)
    after = changes.counters()
    return {owner for owner in after if after[owner] != before.get(owner)}


def _anna(s):
    return s.query(Volunteer).filter_by(first_name="Anna").one()


def _record(s):
    visit = s.query(Visit).filter(Visit.volunteer_id == _anna(s).id).one()
    record_visit(s, visit.id, "coordinator", status="cancelled-by-client", reason="ill")


def _rotate(s):
    tokens.issue(s, _anna(s), "coordinator")


def _address(s):
    s.query(Client).filter_by(first_name="Raissa").one().street = "Zschopauer Str. 7"


def _language(s):
    _anna(s).ui_language = "ru"


def _publish(s):
    f.republish(s, WEEK, datetime(2026, 11, 24, 8, tzinfo=UTC))


def _organisation(s):
    s.query(Organisation).one().phone = "+49 371 000000"


def _draft(s):  # a draft version and its visits show in no feed
    published = s.query(RosterVersion).one()
    draft = RosterVersion(roster_week_id=published.roster_week_id, number=2, status="draft", created_by="x")
    s.add(draft)
    s.flush()
    template = s.query(Visit).filter(Visit.volunteer_id == _anna(s).id).one()
    s.add(
        Visit(
            version_id=draft.id,
            request_key=template.request_key,
            care_request_id=template.care_request_id,
            client_id=template.client_id,
            volunteer_id=s.query(Volunteer).filter_by(first_name="Boris").one().id,
            starts_at=template.starts_at,
            ends_at=template.ends_at,
            status="planned",
        )
    )


def _audit_only(s):
    audit.record(s, "coordinator", "export.hours", object_type="month", object_id="2026-11")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_record, {"Anna", "Raissa"}),  # the visit's volunteer and client
        (_rotate, {"Anna"}),
        (_address, {"Raissa", "Anna"}),  # the client, and who visits her
        (_language, {"Anna", "Raissa"}),  # the volunteer, and whom she visits
        (_publish, {EVERYONE}),
        (_organisation, {EVERYONE}),
        (_draft, set()),
        (_audit_only, set()),
    ],
)
def test_each_change_moves_the_counters_of_exactly_the_owners_it_can_concern(db_url, people, change, expected):
    names = {key: name for name, key in people.items()} | {EVERYONE: EVERYONE}
    assert {names[key] for key in _moved(db_url, change)} == expected
