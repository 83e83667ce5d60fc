"""The feed server answers from memory: a 304 never renders, and every kind of change
reaches the feed (publish, record, override, rotate, a new address, midnight)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from carecal import db
from carecal.billing.records import record_visit
from carecal.feeds import tokens
from carecal.feeds.app import RateLimiter, create_app
from carecal.feeds.cache import FeedCache
from carecal.models import CareRequest, Client, Organisation, RosterVersion, Visit, Volunteer
from carecal.roster import overrides
from carecal.roster.versions import publish
from carecal.weeks import IsoWeek
from tests import factories as f

WEEK = "2026-W48"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday of WEEK


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def world(db_url):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        anna = f.volunteer(s, first_name="Anna")
        boris = f.volunteer(s, first_name="Boris")
        raissa = f.client(s, first_name="Raissa")
        f.published_visit(s, WEEK, f.care_request(s, raissa), anna)
        f.published_visit(s, WEEK, f.care_request(s, f.client(s, first_name="Sergej")), boris)
        token = tokens.issue(s, anna, "coordinator")
        ids = {"anna": anna.id, "boris": boris.id, "raissa": raissa.id}
    clock = Clock(NOW)
    app = create_app(db_url, clock=clock, rate_limiter=None)
    return TestClient(app), app.state.cache, clock, token, ids


def _fresh(db_url, token, clock):
    """What a server that has never seen this feed answers (the truth to compare with)."""
    return TestClient(create_app(db_url, clock=clock, rate_limiter=None)).get(f"/feeds/{token}.ics")


def test_a_304_does_not_render_and_a_refetch_is_served_from_memory(world, db_url):
    client, cache, _, token, _ = world
    first = client.get(f"/feeds/{token}.ics")
    assert first.status_code == 200 and cache.renders == 1 and cache.reads == 1

    for _ in range(5):
        again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
    since = client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    plain = client.get(f"/feeds/{token}.ics")
    head = client.head(f"/feeds/{token}.ics")
    assert plain.content == first.content and plain.headers["etag"] == first.headers["etag"]
    assert head.headers["content-length"] == str(len(first.content))
    # nothing was committed: not even the database was read again, and nothing rendered
    assert cache.renders == 1 and cache.reads == 1


def _elsewhere_address(s, ids):
    s.get(Volunteer, ids["boris"]).street = "Neue Str. 1"  # Boris visits Sergej, not Anna's Raissa


def _elsewhere_record(s, ids):
    visit = s.query(Visit).filter(Visit.volunteer_id == ids["boris"]).one()
    record_visit(s, visit.id, "coordinator", status="cancelled-by-client", reason="ill")


def _elsewhere_rotate(s, ids):
    tokens.issue(s, s.get(Volunteer, ids["boris"]), "coordinator")


def _elsewhere_override(s, ids):  # shows in no feed until a replan is published
    anna = s.get(Volunteer, ids["anna"])
    overrides.absence(
        s, anna.external_id, "2026-12-01 00:00", "2026-12-08 00:00", reason="holiday", actor="coordinator"
    )


@pytest.mark.parametrize("change", [_elsewhere_address, _elsewhere_record, _elsewhere_rotate, _elsewhere_override])
def test_a_commit_that_the_feed_does_not_show_costs_neither_a_read_nor_a_render(world, db_url, change):
    client, cache, clock, token, ids = world
    etag = client.get(f"/feeds/{token}.ics").headers["etag"]
    with db.session_scope(db_url) as s:
        change(s, ids)
    again = client.get(f"/feeds/{token}.ics")
    assert again.headers["etag"] == etag and cache.renders == 1 and cache.reads == 1
    fresh = _fresh(db_url, token, clock)  # and the answer from memory is still the truth
    assert (again.content, again.headers["etag"]) == (fresh.content, fresh.headers["etag"])


def _change_publish(s, ids, token):
    f.republish(s, WEEK, datetime(2026, 11, 24, 8, tzinfo=UTC))
    request = s.query(CareRequest).filter(CareRequest.client_id == ids["raissa"]).one()
    f.published_visit(s, WEEK, request, s.get(Volunteer, ids["anna"]), start="15:00")


def _change_replan(s, ids, token):
    """A replan published as the coordinator does (the new version's visits are written as
    a draft): Anna's visit an hour later."""
    published = s.query(RosterVersion).filter_by(status="published").one()
    draft = RosterVersion(
        roster_week_id=published.roster_week_id, number=published.number + 1, status="draft", created_by="coordinator"
    )
    s.add(draft)
    s.flush()
    columns = ("request_key", "care_request_id", "client_id", "volunteer_id", "status")
    for visit in published.visits:
        later = timedelta(hours=visit.volunteer_id == ids["anna"])
        copy = Visit(version_id=draft.id, **{name: getattr(visit, name) for name in columns})
        copy.starts_at, copy.ends_at = visit.starts_at + later, visit.ends_at + later
        s.add(copy)
    s.flush()
    publish(s, IsoWeek.parse(WEEK), "coordinator")


