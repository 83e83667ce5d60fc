"""The subscription server over HTTP: caching, tokens, rate limit, logs."""

import asyncio
import logging
import re
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.app import PRIVATE_HEADERS, RateLimiter, create_app, token_rate
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


PATHS_WITH_A_TOKEN = ["/feeds//{t}.ics", "/feed/{t}.ics", "/{t}.ics", "/Feeds/{t}.ics", "/feeds/x/../{t}.ics"]


def _server_lines(caplog) -> list[str]:
    # the server's lines (the test's own HTTP client logs its URLs, as a calendar app might)
    return [r.getMessage() for r in caplog.records if r.name.startswith(("carecal", "uvicorn", "starlette", "granian"))]


def _raw_get(app, path: str) -> int:
    """GET `path` exactly as written (an HTTP client library would normalise `/x/../`)."""
    statuses = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0]


def test_logs_name_the_route_template_never_a_path_with_a_token(feed, caplog):
    client, token, *_ = feed
    with caplog.at_level(logging.DEBUG):
        client.get(f"/feeds/{token}.ics")
        client.get("/feeds/not-a-token.ics")
        assert [_raw_get(client.app, path.format(t=token)) for path in PATHS_WITH_A_TOKEN] == [404] * 5
        client.post(f"/feeds/{token}.ics")
    lines = _server_lines(caplog)
    assert any(line.startswith("GET /feeds/{token}.ics 200") for line in lines), lines
    assert any(line.startswith("GET /feeds/{token}.ics 404") for line in lines), lines
    assert sum(line.startswith("GET - 404") for line in lines) == len(PATHS_WITH_A_TOKEN), lines
    assert any(line.startswith("OTHER /feeds/{token}.ics 405") for line in lines), lines
    assert not any(token in line or "not-a-token" in line for line in lines)


def test_every_answer_carries_the_private_headers_and_a_csp_that_allows_nothing(feed, db_url, monkeypatch):
    client, token, *_ = feed
    ok = client.get(f"/feeds/{token}.ics")
    answers = {
        "200": ok,
        "304": client.get(f"/feeds/{token}.ics", headers={"If-None-Match": ok.headers["etag"]}),
        "unknown token": client.get("/feeds/unknown.ics"),
        "no route": client.get("/robots.txt"),
        "wrong method": client.post(f"/feeds/{token}.ics"),
        "no route, other method": client.delete("/"),
    }
    limited = TestClient(create_app(db_url, clock=lambda: NOW, rate_limiter=RateLimiter(burst=1, refill_seconds=60)))
    limited.get(f"/feeds/{token}.ics")
    answers["429"] = limited.get(f"/feeds/{token}.ics")
    assert [a.status_code for a in answers.values()] == [200, 304, 404, 404, 405, 404, 429]
    for what, answer in answers.items():
        for name, value in PRIVATE_HEADERS.items():
            assert answer.headers.get(name) == value, (what, name)
    assert PRIVATE_HEADERS["Content-Security-Policy"] == "default-src 'none'"


def test_a_database_failure_answers_503_in_one_line_without_sql_or_hash(feed, caplog, monkeypatch):
    client, token, *_ = feed
    digest = tokens.hash_token(token)

    def locked(session, token):
        raise OperationalError(
            "SELECT * FROM feed_token WHERE token_hash = ?", (digest,), Exception("database is locked")
        )

    monkeypatch.setattr(tokens, "owner_of", locked)
    with caplog.at_level(logging.DEBUG):
        answer = client.get(f"/feeds/{token}.ics")
    assert answer.status_code == 503 and int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-security-policy"] == "default-src 'none'"
    assert b"token_hash" not in answer.content and digest.encode() not in answer.content
    lines = _server_lines(caplog)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    # the error's class only (a locked database reaches the app as DatabaseBusy)
    assert re.fullmatch(
        r"GET /feeds/{token}.ics answered 503: (DatabaseBusy|OperationalError)", warnings[0].getMessage()
    )
    assert not any(digest in line or "SELECT" in line or token in line for line in lines), lines


def test_unknown_tokens_are_limited_per_client_address(feed, db_url):
    _, token, *_ = feed
    misses = RateLimiter(burst=3, refill_seconds=60)
    direct = TestClient(create_app(db_url, clock=lambda: NOW, miss_limiter=misses, trusted_proxies=()))
    statuses = [direct.get(f"/feeds/guess{n}.ics").status_code for n in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    assert 1 <= int(direct.get("/feeds/guess.ics").headers["retry-after"]) <= 60
    # the guessing address is held back even with a real token; known tokens do not count
    assert direct.get(f"/feeds/{token}.ics").status_code == 429
    # a forwarded address from an untrusted peer is the client's own claim: ignored
    assert direct.get("/feeds/x.ics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(feed, db_url):
    _, token, *_ = feed
    misses = RateLimiter(burst=2, refill_seconds=60)
    # the test client's peer is "testclient": here it plays the TLS proxy
    proxied = TestClient(create_app(db_url, clock=lambda: NOW, miss_limiter=misses, trusted_proxies=["testclient"]))

    def get(path, forwarded):
        return proxied.get(path, headers={"X-Forwarded-For": forwarded}).status_code

    assert [get("/feeds/guess.ics", "198.51.100.7") for _ in range(3)] == [404, 404, 429]
    # another subscriber behind the same proxy is not affected, nor is a real feed
    assert get("/feeds/guess.ics", "198.51.100.8") == 404
    assert get(f"/feeds/{token}.ics", "198.51.100.8") == 200
    # a client cannot dodge by claiming another address: the proxy appends what it saw
    assert get("/feeds/guess.ics", "192.0.2.1, 198.51.100.7") == 429


def test_token_rate_option():
    assert token_rate("0") is None
    limiter = token_rate("5/60")
    assert (limiter.burst, limiter.refill_seconds) == (5, 60.0)
    for bad in ("5", "x/1", "0/10", "5/0", "-1/3"):
        with pytest.raises(ValueError, match="--token-rate"):
            token_rate(bad)


def test_the_window_follows_the_organisations_time_zone(db_url):
    """Sunday 28 Feb 2027 23:30 UTC is already Monday in Berlin but still Sunday in New York:
    an association in New York has not moved its window on yet."""
    with db.session_scope(db_url) as s:
        f.organisation(s, timezone="America/New_York")
        anna = f.volunteer(s, first_name="Anna")
        f.published_visit(s, WEEK, f.care_request(s, f.client(s)), anna)
        token = tokens.issue(s, anna, "coordinator")
    sunday_night = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
    app = TestClient(create_app(db_url, clock=lambda: sunday_night, rate_limiter=RateLimiter(burst=1000)))
    monday_in_new_york = datetime(2027, 2, 22, 5, tzinfo=UTC)  # Mon 22 Feb 2027 00:00 EST
    assert app.get(f"/feeds/{token}.ics").headers["last-modified"] == format_datetime(monday_in_new_york, usegmt=True)
