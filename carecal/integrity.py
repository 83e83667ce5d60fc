"""Is the recorded history intact? Walk every hash chain (audit log, invoices, invoice
lines, ledger entries, payouts and payout lines) and name the first row that does not hold.

Used by `carecal audit verify` and `carecal billing reconcile`. It reads the rows as
stored, never through the session's cached objects, so what it checks is what a copy of
the database would show.
"""

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import hashchain
from carecal.errors import InputError
from carecal.models import CHAINED_TABLES, Base, ChainHead


@dataclass(frozen=True)
class ChainState:
    table: str
    rows: int  # rows checked: all of them, or up to the first that does not hold
    head_id: int
    head_hash: str
    problem: hashchain.Break | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def anchor(self) -> str:
        """The head as an anchor to write down and check later (`--anchor`)."""
        return f"{self.table}:{self.head_id}:{self.head_hash}"


@dataclass(frozen=True)
class Anchor:
    """A row's hash written down outside the database: a chain rewritten from that row on,
    hashes recomputed and all, no longer has it."""

    table: str
    row_id: int
    row_hash: str


def parse_anchor(text: str) -> Anchor:
    match = re.fullmatch(r"([a-z_]+):(\d+):([0-9a-f]{64})", text.strip())
    if not match or match[1] not in CHAINED_TABLES:
        raise InputError(
            f"anchor {text[:80]!r} is not CHAIN:ROW:HASH with CHAIN one of {', '.join(CHAINED_TABLES)}, "
            "e.g. audit_event:1234:<64 hex digits>, as `carecal audit verify` prints it"
        )
    return Anchor(match[1], int(match[2]), match[3])


def verify(session: Session, anchors: tuple[Anchor, ...] = ()) -> list[ChainState]:
    """One state per chain, in name order. The heads are read first and locked as an
    append locks them (PostgreSQL), which waits for writers that are appending and holds
    new ones back until this transaction ends, so a chain is never seen half-appended.
    (The same lock, not a shared one: a transaction that verifies and then appends, as
    closing a month does, must not wait for another one doing the same.)

    An anchor whose row no longer has the hash written down is that chain's problem,
    unless the chain breaks earlier."""
    connection = session.connection()
    heads_table = ChainHead.__table__
    heads = {
        head.name: head
        for head in connection.execute(select(heads_table).order_by(heads_table.c.name).with_for_update())
    }
    states = []
    for name in CHAINED_TABLES:
        head = heads.get(name)
        if head is None:
            states.append(ChainState(name, 0, 0, "", hashchain.Break(name, None, "its head row is missing")))
            continue
        table = Base.metadata.tables[name]
        with connection.execute(select(table).order_by(table.c.id).execution_options(yield_per=2000)) as result:
            seen, _, problem = hashchain.check(name, result.mappings(), head.last_id, head.last_hash)
        for anchor in sorted((a for a in anchors if a.table == name), key=lambda a: a.row_id):
            if problem is not None and (problem.row_id is None or problem.row_id <= anchor.row_id):
                break
            stored = connection.scalar(select(table.c.row_hash).where(table.c.id == anchor.row_id))
            if stored != anchor.row_hash:
                reason = (
                    "it is gone, though its hash was written down"
                    if stored is None
                    else "its hash is not the one written down: the chain was rewritten from here on"
                )
                problem = hashchain.Break(name, anchor.row_id, reason)
                break
        states.append(ChainState(name, seen, head.last_id, head.last_hash, problem))
    return states
