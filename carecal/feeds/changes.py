"""Has anything been committed to the database since we last looked? One cheap question
per feed request, so that an unchanged feed is answered from memory.

SQLite: `PRAGMA data_version` on one connection kept for this purpose changes whenever
another connection commits. PostgreSQL: the text of `pg_current_snapshot()` (xmin, xmax
and the transactions still running) changes whenever a transaction commits or starts
writing. Both answers are exact in the direction that matters: if they are the same
twice, nothing was committed in between; they may also change without a relevant commit
(another table, another database of the cluster), which only costs a re-read.
"""

import contextlib
import threading
from typing import Any

from sqlalchemy.engine import make_url

from carecal import db


class DatabaseVersion:
    """`read()` → an opaque value that changes with every commit (see the module)."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self._dialect = make_url(db_url).get_backend_name()
        self._query = "PRAGMA data_version" if self._dialect == "sqlite" else "SELECT pg_current_snapshot()::text"
        self._connection: Any = None  # the driver's own connection (sqlite3 or psycopg)
        self._pooled: Any = None
        self._lock = threading.Lock()

    def read(self) -> object:
        with self._lock:
            try:
                return self._ask()
            except Exception:
                # A dropped connection (server restart): ask once more on a new one.
                self._close()
                return self._ask()

    def _ask(self) -> object:
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
            cursor.execute(self._query)
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken; a new one comes with the next read
                self._connection.close()
            self._connection = self._pooled = None
