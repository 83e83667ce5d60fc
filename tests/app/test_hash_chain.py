"""Tamper evidence: the audit log, invoices, invoice lines and ledger entries are hash
chains; the triggers refuse rewrites, and a rewrite behind their back is named by
`integrity.verify` (and so by `audit verify` and `billing reconcile`)."""

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from carecal import audit, db, hashchain, integrity
from carecal.billing import invoicing
from carecal.billing.reconcile import reconcile
from carecal.models import AuditEvent, ChainHead, Invoice, InvoiceLine, LedgerEntry
from tests.app.test_billing import ISSUED, after_the_visits, books  # noqa: F401 (billing after November)
from tests.tamper import drop_guards

CHAINED = (AuditEvent, Invoice, InvoiceLine, LedgerEntry)

# --- the canonical form ---------------------------------------------------------------------


def test_the_canonical_form_does_not_depend_on_how_a_backend_returns_a_value():
    utc = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night summer time starts
    same_moments = [utc, utc.replace(tzinfo=None), utc.astimezone(ZoneInfo("Europe/Berlin"))]
    assert len({hashchain.row_hash("t", {"id": 1, "at": moment}) for moment in same_moments}) == 1
    assert hashchain.row_hash("t", {"id": 1, "x": Decimal("1.50")}) == hashchain.row_hash(
        "t", {"id": 1, "x": Decimal("1.5")}
    )
    assert hashchain.row_hash("t", {"id": 1, "payload": {"b": 1, "a": [1, {"d": 2, "c": 3}]}}) == hashchain.row_hash(
        "t", {"payload": {"a": [1, {"c": 3, "d": 2}], "b": 1}, "id": 1}
    )
    # a NULL column is left out: a column added later keeps old rows' hashes
    assert hashchain.row_hash("t", {"id": 1, "later": None}) == hashchain.row_hash("t", {"id": 1})


def test_the_canonical_form_tells_apart_what_differs():
    base = {"id": 1, "prev_hash": hashchain.GENESIS, "actor": "a", "at": datetime(2026, 1, 1, tzinfo=UTC)}
    variants = [
        {**base, "id": 2},
        {**base, "prev_hash": "1" * 64},
        {**base, "actor": "b"},
        {**base, "at": datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)},  # a microsecond later
        {**base, "actor": ""},  # empty is not NULL
    ]
    hashes = {hashchain.row_hash("t", row) for row in [base, *variants]}
    assert len(hashes) == 1 + len(variants)
    assert hashchain.row_hash("t", base) != hashchain.row_hash("other", base)
    with pytest.raises(ValueError):
        hashchain.row_hash("t", {"id": 1, "payload": {"x": float("nan")}})


def test_the_canonical_form_is_the_documented_one():
    # Rows written today must verify in years: this is the format's test vector. If it
    # fails, the canonical form changed and every stored chain would break.
    row = {
        "id": 7,
        "prev_hash": hashchain.GENESIS,
        "at": datetime(2026, 11, 20, 14, 0, 0, 1, tzinfo=UTC),
        "actor": "Людмила",
        "payload": {"visits": [412, 415], "reason": "Arzttermin"},
        "day": date(2026, 11, 3),
        "object_id": None,
    }
    expected = (
        '{"chain":"carecal-chain/1","row":{"actor":"Людмила","at":"2026-11-20T14:00:00.000001Z",'
        '"day":"2026-11-03","id":7,"payload":{"reason":"Arzttermin","visits":[412,415]},'
        '"prev_hash":"' + "0" * 64 + '"},"table":"audit_event"}'
    )
    assert hashchain.canonical("audit_event", row) == expected.encode()


def _chain(n: int) -> list[dict]:
    rows, prev = [], hashchain.GENESIS
    for row_id in range(1, n + 1):
        row = {"id": row_id, "prev_hash": prev, "actor": f"a{row_id}"}
        row["row_hash"] = prev = hashchain.row_hash("t", row)
        rows.append(row)
    return rows


