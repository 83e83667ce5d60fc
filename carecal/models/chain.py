"""Tamper evidence: the audit log, invoices, invoice lines, ledger entries, payouts and
payout lines are hash chains (`carecal.hashchain` says how a row is hashed; `carecal.integrity` checks them).

Appending is done here, once, for every chained model, whoever inserts the row: just
before the INSERT the chain heads are locked (`SELECT ... FOR UPDATE` on PostgreSQL; on
SQLite the transaction is the only writer), the row gets the next id, its predecessor's
hash and its own, and the head moves on. All heads are locked together and in name
order, so two transactions never wait for each other's heads in opposite order. The
locks are held until the transaction ends, so concurrent writers append one after the
other and the chain never forks; a rolled-back transaction takes its rows and its head
moves with it, so ids run 1, 2, 3, ... without gaps.
"""

from typing import Any

from sqlalchemy import String, event, select, update
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from carecal.hashchain import GENESIS, row_hash
from carecal.models.base import Base

CHAINED_TABLES = ("audit_event", "invoice", "invoice_line", "ledger_entry", "payout", "payout_line")


class ChainHead(Base):
    """The last row of one chain: a row removed from the end of a chain shows against it."""

    __tablename__ = "chain_head"

    name: Mapped[str] = mapped_column(String(40), primary_key=True, doc="the chained table")
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class Chained:
    """Mixin for append-only models whose rows form a hash chain in id order."""

    prev_hash: Mapped[str] = mapped_column(String(64), doc="row_hash of the previous row (GENESIS for the first)")
    row_hash: Mapped[str] = mapped_column(String(64), doc="SHA-256 of this row's canonical form")


def _with_defaults(mapper: Mapper, target: Any) -> dict[str, Any]:
    """The row's column values by column name, Python-side defaults applied now (the hash
    must cover the values that will be stored, and defaults are otherwise filled in later)."""
    values = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        value = getattr(target, prop.key)
        if value is None and column.default is not None and not column.primary_key:
            default = column.default
            value = default.arg if default.is_scalar else default.arg(None)
            setattr(target, prop.key, value)
        values[column.name] = value
    return values


@event.listens_for(Chained, "before_insert", propagate=True)
def _append(mapper: Mapper, connection, target: Any) -> None:
    table = mapper.class_.__tablename__
    if target.id is not None or target.row_hash is not None:
        raise ValueError(f"{table}: a chained row gets its id and hashes when it is appended; do not set them")
    heads = Base.metadata.tables[ChainHead.__tablename__]
    locked = connection.execute(select(heads).order_by(heads.c.name).with_for_update()).all()
    head = next((h for h in locked if h.name == table), None)
    if head is None:
        raise RuntimeError(f"no chain head for {table}: the database is not migrated")
    target.id = head.last_id + 1
    target.prev_hash = head.last_hash
    target.row_hash = row_hash(table, _with_defaults(mapper, target))
    connection.execute(update(heads).where(heads.c.name == table).values(last_id=target.id, last_hash=target.row_hash))
