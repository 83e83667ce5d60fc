"""The subscription server over HTTP: caching, tokens, rate limit, logs."""

import logging
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from starlette.testclient import TestClient

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.app import RateLimiter, create_app, redact
from carecal.models import CareRequest, Client, Volunteer
from tests import factories as f

WEEK = "2026-W48"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # Wednesday of WEEK


@pytest.fixture
def feed(db_url):
    """A volunteer with one published visit and a live feed token; the app serving it."""
    with db.session_scope(db_url) as s:
        f.organisation(s)
        anna = f.volunteer(s, first_name="Anna")
        raissa = f.client(s, first_name="Raissa", family_feed_opt_in=True)
        f.published_visit(s, WEEK, f.care_request(s, raissa), anna)
        token = tokens.issue(s, anna, "coordinator")
        family_token = tokens.issue(s, raissa, "coordinator")
    app = create_app(db_url, clock=lambda: NOW, rate_limiter=RateLimiter(burst=1000))
    return TestClient(app), token, family_token, anna.id, raissa.id


def test_a_feed_is_served_whole_with_the_right_headers(feed):
    client, token, *_ = feed
    response = client.get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "private"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex"
    assert response.headers["etag"].startswith('"') and not response.headers["etag"].startswith("W/")
    assert response.headers["last-modified"].endswith(" GMT")
    assert b"SUMMARY;LANGUAGE=de:Besuch bei Raissa" in response.content

    head = client.head(f"/feeds/{token}.ics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == response.headers["content-length"]
    assert head.headers["etag"] == response.headers["etag"]


def test_a_refetch_with_the_etag_gets_304_until_the_roster_changes(feed, db_url):
    client, token, _, anna_id, _ = feed
    first = client.get(f"/feeds/{token}.ics")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]

    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(f"/feeds/{token}.ics", headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    assert client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": last_modified}).status_code == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110)
    assert (
        client.get(
            f"/feeds/{token}.ics", headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
        ).status_code
        == 200
    )

    with db.session_scope(db_url) as s:  # a replan moves the visit one hour later
        anna = s.get(Volunteer, anna_id)
        f.republish(s, WEEK, datetime(2026, 11, 24, 8, tzinfo=UTC))
        f.published_visit(s, WEEK, s.query(CareRequest).one(), anna, start="15:00")

    changed = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert b"SEQUENCE:1" in changed.content
    assert client.get(f"/feeds/{token}.ics", headers={"If-Modified-Since": last_modified}).status_code == 200


def test_rotated_revoked_and_unknown_tokens_all_get_the_same_404(feed, db_url):
    client, token, _, anna_id, _ = feed
    unknown = client.get("/feeds/" + "A" * 43 + ".ics")
    with db.session_scope(db_url) as s:
        new_token = tokens.issue(s, s.get(Volunteer, anna_id), "coordinator")
    rotated = client.get(f"/feeds/{token}.ics")
    assert client.get(f"/feeds/{new_token}.ics").status_code == 200
    with db.session_scope(db_url) as s:
        assert tokens.revoke(s, s.get(Volunteer, anna_id), "coordinator") == 1
    revoked = client.get(f"/feeds/{new_token}.ics")
    for response in (unknown, rotated, revoked):
        assert (response.status_code, response.content) == (404, unknown.content)
        assert response.headers["referrer-policy"] == "no-referrer"


def test_a_family_feed_dies_when_consent_is_withdrawn(feed, db_url):
    client, _, family_token, _, raissa_id = feed
    response = client.get(f"/feeds/{family_token}.ics")
    assert response.status_code == 200 and b"Besuch von Anna" in response.content
    with db.session_scope(db_url) as s:
        s.get(Client, raissa_id).family_feed_opt_in = False
    assert client.get(f"/feeds/{family_token}.ics").status_code == 404


def test_too_many_requests_on_one_token_get_429_with_retry_after(db_url):
    with db.session_scope(db_url) as s:
        token = tokens.issue(s, f.volunteer(s), "coordinator")
    client = TestClient(create_app(db_url, clock=lambda: NOW, rate_limiter=RateLimiter(burst=3, refill_seconds=60)))
    statuses = [client.get(f"/feeds/{token}.ics").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = client.get(f"/feeds/{token}.ics")
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_the_token_bucket_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(burst=2, refill_seconds=10, clock=lambda: now[0])
    assert [limiter.allow("t")[0] for _ in range(3)] == [True, True, False]
    now[0] = 9.0
    assert limiter.allow("t") == (False, pytest.approx(1.0))
    now[0] = 10.5
    assert limiter.allow("t")[0] is True
    assert limiter.allow("other")[0] is True  # buckets are per token


def test_tokens_never_reach_the_log(feed, caplog):
    client, token, *_ = feed
    with caplog.at_level(logging.DEBUG):
        client.get(f"/feeds/{token}.ics")
        client.get("/feeds/not-a-token.ics")
    # the server's lines (the test's own HTTP client logs its URLs, as a calendar app might)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("carecal", "uvicorn", "starlette"))]
    assert any("GET /feeds/<token> 200" in line for line in lines), lines
    assert any("GET /feeds/<token> 404" in line for line in lines), lines
    assert not any(token in line or "not-a-token" in line for line in lines)
    assert redact("/feeds/abc.ics") == "/feeds/<token>"


def test_tokens_are_long_random_and_stored_only_as_hashes(session):
    from carecal.models import FeedToken

    volunteer = f.volunteer(session)
    issued = {tokens.issue(session, volunteer, "coordinator") for _ in range(3)}
    assert len(issued) == 3 and all(len(t) >= 43 for t in issued)  # 32 random bytes
    stored = session.query(FeedToken).all()
    assert [row.active for row in stored] == [False, False, True]
    assert not {row.token_hash for row in stored} & issued
    assert tokens.find(session, "x" * 1000) is None


def test_last_modified_is_the_newest_change_and_moves_with_the_window(feed, db_url):
    client, token, *_ = feed
    published = datetime(2026, 11, 23, 7, tzinfo=UTC)  # the factory publishes Monday 08:00 CET
    assert client.get(f"/feeds/{token}.ics").headers["last-modified"] == format_datetime(published, usegmt=True)

    # In March 2027 the visit has left the window; the feed changed when that week began.
    march = datetime(2027, 3, 3, 12, tzinfo=UTC)
    later = TestClient(create_app(db_url, clock=lambda: march, rate_limiter=RateLimiter(burst=1000)))
    response = later.get(f"/feeds/{token}.ics")
    assert b"BEGIN:VEVENT" not in response.content
    monday = datetime(2027, 2, 28, 23, tzinfo=UTC)  # Mon 1 Mar 2027 00:00 CET
    assert response.headers["last-modified"] == format_datetime(monday, usegmt=True)

    # Never later than now, even if the data says so
    early = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)  # before the publication
    earlier = TestClient(create_app(db_url, clock=lambda: early, rate_limiter=RateLimiter(burst=1000)))
    assert earlier.get(f"/feeds/{token}.ics").headers["last-modified"] == format_datetime(early, usegmt=True)


def test_serve_runs_uvicorn_on_loopback_without_its_access_log(db_url, monkeypatch):
    import uvicorn

    from carecal.feeds import app as feed_app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    feed_app.serve(db_url)
    ((app, options),) = calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8080
    assert options["access_log"] is False  # its lines would carry the token
    assert TestClient(app).get("/feeds/unknown.ics").status_code == 404
