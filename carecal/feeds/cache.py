"""Feeds answered from memory: a stamp per feed, each body rendered once per stamp.

For every token asked for, a worker process keeps what it last answered: the stamp of the
calendar (a digest of everything the renderer takes, `CalendarDraft.stamp`), its ETag
(the body's hash), Last-Modified and, within a memory budget, the body itself. It also
notes the database version and the organisation's local date at which that was true.

A request is then answered in one of three ways:
- nothing was committed since and it is still the same day: from memory, without reading
  the database (a conditional request gets its 304 even if the body was dropped);
- something was committed (a publish, a recorded visit, an override, a rotated token, a
  new address, anywhere) or midnight passed: the feed's draft is read again and its stamp
  compared; unchanged, the answer stays as it was, without rendering;
- the stamp changed: the body is rendered (once) and cached.

So the ETag is always the hash of the bytes sent (same bytes, same ETag, in every worker),
and a commit that does not touch a feed costs that feed one read, never a render.

After a commit every feed needs that one read, and a busy server meets all its feeds
within seconds: a wave of reads. With `stale_seconds` above 0 (the server's default), a
feed answered before the commit is answered from memory for up to that long afterwards,
while a background thread reads it again; only the token is checked at once, so a rotated
or revoked link, an inactive volunteer or a withdrawn consent still gets its 404
immediately. Midnight is never served stale.
"""

import hashlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from carecal import db, organisation
from carecal.feeds import tokens
from carecal.feeds.calendars import subscription_draft
from carecal.feeds.changes import DatabaseVersion

# Bodies kept per worker process: about 2,000 feeds of 30 kB. Stamps (a few hundred bytes
# each) are kept for many more feeds, so a conditional re-fetch of a feed whose body was
# dropped still gets its 304 without rendering.
DEFAULT_BODY_BUDGET = 64 * 1024 * 1024
DEFAULT_MAX_FEEDS = 200_000

log = logging.getLogger("carecal.feeds")


@dataclass(frozen=True)
class CachedFeed:
    version: object  # the database version this was last checked at
    day: date  # the organisation's local date it was checked on (the window moves at midnight)
    stamp: bytes
    etag: str
    last_modified: datetime  # aware
    body: bytes | None  # None once dropped to stay within the budget