def _change_office_phone(s, ids, token):
    s.query(Organisation).one().phone = "0371 5550199"


def _change_address(s, ids, token):
    s.get(Client, ids["raissa"]).street = "Zschopauer Str. 7"


def _change_language(s, ids, token):
    s.get(Volunteer, ids["anna"]).ui_language = "ru"


@pytest.mark.parametrize(
    "change", [_change_publish, _change_replan, _change_office_phone, _change_address, _change_language]
)
def test_a_change_that_the_feed_shows_renders_once_with_a_new_etag(world, db_url, change):
    client, cache, clock, token, ids = world
    etag = client.get(f"/feeds/{token}.ics").headers["etag"]
    with db.session_scope(db_url) as s:
        change(s, ids, token)
    changed = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert cache.renders == 2
    fresh = _fresh(db_url, token, clock)
    assert (changed.content, changed.headers["etag"]) == (fresh.content, fresh.headers["etag"])
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": changed.headers["etag"]}).status_code == 304
    assert cache.renders == 2


def test_a_recorded_visit_and_a_published_override_are_noticed_and_the_answer_stays_true(world, db_url):
    """A recorded cancellation changes the feed at once; an absence changes it once the
    replan that follows is published. Each time the cached answer is the one a fresh
    server gives, byte for byte."""
    client, cache, clock, token, ids = world
    before = client.get(f"/feeds/{token}.ics")
    with db.session_scope(db_url) as s:
        visit = s.query(Visit).filter(Visit.volunteer_id == ids["anna"]).one()
        record_visit(s, visit.id, "coordinator", status="cancelled-by-client", reason="ill")
    after_record = client.get(f"/feeds/{token}.ics")
    assert cache.reads == 2 and cache.renders == 2 and after_record.content != before.content
    fresh = _fresh(db_url, token, clock)
    assert (after_record.content, after_record.headers["etag"]) == (fresh.content, fresh.headers["etag"])

    with db.session_scope(db_url) as s:
        _elsewhere_override(s, ids)
        f.republish(s, WEEK, datetime(2026, 11, 24, 8, tzinfo=UTC))  # the replan: Anna's visit gone
    after_override = client.get(f"/feeds/{token}.ics")
    assert cache.reads == 3
    fresh = _fresh(db_url, token, clock)
    assert (after_override.content, after_override.headers["etag"]) == (fresh.content, fresh.headers["etag"])


def test_a_rotated_token_is_dead_at_once_and_the_new_one_serves(world, db_url):
    client, cache, _, token, ids = world
    first = client.get(f"/feeds/{token}.ics")
    with db.session_scope(db_url) as s:
        new_token = tokens.issue(s, s.get(Volunteer, ids["anna"]), "coordinator")
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]}).status_code == 404
    renewed = client.get(f"/feeds/{new_token}.ics")
    assert renewed.status_code == 200 and renewed.content == first.content
    assert renewed.headers["etag"] == first.headers["etag"]  # same bytes, same ETag


def test_the_window_moves_at_midnight_in_the_organisations_time_zone(world, db_url):
    client, cache, clock, token, _ = world
    # Sunday of the fourth week after WEEK, 23:59 in Chemnitz: WEEK is still in the window
    clock.moment = datetime(2026, 12, 27, 22, 59, tzinfo=UTC)
    sunday = client.get(f"/feeds/{token}.ics")
    assert b"Besuch bei Raissa" in sunday.content
    renders = cache.renders

    clock.moment = datetime(2026, 12, 27, 23, 1, tzinfo=UTC)  # Monday 00:01 CET: the window moved on
    monday = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": sunday.headers["etag"]})
    assert monday.status_code == 200 and b"Besuch bei Raissa" not in monday.content
    assert cache.renders == renders + 1
    assert monday.headers["last-modified"] == "Sun, 27 Dec 2026 23:00:00 GMT"

    clock.moment = datetime(2026, 12, 28, 23, 1, tzinfo=UTC)  # Tuesday: read again, same window, no render
    reads = cache.reads
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": monday.headers["etag"]}).status_code == 304
    assert cache.reads >= reads + 1 and cache.renders == renders + 1


