"""Hash chains over append-only tables: the canonical form of a row, its hash, and the
check of a chain. Pure: no database here (the append is in `carecal.models.chain`, the
check against a database in `carecal.integrity`).

Each chained row carries `prev_hash` (its predecessor's `row_hash`, or `GENESIS` for the
first row) and `row_hash` = SHA-256 of the row's canonical form, which includes the table
name, the row's id and `prev_hash`. Changing, removing, replacing or slipping in a row
therefore breaks the chain at that row or the next, whatever the database's triggers say.

The canonical form must come out the same whichever backend stored the row, and for
rows written years ago, so it is defined here once and never changed in place:
- a JSON object, keys sorted, no whitespace, UTF-8 (not ASCII-escaped);
- a NULL column is left out (so a column added later does not change old rows' hashes);
- points in time in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (a naive value is UTC: that is
  how SQLite returns what carecal stored), dates as `YYYY-MM-DD`;
- decimals as plain digits without exponent or trailing zeros (PostgreSQL keeps a scale,
  SQLite does not); floats only inside JSON columns, and never NaN or infinity;
- JSON columns as nested JSON with sorted keys, whatever order the backend returns.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

VERSION = "carecal-chain/1"
GENESIS = "0" * 64
HASH_COLUMNS = ("prev_hash", "row_hash")


def _plain(value: Any) -> Any:
    """A value as it appears in the canonical JSON."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be hashed: only finite decimals")
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    raise TypeError(f"a {type(value).__name__} cannot be hashed into a chain")


def canonical(table: str, values: Mapping[str, Any]) -> bytes:
    """The canonical bytes of one row (its columns by name, `row_hash` excluded)."""
    row = {name: _plain(value) for name, value in values.items() if value is not None and name != "row_hash"}
    document = {"chain": VERSION, "table": table, "row": row}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def row_hash(table: str, values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the row's canonical form; `values` must include `id` and `prev_hash`."""
    return hashlib.sha256(canonical(table, values)).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place where a chain does not hold: the row (None: the chain's end) and why."""

    table: str
    row_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.table} row {self.row_id}" if self.row_id is not None else f"{self.table} chain"
        return f"{where}: {self.reason}"


def check(table: str, rows: Iterable[Mapping[Any, Any]], head_id: int, head_hash: str) -> tuple[int, str, Break | None]:
    """Walk a chain in id order: (rows seen, hash of the last row, the first break or None).

    `head_id`/`head_hash` is what the chain's head says the last row is: a row removed from
    the end, or one added behind the head's back, shows there."""
    expected_prev, last_id, seen = GENESIS, 0, 0
    for row in rows:
        seen += 1
        row_id = row["id"]
        if row["prev_hash"] != expected_prev:
            return seen, expected_prev, Break(table, row_id, _link_reason(last_id, row_id))
        if row_hash(table, row) != row["row_hash"]:
            return seen, expected_prev, Break(table, row_id, "its content does not match its hash: it was changed")
        expected_prev, last_id = row["row_hash"], row_id
    if (last_id, expected_prev) != (head_id, head_hash):
        if last_id < head_id:
            reason = f"it ends at row {last_id or 'none'} but row {head_id} was written: rows at its end were removed"
        else:
            reason = f"row {last_id} is not the last row the chain's head records ({head_id}): it was added around it"
        return seen, expected_prev, Break(table, None, reason)
    return seen, expected_prev, None


def _link_reason(last_id: int, row_id: int) -> str:
    if last_id == 0:
        return "it does not start the chain: a row before it was removed, or it was slipped in"
    return f"it does not follow row {last_id}: row {last_id} was replaced, or a row between them removed or slipped in"
