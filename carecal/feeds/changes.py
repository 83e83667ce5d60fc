"""Which feeds can a commit have changed? Two cheap questions, so that after an office
write the feed server reads again only the feeds it touched.

1. Has anything been committed since we last looked? SQLite: `PRAGMA data_version` on one
   connection kept for this purpose changes whenever another connection commits.
   PostgreSQL: the text of `pg_current_snapshot()` (xmin, xmax and the transactions still
   running) changes whenever a transaction commits or starts writing. If they are the same
   twice, nothing was committed in between; they may also change without a relevant
   commit (another table, another database of the cluster), which costs question 2.
2. Whose feeds did it touch? The database keeps a counter per feed owner in `feed_change`,
   bumped by triggers on every table the feeds read (migration 0010): a recorded visit
   bumps its volunteer and its client, a rotated link its owner, a new address everyone
   who visits or is visited by that person, a published roster version everyone ('*').
   A feed whose owner's counter and '*' did not move is unchanged, whatever else was
   written. Every table of the schema is either such a feed input or listed below as one
   the feeds never read (a test holds the two lists to the schema).
"""

import contextlib
import threading
from typing import Any

from sqlalchemy.engine import make_url

from carecal import db
from carecal.models import Client, Volunteer

EVERYONE = "*"

# Tables whose rows never show in a feed: a change to them leaves every feed as it was.
NOT_READ_BY_FEEDS = frozenset(
    {
        "absence",
        "audit_event",
        "availability_window",
        "billing_month",
        "care_grade",
        "chain_head",
        "client_away",
        "exclusion",
        "feed_change",
        "insurer",
        "invoice",
        "invoice_counter",
        "invoice_line",
        "ledger_entry",
        "override",
        "payout",
        "payout_line",
        "payout_month",
        "rate",
        "training",
        "unassigned_request",
    }
)

Counters = dict[str, int]


def owner_key(owner: Volunteer | Client) -> str:
    """The owner's name in `feed_change` (as the triggers of migration 0010 write it)."""
    return f"{'v' if isinstance(owner, Volunteer) else 'c'}{owner.id}"


class FeedChanges:
    """`version()` → an opaque value that changes with every commit; `counters()` → owner
    key → how often their feeds' inputs changed (see the module). Both on one connection of
    their own, outside any transaction, so each answer is the latest committed state."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self._dialect = make_url(db_url).get_backend_name()
        self._connection: Any = None  # the driver's own connection (sqlite3 or psycopg)
        self._pooled: Any = None
        self._lock = threading.Lock()

    def version(self) -> object:
        query = "PRAGMA data_version" if self._dialect == "sqlite" else "SELECT pg_current_snapshot()::text"
        return self._ask(query)[0][0]

    def counters(self) -> Counters:
        return dict(self._ask("SELECT owner, counter FROM feed_change"))

    def _ask(self, query: str) -> list[tuple]:
        with self._lock:
            try:
                return self._fetch(query)
            except Exception:
                # A dropped connection (server restart): ask once more on a new one.
                self._close()
                return self._fetch(query)

    def _fetch(self, query: str) -> list[tuple]:
        if self._connection is None:
            # Our own DBAPI connection, outside the pool and outside any transaction:
            # data_version is per connection, and a snapshot must be taken afresh each time.
            pooled = db.engine_for(self.db_url).raw_connection()
            connection: Any = pooled.dbapi_connection
            pooled.detach()
            self._pooled = pooled  # held, so that nothing closes the connection behind our back
            if self._dialect != "sqlite":
                connection.autocommit = True
            self._connection = connection
        cursor = self._connection.cursor()
        try:
            cursor.execute(query)
            return cursor.fetchall()
        finally:
            cursor.close()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken; a new one comes with the next read
                self._connection.close()
            self._connection = self._pooled = None