def test_check_names_the_first_row_that_does_not_hold():
    rows = _chain(5)
    head = (5, rows[-1]["row_hash"])
    assert hashchain.check("t", rows, *head) == (5, rows[-1]["row_hash"], None)

    changed = [dict(r) for r in rows]
    changed[2]["actor"] = "mallory"
    assert hashchain.check("t", changed, *head)[2].row_id == 3

    removed = rows[:1] + rows[2:]
    problem = hashchain.check("t", removed, *head)[2]
    assert problem.row_id == 3 and "does not follow row 1" in problem.reason

    # a forged row 2 with a correct hash of its own: the row after it no longer follows
    forged = [dict(r) for r in rows]
    forged[1]["actor"] = "mallory"
    forged[1]["row_hash"] = hashchain.row_hash("t", forged[1])
    problem = hashchain.check("t", forged, *head)[2]
    assert problem.row_id == 3 and "row 2 was replaced" in problem.reason

    problem = hashchain.check("t", rows[:4], *head)[2]
    assert problem.row_id is None and "rows at its end were removed" in problem.reason
    assert str(hashchain.check("t", [], *head)[2]).startswith("t chain: it ends at row none")


# --- appending ------------------------------------------------------------------------------


def _events(url: str, n: int = 4) -> None:
    with db.session_scope(url) as s:
        for k in range(1, n + 1):
            audit.record(s, "coordinator", "test.event", object_type="visit", object_id=k, number=k)


def _broken(url: str) -> dict[str, hashchain.Break]:
    with db.session_scope(url) as s:
        return {state.table: state.problem for state in integrity.verify(s) if state.problem}


def test_appended_rows_are_numbered_and_linked_on_both_backends(db_url):
    with db.session_scope(db_url) as s:
        books(s)
        first = invoicing.run_month(s, "2026-11", "treasurer", issued_on=ISSUED).invoices[0]
        invoicing.credit_note(s, first.number, "treasurer", "wrong payer", issued_on=ISSUED)
    with db.session_scope(db_url) as s:
        states = {state.table: state for state in integrity.verify(s)}
        assert all(state.ok for state in states.values()), states
        for model in CHAINED:
            rows = s.scalars(select(model).order_by(model.id)).all()
            assert [r.id for r in rows] == list(range(1, len(rows) + 1))
            assert [r.prev_hash for r in rows] == [hashchain.GENESIS] + [r.row_hash for r in rows[:-1]]
            head = s.get(ChainHead, model.__tablename__)
            assert (head.last_id, head.last_hash) == (rows[-1].id, rows[-1].row_hash)
            assert states[model.__tablename__].rows == len(rows)


def test_a_rolled_back_append_leaves_no_gap(db_url):
    _events(db_url, 2)
    with pytest.raises(RuntimeError), db.session_scope(db_url) as s:
        audit.record(s, "coordinator", "test.event", object_type="test", object_id=1)
        s.flush()
        raise RuntimeError("interrupted")
    _events(db_url, 1)
    with db.session_scope(db_url) as s:
        assert s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == [1, 2, 3]
    assert _broken(db_url) == {}


def test_a_row_with_its_own_id_or_hash_is_refused(db_url):
    with pytest.raises(ValueError, match="gets its id and hashes when it is appended"), db.session_scope(db_url) as s:
        s.add(AuditEvent(id=99, actor="a", action="x"))


# --- tampering ------------------------------------------------------------------------------

COLUMNS = "id, at, actor, action, object_type, object_id, payload, prev_hash, row_hash"
REWRITE_ROW_1 = (
    f"INSERT {{verb}} INTO audit_event ({COLUMNS}) SELECT id, at, 'mallory', 'nothing.happened', object_type, "
    "object_id, payload, prev_hash, row_hash FROM audit_event WHERE id = 1"
)


def _forged_row_3(session) -> None:
    """A well-formed row 3 (right predecessor, right hash) slipped in where row 3 was."""
    row_2 = session.execute(select(AuditEvent.__table__).where(AuditEvent.id == 2)).mappings().one()
    forged = {**row_2, "id": 3, "actor": "mallory", "prev_hash": row_2["row_hash"]}
    forged["row_hash"] = hashchain.row_hash("audit_event", forged)
    session.execute(insert(AuditEvent.__table__).values(**forged))  # Core: no ORM append


