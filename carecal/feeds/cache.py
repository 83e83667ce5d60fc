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
"""

import hashlib
import threading
from collections import OrderedDict
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

    def __init__(self, db_url: str, *, body_budget: int = DEFAULT_BODY_BUDGET, max_feeds: int = DEFAULT_MAX_FEEDS):
        self.db_url = db_url
        self.body_budget, self.max_feeds = body_budget, max_feeds
        self.database_version = DatabaseVersion(db_url)
        self.renders = 0  # bodies rendered: what the cache exists to save
        self.reads = 0  # drafts read from the database
        self._feeds: OrderedDict[str, CachedFeed] = OrderedDict()  # token hash → feed, least recent first
        self._bodies: OrderedDict[str, int] = OrderedDict()  # token hash → body size, least recent first
        self._body_bytes = 0
        self._zone: tuple[object, ZoneInfo] | None = None  # (database version, organisation's zone)
        self._lock = threading.Lock()

    def remembered(self, token_hash: str, now: datetime) -> CachedFeed | None:
        """The feed as last answered if nothing was committed since and it is the same day;
        else None (then `read`). Cheap: one tiny query, no rendering."""
        version = self.database_version.read()
        with self._lock:
            feed = self._feeds.get(token_hash)
            if feed is None or feed.version != version or self._zone is None or self._zone[0] != version:
                return None
            if feed.day != now.astimezone(self._zone[1]).date():
                return None
            self._feeds.move_to_end(token_hash)
            if feed.body is not None:
                self._bodies.move_to_end(token_hash)
            return feed

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
