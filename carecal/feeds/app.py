"""The subscription server: `GET|HEAD /feeds/<token>.ics`, a Starlette app.

Feeds are answered from memory while nothing changed (`carecal.feeds.cache`): a
conditional re-fetch costs one tiny query and a header comparison, never a render.

What it gives away, by construction rather than by filtering:
- logs name the route template (`/feeds/{token}.ics`, or `-` for no route), never the path
  the client sent, so no spelling of a token reaches a log; a failure is one line with the
  error's class, never its message (SQL parameters) or a traceback;
- every answer, Starlette's own 404 and 405 included, carries the private headers and a
  Content-Security-Policy that allows nothing;
- unknown tokens are limited per client address (the forwarded one when the peer is a
  trusted proxy), so guessing is slow; known tokens have their own bucket each.
"""

import ipaddress
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from carecal.clock import now as clock_now
from carecal.config import DEFAULT_TRUSTED_PROXIES
from carecal.feeds import tokens
from carecal.feeds.cache import CachedFeed, FeedCache

log = logging.getLogger("carecal.feeds")

# Sent with every answer, whatever its status: feeds are private, never indexed, never
# rendered as a page, and their URL must not leak to another site through a Referer.
PRIVATE_HEADERS = {
    "Cache-Control": "private",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
}
FEED_ROUTE = "/feeds/{token}.ics"


class RateLimiter:
    """A token bucket per key: `burst` requests at once, then one more every
    `refill_seconds`. Memory is bounded: the least recently used buckets are dropped first
    (a dropped bucket starts full again, which only errs towards serving)."""

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

    def allow(self, key: str, *, take: bool = True) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed); `take=False` only
        looks, without using up a request."""
        now = self.clock()
        with self._lock:
            level, at = self._buckets.pop(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - at) / self.refill_seconds)
            allowed = level >= 1.0
            if allowed and take:
                level -= 1.0
            self._buckets[key] = (level, now)
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - level) * self.refill_seconds


def token_rate(text: str) -> RateLimiter | None:
    """`--token-rate BURST/SECONDS` (e.g. `20/30`: 20 at once, then one every 30 s); `0`: off."""
    if text.strip() == "0":
        return None
    burst, _, seconds = text.partition("/")
    try:
        limiter = RateLimiter(int(burst), float(seconds))
    except ValueError:
        raise ValueError(f"--token-rate {text!r}: give BURST/SECONDS, e.g. 20/30, or 0 for no limit") from None
    if limiter.burst < 1 or limiter.refill_seconds <= 0:
        raise ValueError(f"--token-rate {text!r}: BURST must be at least 1 and SECONDS above 0")
    return limiter


def create_app(
    db_url: str,
    *,
    rate_limiter: RateLimiter | None = None,
    miss_limiter: RateLimiter | None = None,
    trusted_proxies: Iterable[str] = DEFAULT_TRUSTED_PROXIES,
    clock: Callable[[], datetime] = clock_now,
    cache: FeedCache | None = None,
    stale_seconds: float = 0.0,
) -> Starlette:
    """The feed server for the database at `db_url`. `rate_limiter` limits each token
    (None: no limit); `clock` (aware now) decides the window of weeks and caps
    Last-Modified; `stale_seconds` how long after a change to everyone's feeds (a
    publish) a feed may still be answered from memory while it is read again
    (carecal.feeds.cache). The app's `state.cache` counts reads and renders."""
    cache = cache or FeedCache(db_url, stale_seconds=stale_seconds)
    # Unknown tokens per client address: a calendar app still polling a rotated link stays
    # well inside it; a guesser gets one try a minute.
    misses = miss_limiter or RateLimiter(burst=10, refill_seconds=60)
    proxies = frozenset(_normalised(p) for p in trusted_proxies)

    async def feed(request: Request) -> Response:
        token = request.path_params["token"]
        address = client_address(request.scope, proxies)
        guessing, retry_after = misses.allow(address, take=False)
        if not guessing:
            return _plain(429, "Too Many Requests", {"Retry-After": str(max(1, round(retry_after)))})
        token_hash = tokens.hash_token(token)
        if rate_limiter is not None:
            allowed, retry_after = rate_limiter.allow(token_hash)
            if not allowed:
                return _plain(429, "Too Many Requests", {"Retry-After": str(max(1, round(retry_after)))})
        now = clock()
        try:
            found, current = cache.remembered(token_hash, now)
            if found is not None and not current:  # everyone's feeds changed a moment ago
                cache.refresh(token, clock)
            if found is None or (found.body is None and not _not_modified(request, found)):
                found = await run_in_threadpool(cache.read, token, now, need_body=not _conditional(request))
            if found is not None and found.body is None and not _not_modified(request, found):
                found = await run_in_threadpool(cache.read, token, now, need_body=True)
        except Exception as error:  # e.g. the database locked or gone: one line, no SQL, no traceback
            log.warning("GET %s answered 503: %s", FEED_ROUTE, type(error).__name__)
            return _plain(503, "Service Unavailable", {"Retry-After": "30"})
        if found is None:
            misses.allow(address)
            return _plain(404, "Not Found")
        return _answer(request, found, now)

    app = Starlette(routes=[Route(FEED_ROUTE, feed, methods=["GET", "HEAD"])])
    app.router.redirect_slashes = False  # a redirect would echo the path with its token
    app.state.cache = cache
    app.add_middleware(_PrivateAnswers)
    app.add_middleware(_RouteAccessLog)
    return app