# Each way to rewrite history: the statements (by backend), and the first row that no
# longer holds (None: the chain's end) with what verify says about it.
TAMPERING = {
    "update": (["UPDATE audit_event SET actor = 'mallory' WHERE id = 2"], 2, "was changed"),
    "delete": (["DELETE FROM audit_event WHERE id = 2"], 3, "does not follow row 1"),
    "delete-last": (["DELETE FROM audit_event WHERE id = 4"], None, "rows at its end were removed"),
    "delete-all": (
        {"sqlite": ["DELETE FROM audit_event"], "postgresql": ["TRUNCATE audit_event"]},
        None,
        "ends at row none",
    ),
    "replace": (
        {
            "sqlite": [REWRITE_ROW_1.format(verb="OR REPLACE")],
            "postgresql": [
                REWRITE_ROW_1.format(verb="")
                + " ON CONFLICT (id) DO UPDATE SET actor = excluded.actor, action = excluded.action"
            ],
        },
        1,
        "was changed",
    ),
    "upsert": (
        [
            REWRITE_ROW_1.format(verb="")
            + " ON CONFLICT (id) DO UPDATE SET actor = excluded.actor, action = excluded.action"
        ],
        1,
        "was changed",
    ),
    "insert-in-the-middle": (
        ["UPDATE audit_event SET id = 5 WHERE id = 4", "UPDATE audit_event SET id = 4 WHERE id = 3", _forged_row_3],
        4,
        "does not follow row 3",
    ),
}


def _tamper(session, kind: str) -> None:
    statements = TAMPERING[kind][0]
    if isinstance(statements, dict):
        statements = statements[session.get_bind().dialect.name]
    for statement in statements:
        if callable(statement):
            statement(session)
        else:
            session.execute(text(statement))


@pytest.mark.parametrize("kind", TAMPERING)
def test_the_triggers_refuse_each_rewrite(db_url, kind):
    _events(db_url)
    with pytest.raises(DBAPIError, match="append-only"), db.session_scope(db_url) as s:
        _tamper(s, kind)
    with db.session_scope(db_url) as s:
        assert s.scalars(select(AuditEvent.actor)).all() == ["coordinator"] * 4
    assert _broken(db_url) == {}


@pytest.mark.parametrize("kind", TAMPERING)
def test_each_rewrite_behind_the_triggers_back_names_the_first_bad_row(db_url, kind):
    _events(db_url)
    with db.session_scope(db_url) as s:
        assert "audit_event_append_at_end" in drop_guards(s)
        _tamper(s, kind)
    _, row_id, reason = TAMPERING[kind]
    problem = _broken(db_url)["audit_event"]
    assert problem.row_id == row_id and reason in problem.reason, problem


def test_a_forged_row_at_the_end_shows_against_the_chain_head(db_url):
    _events(db_url, 2)
    with db.session_scope(db_url) as s:  # the triggers let an insert at the end through
        row_2 = s.execute(select(AuditEvent.__table__).where(AuditEvent.id == 2)).mappings().one()
        forged = {**row_2, "id": 3, "actor": "mallory", "prev_hash": row_2["row_hash"]}
        forged["row_hash"] = hashchain.row_hash("audit_event", forged)
        s.execute(insert(AuditEvent.__table__).values(**forged))
    problem = _broken(db_url)["audit_event"]
    assert problem.row_id is None and "row 3 is not the last row the chain's head records (2)" in problem.reason


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE chain_head SET last_id = last_id - 1, last_hash = 'x' WHERE name = 'audit_event'",
        "DELETE FROM chain_head WHERE name = 'audit_event'",
        "INSERT INTO chain_head (name, last_id, last_hash) VALUES ('audit_event', 0, 'x') "
        "ON CONFLICT (name) DO UPDATE SET last_id = 0",
    ],
)
def test_a_chain_head_only_moves_forward(db_url, statement):
    _events(db_url, 2)
    with pytest.raises(DBAPIError, match="chain heads only move forward"), db.session_scope(db_url) as s:
        s.execute(text(statement))


