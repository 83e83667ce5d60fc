"""Feeds answered from memory: a stamp per feed, each body rendered once per stamp.

For every token asked for, a worker process keeps what it last answered: the stamp of the
calendar (a digest of everything the renderer takes, `CalendarDraft.stamp`), its ETag
(the body's hash), Last-Modified and, within a memory budget, the body itself. It also
notes the feed's owner, the change counters of that owner and of everyone at which that
was true (carecal.feeds.changes) and the organisation's local date.

A request is then answered in one of three ways:
- nothing was committed since that touched the feed's owner or everyone, and it is still
  the same day: from memory, without reading the feed (a conditional request gets its 304
  even if the body was dropped). A commit elsewhere (another volunteer's visit recorded,
  another link rotated, a bill) costs one tiny query per worker, not one read per feed;
- the owner's counter or everyone's moved (a publish, a recorded visit, an override that
  was published, a rotated token, a new address) or midnight passed: the feed's draft is
  read again and its stamp compared; unchanged, the answer stays as it was, without
  rendering;
- the stamp changed: the body is rendered (once) and cached.

So the ETag is always the hash of the bytes sent (same bytes, same ETag, in every worker).

A change that touches every feed (a published roster) still means a read of each: a wave
of reads. With `stale_seconds` above 0 (the server's default), a feed answered before
such a commit is answered from memory for up to that long afterwards, while a background
thread reads it again. Only a feed whose owner is untouched is answered so: a rotated or
revoked link, an inactive volunteer or a withdrawn consent moves the owner's counter, so
the link still gets its 404 at once. Midnight is never served stale.
"""

import bisect
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

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.calendars import subscription_draft
from carecal.feeds.changes import EVERYONE, Counters, FeedChanges, owner_key

# Bodies kept per worker process: about 2,000 feeds of 30 kB. Stamps (a few hundred bytes
# each) are kept for many more feeds, so a conditional re-fetch of a feed whose body was
# dropped still gets its 304 without rendering.
DEFAULT_BODY_BUDGET = 64 * 1024 * 1024
DEFAULT_MAX_FEEDS = 200_000
# When the last so many changes to everyone's feeds were seen (for answers from memory
# after a publish); a feed read before them is never answered stale.
KEPT_CHANGES = 1_000

log = logging.getLogger("carecal.feeds")


@dataclass(frozen=True)
class CachedFeed:
    owner: str  # whose feed, as the change counters name them ('v12', 'c5')
    counted: tuple[int, int]  # the owner's and everyone's change counters it was read at
    zone: ZoneInfo  # the organisation's time zone
    day: date  # the organisation's local date it was read on (the window moves at midnight)
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
        self.changes = FeedChanges(db_url)
        self.renders = 0  # bodies rendered: what the cache exists to save
        self.reads = 0  # drafts read from the database
        self._feeds: OrderedDict[str, CachedFeed] = OrderedDict()  # token hash → feed, least recent first
        self._bodies: OrderedDict[str, int] = OrderedDict()  # token hash → body size, least recent first
        self._body_bytes = 0
        self._lock = threading.Lock()
        # The change counters as last looked at, and when everyone's counter was seen to
        # move: (its new value, the moment), oldest first.
        self._looking = threading.Lock()
        self._version: object = object()  # the database version the counters belong to
        self._counters: Counters | None = None  # None: not looked at yet
        self._everyone_moved: list[tuple[int, float]] = []
        self._refreshing: set[str] = set()
        self._refresh_queue: queue.Queue = queue.Queue()
        self._refresher: threading.Thread | None = None

    def remembered(self, token_hash: str, now: datetime) -> tuple[CachedFeed | None, bool]:
        """(the feed as last answered, whether it is current). Current: nothing committed
        since touched it and it is the same day. Not current but returned: its owner is
        untouched (so its link is as live as it was) but a change to everyone's feeds came
        less than `stale_seconds` ago: answer, then `refresh` it. None: `read` it. Cheap:
        one tiny query, no rendering."""
        counters = self._latest()
        moment = self.monotonic()
        with self._lock:
            feed = self._feeds.get(token_hash)
            if feed is None or feed.day != now.astimezone(feed.zone).date():
                return None, False
            owner_count, everyone_count = _counted(feed.owner, counters)
            if owner_count != feed.counted[0]:
                return None, False  # its link, its owner or its own visits changed: read it now
            current = everyone_count == feed.counted[1]
            if not current:  # everyone's feeds changed (a publish): answered as before for a while
                since = self._everyone_moved_after(feed.counted[1])
                if since is None or moment - since >= self.stale_seconds:
                    return None, False
            self._feeds.move_to_end(token_hash)
            if feed.body is not None:
                self._bodies.move_to_end(token_hash)
            return feed, current

    def _latest(self) -> Counters:
        """The change counters now: one tiny query, and the counters themselves only when
        something was committed since the last look."""
        with self._looking:
            version = self.changes.version()
            if version != self._version:
                counters = self.changes.counters()  # after the version: a commit in between shows next time
                with self._lock:
                    everyone = counters.get(EVERYONE, 0)
                    if self._counters is not None and everyone != self._counters.get(EVERYONE, 0):
                        self._everyone_moved.append((everyone, self.monotonic()))
                        del self._everyone_moved[:-KEPT_CHANGES]
                    self._version, self._counters = version, counters
                return counters
            assert self._counters is not None  # set with the first version
            return self._counters

    def _everyone_moved_after(self, counted: int) -> float | None:
        """When this worker first saw everyone's counter pass `counted` (None: not kept)."""
        first = bisect.bisect_right(self._everyone_moved, counted, key=lambda change: change[0])
        return self._everyone_moved[first][1] if first < len(self._everyone_moved) else None

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
        counters = self._latest()  # before reading: what is read is at least as new
        with db.session_scope(self.db_url) as session:
            owner = tokens.owner_of(session, token)
            draft = subscription_draft(session, owner, now) if owner is not None else None
            key = owner_key(owner) if owner is not None else ""
        with self._lock:
            self.reads += 1
            if draft is None:
                self._forget(token_hash)
                return None
            zone = ZoneInfo(draft.tz)
            today = now.astimezone(zone).date()
            stamp = draft.stamp()
            counted = _counted(key, counters)
            feed = self._feeds.get(token_hash)
            if feed is not None and feed.stamp == stamp and (feed.body is not None or not need_body):
                feed = replace(feed, owner=key, counted=counted, zone=zone, day=today)
                self._feeds[token_hash] = feed
                self._feeds.move_to_end(token_hash)
                return feed
        rendered = draft.render()  # outside the lock: other feeds go on being answered
        etag = '"' + hashlib.sha256(rendered.body).hexdigest()[:40] + '"'
        feed = CachedFeed(key, counted, zone, today, stamp, etag, rendered.last_modified, rendered.body)
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


def _counted(owner: str, counters: Counters) -> tuple[int, int]:
    return counters.get(owner, 0), counters.get(EVERYONE, 0)