def client_address(scope: MutableMapping[str, Any], trusted_proxies: frozenset[str]) -> str:
    """Who is asking: the peer, or behind a trusted proxy the last address it forwarded
    that is not itself a trusted proxy (the one the proxy saw; earlier entries are the
    client's own claim)."""
    peer = _normalised(scope["client"][0]) if scope.get("client") else "-"
    if peer not in trusted_proxies:
        return peer
    forwarded = [
        value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    ]
    hops = [_normalised(hop.strip()) for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer


@lru_cache(maxsize=4096)
def _normalised(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def _answer(request: Request, feed: CachedFeed, now: datetime) -> Response:
    headers = {"ETag": feed.etag, "Last-Modified": format_datetime(_last_modified(feed, now), usegmt=True)}
    if _not_modified(request, feed, now):
        return Response(status_code=304, headers=headers)
    assert feed.body is not None  # read with its body when one is needed (see feed())
    headers["Content-Length"] = str(len(feed.body))
    body = b"" if request.method == "HEAD" else feed.body
    return Response(body, headers=headers, media_type="text/calendar; charset=utf-8")


def _last_modified(feed: CachedFeed, now: datetime) -> datetime:
    # Never later than the response's Date (RFC 9110 §8.8.2.1), e.g. a roster published
    # with a clock ahead of ours.
    return min(feed.last_modified, now).astimezone(UTC).replace(microsecond=0)


def _conditional(request: Request) -> bool:
    return "if-none-match" in request.headers or "if-modified-since" in request.headers


def _not_modified(request: Request, feed: CachedFeed, now: datetime | None = None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison); else
    If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        offered = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in offered or feed.etag in offered
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return _last_modified(feed, now or clock_now()) <= since
    return False


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status_code=status, headers=headers, media_type="text/plain; charset=utf-8")


class _PrivateAnswers:
    """Adds PRIVATE_HEADERS to every answer, including those Starlette makes itself (404
    for an unknown path, 405 for a wrong method, 500)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_private(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (k.lower().encode(), v.encode())
                    for k, v in PRIVATE_HEADERS.items()
                    if k.lower().encode() not in names
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_private)


class _RouteAccessLog:
    """One access-log line per request with the route template instead of the path (pure
    ASGI middleware, so it sees the final status and size)."""

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
            route = scope.get("route")
            log.info(
                "%s %s %d %dB %.1fms",
                scope["method"] if scope["method"] in ("GET", "HEAD") else "OTHER",
                getattr(route, "path", "-"),
                result["status"],
                result["bytes"],
                (time.perf_counter() - started) * 1000,
            )


# `carecal feed serve` hands its settings to the worker processes through the environment.
SETTINGS_VARIABLE = "CARECAL_FEED_SERVER"


def app_from_environment() -> Starlette:
    """The app in a worker process of `serve` (granian calls this factory in each one)."""
    settings = json.loads(os.environ[SETTINGS_VARIABLE])
    return create_app(
        settings["db_url"],
        rate_limiter=token_rate(settings["token_rate"]),
        trusted_proxies=settings["trusted_proxies"],
        stale_seconds=settings["stale_seconds"],
    )


# A worker that has not stopped this long after SIGTERM is killed.
WORKERS_KILL_SECONDS = 10


def serve(
    db_url: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    workers: int = 1,
    token_rate_text: str = "20/30",
    trusted_proxies: Iterable[str] = DEFAULT_TRUSTED_PROXIES,
    header_timeout: float = 10.0,
    stale_seconds: float = 30.0,
) -> None:
    """Run the feed server in the foreground until interrupted: granian, `workers`
    processes, each with its own cache; a client that has not sent its whole request
    head within `header_timeout` seconds is disconnected."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    token_rate(token_rate_text)  # a bad value fails here, not in every worker
    os.environ[SETTINGS_VARIABLE] = json.dumps(
        {
            "db_url": db_url,
            "token_rate": token_rate_text,
            "trusted_proxies": list(trusted_proxies),
            "stale_seconds": stale_seconds,
        }
    )
    Server(
        "carecal.feeds.app:app_from_environment",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(header_timeout * 1000))),
        log_access=False,  # its lines would carry the path, and so the token
        log_dictconfig=LOGGING,
        respawn_failed_workers=True,
        # a stop (systemd, Ctrl-C) must not hang on a worker (seen once at the end of a load test)
        workers_kill_timeout=WORKERS_KILL_SECONDS,
    ).serve()


# Our access lines (route templates only) and granian's own messages, on stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "carecal": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "_granian": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
