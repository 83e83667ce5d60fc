"""Is the recorded history intact? Walk every hash chain (audit log, invoices, invoice
lines, ledger entries) and name the first row that does not hold.

Used by `carecal audit verify` and `carecal billing reconcile`. It reads the rows as
stored, never through the session's cached objects, so what it checks is what a copy of
the database would show.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import hashchain
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


def verify(session: Session) -> list[ChainState]:
    """One state per chain, in name order. The heads are read first and locked as an
    append locks them (PostgreSQL), which waits for writers that are appending and holds
    new ones back until this transaction ends, so a chain is never seen half-appended.
    (The same lock, not a shared one: a transaction that verifies and then appends, as
    closing a month does, must not wait for another one doing the same.)"""
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
        states.append(ChainState(name, seen, head.last_id, head.last_hash, problem))
    return states