class FeedCache:
    """The feeds of one database, answered from memory where nothing changed (see module)."""

    def __init__(
        self,
        db_url: str,
        *,
        body_budget: int = DEFAULT_BODY_BUDGET,
        max_feeds: int = DEFAULT_MAX_FEEDS,
        stale_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.db_url, self.monotonic = db_url, monotonic
        self.body_budget, self.max_feeds, self.stale_seconds = body_budget, max_feeds, stale_seconds
        self.database_version = DatabaseVersion(db_url)
        self.renders = 0  # bodies rendered: what the cache exists to save
        self.reads = 0  # drafts read from the database
        self._feeds: OrderedDict[str, CachedFeed] = OrderedDict()  # token hash → feed, least recent first
        self._bodies: OrderedDict[str, int] = OrderedDict()  # token hash → body size, least recent first
        self._body_bytes = 0
        self._zone: tuple[object, ZoneInfo] | None = None  # (database version, organisation's zone)
        self._lock = threading.Lock()
        # database version → when this worker first saw a newer one (answers of that version
        # are stale from then on); bounded: a version dropped here is never served stale
        self._current: object = None
        self._superseded: OrderedDict[object, float] = OrderedDict()
        self._refreshing: set[str] = set()
        self._refresh_queue: queue.Queue = queue.Queue()
        self._refresher: threading.Thread | None = None

    def remembered(self, token_hash: str, now: datetime) -> tuple[CachedFeed | None, bool]:
        """(the feed as last answered, whether it is current). Current: nothing committed
        since and the same day. Not current but returned: answered before a commit less than
        `stale_seconds` ago (check the token, then `refresh` it). None: `read` it. Cheap:
        one tiny query, no rendering."""
        version = self.database_version.read()
        moment = self.monotonic()
        with self._lock:
            if version != self._current:
                self._superseded[self._current] = moment
                while len(self._superseded) > 10_000:
                    self._superseded.popitem(last=False)
                self._current = version
            feed = self._feeds.get(token_hash)
            if feed is None or self._zone is None or feed.day != now.astimezone(self._zone[1]).date():
                return None, False
            current = feed.version == version and self._zone[0] == version
            if not current:
                since = self._superseded.get(feed.version)
                if since is None or moment - since >= self.stale_seconds:
                    return None, False
            self._feeds.move_to_end(token_hash)
            if feed.body is not None:
                self._bodies.move_to_end(token_hash)
            return feed, current

    def token_is_live(self, token: str) -> bool:
        """Whether `token` still opens a feed (one indexed lookup, for answers from memory
        after a commit: a link rotated or revoked by that commit dies at once)."""
        with db.session_scope(self.db_url) as session:
            if tokens.owner_of(session, token) is not None:
                return True
        with self._lock:
            self._forget(tokens.hash_token(token))
        return False

    def refresh(self, token: str, clock: Callable[[], datetime]) -> None:
        """Read `token`'s feed again in the background (once, however often asked)."""
        token_hash = tokens.hash_token(token)
        with self._lock:
            if token_hash in self._refreshing:
                return
            self._refreshing.add(token_hash)
            if self._refresher is None:
                self._refresher = threading.Thread(target=self._refresh_forever, name="feed-refresh", daemon=True)
                self._refresher.start()
        self._refresh_queue.put((token, token_hash, clock))

    def _refresh_forever(self) -> None:
        while True:
            token, token_hash, clock = self._refresh_queue.get()
            try:
                self.read(token, clock())
            except Exception as error:  # the next request reads it in the foreground
                log.warning("background refresh of %s failed: %s", "a feed", type(error).__name__)
            finally:
                with self._lock:
                    self._refreshing.discard(token_hash)

    def read(self, token: str, now: datetime, *, need_body: bool = True) -> CachedFeed | None:
        """The feed behind `token` from the database, rendered only if its stamp changed (or
        its body is needed and was dropped); None for an unknown, revoked or disowned token."""
        token_hash = tokens.hash_token(token)
        version = self.database_version.read()  # before reading: a commit in between shows next time
        with db.session_scope(self.db_url) as session:
            zone = ZoneInfo(organisation.timezone(session))
            today = now.astimezone(zone).date()
            owner = tokens.owner_of(session, token)
            draft = subscription_draft(session, owner, today) if owner is not None else None
        with self._lock:
            self.reads += 1
            self._zone = (version, zone)
            if draft is None:
                self._forget(token_hash)
                return None
            stamp = draft.stamp()
            feed = self._feeds.get(token_hash)
            if feed is not None and feed.stamp == stamp and (feed.body is not None or not need_body):
                feed = self._feeds[token_hash] = replace(feed, version=version, day=today)
                self._feeds.move_to_end(token_hash)
                return feed
        rendered = draft.render()  # outside the lock: other feeds go on being answered
        etag = '"' + hashlib.sha256(rendered.body).hexdigest()[:40] + '"'
        feed = CachedFeed(version, today, stamp, etag, rendered.last_modified, rendered.body)
        with self._lock:
            self.renders += 1
            self._forget(token_hash)
            self._feeds[token_hash] = feed
            self._bodies[token_hash] = len(rendered.body)
            self._body_bytes += len(rendered.body)
            self._trim()
        return feed

    def _forget(self, token_hash: str) -> None:
        self._feeds.pop(token_hash, None)
        self._body_bytes -= self._bodies.pop(token_hash, 0)

    def _trim(self) -> None:
        while self._body_bytes > self.body_budget and len(self._bodies) > 1:
            dropped, size = self._bodies.popitem(last=False)
            self._body_bytes -= size
            self._feeds[dropped] = replace(self._feeds[dropped], body=None)
        while len(self._feeds) > self.max_feeds:
            dropped, _ = self._feeds.popitem(last=False)
            self._body_bytes -= self._bodies.pop(dropped, 0)
