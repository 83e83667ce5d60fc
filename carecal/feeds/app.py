"""The subscription server: `GET|HEAD /feeds/<token>.ics`, a Starlette app run by uvicorn.

Each request renders the whole calendar first (so Content-Length and a strong ETag, the
body's hash, are known), then answers 304 when the caller already has exactly that. The
token never reaches a log: uvicorn's access log is off and our own line shows the path
with the token replaced.
"""

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from carecal import db
from carecal.clock import now as clock_now
from carecal.feeds import tokens
from carecal.feeds.calendars import RenderedCalendar, subscription_calendar
from carecal.weeks import DEFAULT_TZ, to_local

log = logging.getLogger("carecal.feeds")

_TOKEN_IN_PATH = re.compile(r"/feeds/[^/?]*")

# Sent with every answer, 404 and 429 included: feeds are private, never indexed, and
# their URL must not leak to another site through a Referer header.
PRIVATE_HEADERS = {
    "Cache-Control": "private",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}


class RateLimiter:
    """A token bucket per feed token (by hash): `burst` requests at once, then one more every
    `refill_seconds`. Calendar apps poll every 15 minutes to a day, so the default only
    stops runaway clients and guessing. Memory is bounded: the least recently used buckets
    are dropped first (a dropped bucket starts full again, which only errs towards serving)."""

    def __init__(
        self,
        burst: int = 20,
        refill_seconds: float = 30.0,
        max_buckets: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.burst, self.refill_seconds, self.max_buckets, self.clock = burst, refill_seconds, max_buckets, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed)."""
        now = self.clock()
        with self._lock:
            level, at = self._buckets.pop(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - at) / self.refill_seconds)
            allowed = level >= 1.0
            if allowed:
                level -= 1.0
            self._buckets[key] = (level, now)
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - level) * self.refill_seconds


def create_app(
    db_url: str, *, rate_limiter: RateLimiter | None = None, clock: Callable[[], datetime] = clock_now
) -> Starlette:
    """The feed server for the database at `db_url`. `clock` (aware now) decides the window
    of weeks and caps Last-Modified; tests pass a fixed one."""
    limiter = rate_limiter or RateLimiter()

    def feed(request: Request) -> Response:
        token = request.path_params["token"]
        allowed, retry_after = limiter.allow(tokens.hash_token(token))
        if not allowed:
            return _plain(429, "Too Many Requests", {"Retry-After": str(max(1, round(retry_after)))})
        now = clock()
        calendar = _calendar_for(db_url, token, to_local(now, DEFAULT_TZ).date())
        if calendar is None:
            return _plain(404, "Not Found")
        return _conditional(request, calendar, now)

    app = Starlette(routes=[Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"])])
    app.add_middleware(_TokenFreeAccessLog)
    return app


def _calendar_for(db_url: str, token: str, today: date) -> RenderedCalendar | None:
    """The calendar a live token opens, rendered; None for unknown, revoked or disowned."""
    with db.session_scope(db_url) as session:
        row = tokens.find(session, token)
        if row is None:
            return None
        owner = row.volunteer or row.client
        if not owner.active:
            return None
        if row.client is not None and not row.client.family_feed_opt_in:  # consent withdrawn: the link dies
            return None
        return subscription_calendar(session, owner, today)


def _conditional(request: Request, calendar: RenderedCalendar, now: datetime) -> Response:
    etag = '"' + hashlib.sha256(calendar.body).hexdigest()[:40] + '"'
    # Never later than the response's Date (RFC 9110 §8.8.2.1), e.g. a roster published
    # with a clock ahead of ours.
    last_modified = min(calendar.last_modified, now).astimezone(UTC).replace(microsecond=0)
    headers = {
        **PRIVATE_HEADERS,
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified, usegmt=True),
    }
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(len(calendar.body))
    body = b"" if request.method == "HEAD" else calendar.body
    return Response(body, headers=headers, media_type="text/calendar; charset=utf-8")


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison); else
    If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        offered = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in offered or etag in offered
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        text + "\n",
        status_code=status,
        headers={**PRIVATE_HEADERS, **(headers or {})},
        media_type="text/plain; charset=utf-8",
    )


def redact(path: str) -> str:
    """The request path as it may be logged: no token."""
    return _TOKEN_IN_PATH.sub("/feeds/<token>", path)


class _TokenFreeAccessLog:
    """One access-log line per request, with the token replaced (pure ASGI middleware, so
    it sees the final status and size)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, result = time.perf_counter(), {"status": 0, "bytes": 0}

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
            elif message["type"] == "http.response.body":
                result["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            log.info(
                "%s %s %d %dB %.1fms",
                scope["method"],
                redact(scope["path"]),
                result["status"],
                result["bytes"],
                (time.perf_counter() - started) * 1000,
            )


def serve(db_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the feed server in the foreground until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # access_log off: uvicorn's line would contain the token. server_header/date_header
    # stay default; proxy_headers so X-Forwarded-For from the TLS proxy is trusted on loopback.
    uvicorn.run(create_app(db_url), host=host, port=port, access_log=False, proxy_headers=True, log_config=None)
