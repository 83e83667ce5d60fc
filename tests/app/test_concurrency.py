"""Several writers at once on one database, and writes while the feeds are being read: every
write either commits whole or fails with one line, nothing is lost or half-written.
(The same with real processes and the real feed server, measured: bench/concurrency.py,
figures in docs/concurrency.md.)"""

import threading
from datetime import date, timedelta

from sqlalchemy import func, select
from starlette.testclient import TestClient

from carecal import db
from carecal.billing import invoicing, records
from carecal.errors import CarecalError
from carecal.feeds import tokens
from carecal.feeds.app import RateLimiter, create_app
from carecal.models import Absence, AuditEvent, InvoiceLine, Override
from carecal.roster import overrides
from carecal.weeks import IsoWeek
from tests import factories as f

COORDINATORS, ROUNDS = 8, 10
FIRST_DAY = date(2027, 1, 4)


def _absence(url: str, volunteer: str, day: date, errors: list[str]) -> None:
    """One coordinator's command: its own transaction, as `carecal override absence` has."""
    try:
        with db.session_scope(url, write=True) as s:
            overrides.absence(s, volunteer, day.isoformat(), day.isoformat(), reason="ill", actor="anna")
    except CarecalError as error:  # what the CLI would print as its one line
        errors.append(str(error))


def _count(url: str, model, *where) -> int:
    with db.session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_eight_coordinators_writing_at_once_lose_nothing(db_url):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        volunteer = f.volunteer(s).external_id  # all of them record absences of the same volunteer
    errors: list[str] = []
    start = threading.Barrier(COORDINATORS)

    def coordinator(n: int) -> None:
        for round_ in range(ROUNDS):
            start.wait()  # every round, all eight write at the same moment
            _absence(db_url, volunteer, FIRST_DAY + timedelta(days=n * ROUNDS + round_), errors)

    threads = [threading.Thread(target=coordinator, args=(n,)) for n in range(COORDINATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    writes = COORDINATORS * ROUNDS
    assert _count(db_url, Override) == _count(db_url, Absence) == writes
    assert _count(db_url, AuditEvent, AuditEvent.action == "roster.override.absence") == writes


def test_writes_go_through_while_the_feeds_are_being_read(db_url):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        people = [f.volunteer(s) for _ in range(4)]
        request = f.care_request(s, f.client(s), windows=(("mon", "08:00", "20:00"),))
        for n, volunteer in enumerate(people):
            f.published_visit(s, "2026-W48", request, volunteer, day="mon", start=f"{9 + 2 * n:02d}:00")
        links = [tokens.issue(s, v, "anna") for v in people]
        writer = people[0].external_id
    app = create_app(db_url, rate_limiter=RateLimiter(burst=10**9))
    stop, answers, errors = threading.Event(), [], []

    def calendar_app(token: str) -> None:
        with TestClient(app) as client:
            while not stop.is_set():
                answers.append(client.get(f"/feeds/{token}.ics").status_code)

    readers = [threading.Thread(target=calendar_app, args=(token,)) for token in links for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for n in range(ROUNDS):
            _absence(db_url, writer, FIRST_DAY + timedelta(days=n), errors)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == [] and _count(db_url, Override) == ROUNDS
    assert answers and set(answers) == {200}


def test_two_billing_runs_of_a_month_at_once_bill_each_visit_once(db_url):
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        volunteer = f.volunteer(s)
        for _ in range(3):
            f.published_visit(s, "2026-W45", f.care_request(s, f.client(s, care_grade=2)), volunteer)
        records.confirm_week(s, IsoWeek.parse("2026-W45"), "anna")
    start, billed, errors = threading.Barrier(2), [], []

    def treasurer() -> None:
        start.wait()
        try:
            with db.session_scope(db_url, write=True) as s:
                billed.append(len(invoicing.run_month(s, "2026-11", "treasurer", partial=True).invoices))
        except CarecalError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=treasurer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(billed) == [0, 3]
    assert _count(db_url, InvoiceLine) == 3