@pytest.mark.parametrize(
    "table, statement",
    [
        ("audit_event", "UPDATE audit_event SET actor = 'mallory' WHERE id = 1"),
        ("invoice", "UPDATE invoice SET payer_name = 'Mallory' WHERE id = 1"),
        ("invoice_line", "DELETE FROM invoice_line WHERE id = 1"),
        ("ledger_entry", "UPDATE ledger_entry SET reason = 'nothing' WHERE id = 2"),
    ],
)
def test_reconcile_names_a_rewritten_row_even_where_the_sums_still_add_up(db_url, table, statement):
    with db.session_scope(db_url) as s:
        books(s)
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=ISSUED)
    with db.session_scope(db_url) as s:
        assert reconcile(s, "2026-11").ok
        drop_guards(s)
        if table == "invoice_line":  # its ledger entry points at it
            s.execute(text("DELETE FROM ledger_entry WHERE invoice_line_id = 1"))
        s.execute(text(statement))
    with db.session_scope(db_url) as s:
        problems = reconcile(s, "2026-11").problems
    assert any(p.startswith(f"hash chain broken: {table} row") for p in problems), problems


# --- concurrent writers ---------------------------------------------------------------------


def _all_at_once(url: str, jobs) -> list[Exception]:
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def in_thread(work):
        try:
            barrier.wait()
            with db.session_scope(url, write=True) as s:
                work(s)
        except Exception as error:  # collected and asserted by the caller
            errors.append(error)

    threads = [threading.Thread(target=in_thread, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_billing_runs_at_once_keep_every_chain_whole(db_url):
    with db.session_scope(db_url) as s:
        books(s, clients=3)
    errors = _all_at_once(
        db_url, [lambda s, who=who: invoicing.run_month(s, "2026-11", who, issued_on=ISSUED) for who in ("a", "b")]
    )
    assert errors == []
    with db.session_scope(db_url) as s:
        assert len(s.scalars(select(Invoice)).all()) == 3  # one run billed, the other found nothing new
        assert reconcile(s, "2026-11").ok
    assert _broken(db_url) == {}


def test_audit_events_from_concurrent_commands_form_one_chain(db_url):
    def command(s, n):
        for k in range(3):
            audit.record(s, f"writer-{n}", "test.event", object_type="test", object_id=n, number=k)
            s.flush()

    errors = _all_at_once(db_url, [lambda s, n=n: command(s, n) for n in range(6)])
    assert errors == []
    with db.session_scope(db_url) as s:
        assert s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == list(range(1, 19))
        # each command's events stay together: the chain lock is held until it commits
        actors = s.scalars(select(AuditEvent.actor).order_by(AuditEvent.id)).all()
        assert all(len(set(actors[i : i + 3])) == 1 for i in range(0, 18, 3))
    assert _broken(db_url) == {}


# --- the migration --------------------------------------------------------------------------


def test_the_migration_chains_the_rows_already_there(db_url):
    from alembic import command

    with db.session_scope(db_url) as s:
        books(s)
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=ISSUED)
        before = {model: s.execute(select(model.id, model.row_hash).order_by(model.id)).all() for model in CHAINED}
    command.downgrade(db.alembic_config(db_url), "0003")
    db.engine_for(db_url).dispose()
    gap_id = before[AuditEvent][-1][0] + 5
    with db.session_scope(db_url) as s:  # an event written before there were chains, after an id gap
        at = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
        s.execute(insert(AuditEvent.__table__).values(id=gap_id, at=at, actor="old", action="old.event", payload={}))
    db.upgrade(db_url)
    db.engine_for(db_url).dispose()
    assert _broken(db_url) == {}
    with db.session_scope(db_url) as s:
        for model, rows in before.items():  # the same hashes as when they were appended ...
            if model is Invoice:  # ... but invoices: going back past 0013 drops the documents they were issued as
                continue
            kept = select(model.id, model.row_hash).where(model.id <= rows[-1][0]).order_by(model.id)
            assert s.execute(kept).all() == rows
        audit.record(s, "coordinator", "test.after", object_type="test", object_id=1)
    with db.session_scope(db_url) as s:
        assert s.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.after")).one() == gap_id + 1
    assert _broken(db_url) == {}


# --- carecal audit verify -------------------------------------------------------------------


def test_cli_audit_verify_prints_the_heads_and_names_the_first_bad_row(cli, db_url):
    _events(db_url)
    intact = cli("audit", "verify")
    assert intact.exit_code == 0, intact.stderr
    with db.session_scope(db_url) as s:
        head = s.get(ChainHead, "audit_event")
    assert f"audit_event:4:{head.last_hash}" in intact.stdout and "history intact" in intact.stdout

    with db.session_scope(db_url) as s:
        drop_guards(s)
        s.execute(text(REWRITE_ROW_1.format(verb="") + " ON CONFLICT (id) DO UPDATE SET actor = excluded.actor"))
    broken = cli("audit", "verify")
    assert broken.exit_code == 1
    assert "audit_event row 1: its content does not match its hash" in " ".join(broken.stderr.split())
    assert "1 hash chain(s) broken" in broken.stderr


def test_an_anchor_catches_a_chain_rewritten_hashes_and_all(cli, db_url):
    _events(db_url)
    with db.session_scope(db_url) as s:
        anchor = next(state.anchor for state in integrity.verify(s) if state.table == "audit_event")
    assert cli("audit", "verify", "--anchor", anchor).exit_code == 0

    # someone who knows the canonical form rewrites row 2 and recomputes every hash after it
    with db.session_scope(db_url) as s:
        drop_guards(s)
        table = AuditEvent.__table__
        rows = [dict(r) for r in s.execute(select(table).order_by(table.c.id)).mappings()]
        rows[1]["actor"] = "mallory"
        for k in range(1, len(rows)):
            rows[k]["prev_hash"] = rows[k - 1]["row_hash"]
            rows[k]["row_hash"] = hashchain.row_hash("audit_event", rows[k])
        s.execute(text("DELETE FROM audit_event WHERE id >= 2"))
        s.execute(insert(table), rows[1:])
        s.execute(text("UPDATE chain_head SET last_hash = :h WHERE name = 'audit_event'"), {"h": rows[-1]["row_hash"]})
    assert _broken(db_url) == {}  # the chain alone cannot tell
    result = cli("audit", "verify", "--anchor", anchor)
    assert result.exit_code == 1
    assert "audit_event row 4: its hash is not the one written down" in " ".join(result.stderr.split())

    bad = cli("audit", "verify", "--anchor", "audit_event:4:abc")
    assert bad.exit_code == 2 and "CHAIN:ROW:HASH" in bad.stderr


INVOICE_COLUMNS = (
    "year, sequence, kind, month, issued_on, client_id, payer, payer_name, funding, statement, total_cents, "
    "created_by, created_at, prev_hash, row_hash"
)


@pytest.mark.parametrize("kind", ["replace", "upsert"])
def test_a_new_row_that_takes_an_invoice_number_is_refused(db_url, kind):
    """A replacing insert that collides on the invoice number, not the id, would delete the
    old invoice on SQLite without firing a delete trigger; an upsert would rewrite it."""
    with db.session_scope(db_url) as s:
        books(s, clients=1)
        invoicing.run_month(s, "2026-11", "treasurer", issued_on=ISSUED)
    replace = kind == "replace" and db_url.startswith("sqlite")  # PostgreSQL has only the upsert
    forged = INVOICE_COLUMNS.replace("payer_name", "'Mallory'")
    statement = (
        f"INSERT {'OR REPLACE' if replace else ''} INTO invoice (id, number, {INVOICE_COLUMNS}) "
        f"SELECT (SELECT max(id) + 1 FROM invoice), number, {forged} FROM invoice WHERE id = 1"
    )
    if not replace:
        statement += " ON CONFLICT (number) DO UPDATE SET payer_name = excluded.payer_name"
    with pytest.raises(DBAPIError, match="append-only"), db.session_scope(db_url) as s:
        s.execute(text(statement))
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Invoice.payer_name)).all() == ["AOK PLUS"]
    assert _broken(db_url) == {}