def test_bodies_stay_within_the_budget_and_dropped_ones_still_answer_304(db_url):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        request = f.care_request(s, f.client(s))
        people = [f.volunteer(s, first_name=f"V{n}") for n in range(4)]
        for person in people:
            f.published_visit(s, WEEK, request, person)
        issued = [tokens.issue(s, person, "coordinator") for person in people]
    first_body = TestClient(create_app(db_url, clock=lambda: NOW)).get(f"/feeds/{issued[0]}.ics").content
    cache = FeedCache(db_url, body_budget=2 * len(first_body) + 10)
    client = TestClient(create_app(db_url, clock=lambda: NOW, cache=cache, rate_limiter=RateLimiter(burst=100)))
    etags = [client.get(f"/feeds/{token}.ics").headers["etag"] for token in issued]
    assert cache.renders == 4
    assert sum(1 for feed in cache._feeds.values() if feed.body is not None) == 2  # the two most recent
    # the oldest body was dropped: a conditional re-fetch still gets its 304 without rendering
    assert client.get(f"/feeds/{issued[0]}.ics", headers={"If-None-Match": etags[0]}).status_code == 304
    assert cache.renders == 4
    # a full answer needs the body: rendered again, same bytes, same ETag
    again = client.get(f"/feeds/{issued[0]}.ics")
    assert again.headers["etag"] == etags[0] and again.content == first_body
    assert cache.renders == 5


def test_a_family_feed_follows_consent_through_the_cache(db_url):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        raissa = f.client(s, family_feed_opt_in=True)
        f.published_visit(s, WEEK, f.care_request(s, raissa), f.volunteer(s))
        token = tokens.issue(s, raissa, "coordinator")
        raissa_id = raissa.id
    client = TestClient(create_app(db_url, clock=lambda: NOW + timedelta(0)))
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    with db.session_scope(db_url) as s:
        s.get(Client, raissa_id).family_feed_opt_in = False
    assert client.get(f"/feeds/{token}.ics").status_code == 404


def _wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the background refresh did not happen"
        time.sleep(0.05)


def test_after_a_commit_feeds_are_answered_from_memory_while_read_again_but_links_die_at_once(world, db_url):
    _, _, clock, token, ids = world
    app = create_app(db_url, clock=clock, rate_limiter=None, stale_seconds=60)
    client, cache = TestClient(app), app.state.cache
    etag = client.get(f"/feeds/{token}.ics").headers["etag"]
    with db.session_scope(db_url) as s:
        _change_replan(s, ids, token)
    # the answer of before the publish, at once; the feed is read again in the background
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag}).status_code == 304
    _wait_for(lambda: cache.renders == 2)
    changed = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    fresh = _fresh(db_url, token, clock)
    assert (changed.content, changed.headers["etag"]) == (fresh.content, fresh.headers["etag"])

    with db.session_scope(db_url) as s:  # the owner's own changes are never answered from memory
        _change_address(s, ids, token)
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": changed.headers["etag"]}).status_code == 200
    with db.session_scope(db_url) as s:  # nor is a rotation, even in a publish's stale window
        _change_replan(s, ids, token)
        tokens.issue(s, s.get(Volunteer, ids["anna"]), "coordinator")
    assert client.get(f"/feeds/{token}.ics").status_code == 404


def test_answers_from_memory_end_when_the_stale_window_does(world, db_url):
    _, _, clock, token, ids = world
    ticks = [1000.0]
    cache = FeedCache(db_url, stale_seconds=30, monotonic=lambda: ticks[0])
    client = TestClient(create_app(db_url, clock=clock, rate_limiter=None, cache=cache))
    cache._refreshing.add(tokens.hash_token(token))  # hold the background refresh back
    etag = client.get(f"/feeds/{token}.ics").headers["etag"]
    with db.session_scope(db_url) as s:
        _change_office_phone(s, ids, token)
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag}).status_code == 304  # t = 0 s
    ticks[0] += 29
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag}).status_code == 304
    ticks[0] += 1  # 30 s after the commit: read first, whatever the background does
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag}).status_code == 200
    assert cache.renders == 2
