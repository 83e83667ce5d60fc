"""Who gets which hours export, and how much of the people in it can be found again.

Measured on the demo association (its 120 clients, 45 volunteers and care requests from
data/), three weeks of November visits with a few cancellations and unsigned proofs,
billed: the treasurer's export against the care insurers' and the tax office's."""

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from carecal import clock, db, pseudonyms
from carecal.billing import audiences, exports, invoicing, records
from carecal.demo import DemoContext, load_master_data
from carecal.errors import InputError
from carecal.models import CareRequest, Volunteer
from carecal.weeks import IsoWeek
from tests import factories as f

WEEKS = ("2026-W46", "2026-W47", "2026-W48")
AFTER = datetime(2026, 12, 15, tzinfo=UTC)
TYPED_BY_THE_OFFICE = "Demenz, Pflegegrad 4, V543911173"  # what free text may hold
PLAIN = {name: i for i, name in enumerate(exports.HOURS_COLUMNS)}
INSURED = {name: i for i, name in enumerate(audiences.INSURER_COLUMNS)}
# What the insurer's export shares with the treasurer's: the columns someone holding
# both would join on, the treasurer's coarsened as the insurer's are.
SHARED = ("category", "minutes", "funding", "unit_price_eur", "amount_eur", "training_valid", "care_grade", "signature")


def as_the_insurer_sees_it(row) -> tuple:
    """The SHARED columns of a row of the treasurer's export, coarsened like the insurer's."""
    grade = row[PLAIN["care_grade"]]
    shown = "none" if grade is None else str(grade) if "§45a(4)" in row[PLAIN["funding"]] else "1-5"
    signed = "none" if row[PLAIN["signature"]].startswith("none") else "signed"
    return (*(row[PLAIN[c]] for c in SHARED[:-2]), shown, signed)


def shared(row) -> tuple:
    return tuple(row[INSURED[c]] for c in SHARED)


@pytest.fixture(scope="module")
def key():
    return pseudonyms.parse_key(pseudonyms.new_key(), "test")


@pytest.fixture
def november(db_url, tmp_path):
    """The demo association's November: every care request visited once a week, spread over
    the weekdays and the volunteers; a few visits cancelled, some proofs unsigned; billed."""
    load_master_data(DemoContext(url=db_url, out=tmp_path, console=Console()))
    with clock.frozen(AFTER), db.session_scope(db_url) as s:
        requests = s.scalars(select(CareRequest).order_by(CareRequest.external_id)).all()
        volunteers = s.scalars(select(Volunteer).order_by(Volunteer.external_id)).all()
        for w, week in enumerate(WEEKS):
            for n, request in enumerate(requests):
                visit = f.published_visit(
                    s,
                    week,
                    request,
                    volunteers[(n + w) % len(volunteers)],
                    day=("mon", "tue", "wed", "thu", "fri")[n % 5],
                    start=("09:00", "11:00", "14:00", "16:00")[(n // 5 + w) % 4],
                )
                if (n + w) % 13 == 5:
                    records.record_visit(
                        s, visit.id, "coordinator", status="cancelled-by-client", reason=TYPED_BY_THE_OFFICE
                    )
                elif (n + w) % 7 == 3:
                    records.record_visit(
                        s,
                        visit.id,
                        "coordinator",
                        status="delivered",
                        signature="none",
                        signature_reason=TYPED_BY_THE_OFFICE,
                    )
            records.confirm_week(s, IsoWeek.parse(week), "coordinator")
        invoicing.run_month(s, "2026-11", "treasurer")
    return db_url


def test_what_is_left_to_re_identify_in_each_export(november, key, tmp_path):
    with db.session_scope(november) as s:
        plain = exports.hours_rows(s, "2026-11")
        names = audiences.insurers(s, "2026-11")
        insured = {name: audiences.insurer_rows(s, "2026-11", key, name) for name in names}
        tax = audiences.tax_office_rows(s, "2026-11")
    # Before: the treasurer's export singles out most visits by day, time, insurer and grade.
    before = audiences.unique_share(plain, [PLAIN[c] for c in ("date", "start", "end", "insurer", "care_grade")])
    assert before > 0.5
    assert len(names) >= 4 and sum(map(len, insured.values())) > 250

    delivered = [row for row in plain if row[PLAIN["status"]] == "delivered"]
    rows_in_all = unique_rows = single_matches = clients = clients_found = 0
    assert not {"visit", "volunteer", "invoice", "date", "start", "created_at"} & set(audiences.INSURER_COLUMNS)
    for name, rows in insured.items():
        theirs = [row for row in delivered if row[PLAIN["insurer"]] == name]
        rows_in_all += len(rows)
        # 1. rows that what is left (every column but the pseudonym) singles out
        unique_rows += round(audiences.unique_share(rows, range(1, len(audiences.INSURER_COLUMNS))) * len(rows))

        # 2. the join with the treasurer's export: no value in common with its names or
        #    invoice numbers, and a row matches exactly one visit there rarely
        identifying = {row[PLAIN[c]] for row in theirs for c in ("client", "volunteer", "invoice")} - {""}
        assert not identifying & {value for row in rows for value in row}
        matches = Counter(as_the_insurer_sees_it(row) for row in theirs)
        single_matches += sum(1 for row in rows if matches[shared(row)] == 1)

        # 3. all of a client's rows together: the pattern someone holding both exports
        #    could match (the residual risk docs/privacy.md names)
        clients_of: dict[tuple, set[str]] = defaultdict(set)
        for row in theirs:
            clients_of[as_the_insurer_sees_it(row)].add(row[PLAIN["client"]])
        patterns: dict[str, list[tuple]] = defaultdict(list)
        for row in rows:
            patterns[row[INSURED["client"]]].append(shared(row))
        clients += len(patterns)
        clients_found += sum(
            1 for keys in patterns.values() if len(set.intersection(*(clients_of[k] for k in keys))) == 1
        )
    assert rows_in_all == len(delivered)
    # measured on this month: 17 of 411 rows (4 %), against 82 % of the treasurer's rows
    assert unique_rows / rows_in_all <= 0.1, unique_rows / rows_in_all
    assert single_matches / rows_in_all <= 0.1, single_matches / rows_in_all
    # measured: 27 of 120 clients (22 %); before, the visit column joined all of them
    assert clients_found / clients <= 0.35, clients_found / clients

    # The tax office: nobody in it, and every row sums up several visits.
    assert all(row[audiences.TAX_OFFICE_COLUMNS.index("visits")] >= 2 for row in tax)
    assert sum(row[audiences.TAX_OFFICE_COLUMNS.index("visits")] for row in tax) == len(delivered)


def test_nothing_the_office_typed_leaves_with_the_insurer_or_the_tax_office(november, key, tmp_path):
    from carecal import tables

    with db.session_scope(november) as s:
        plain = exports.hours_rows(s, "2026-11")
        insurer = audiences.insurers(s, "2026-11")[0]
        files = {
            "insurer.csv": (audiences.INSURER_COLUMNS, audiences.insurer_rows(s, "2026-11", key, insurer)),
            "tax.csv": (audiences.TAX_OFFICE_COLUMNS, audiences.tax_office_rows(s, "2026-11")),
        }
    assert any(TYPED_BY_THE_OFFICE in str(cell) for row in plain for cell in row)  # the treasurer sees it
    PART = r"(§45b \d{4}|§45a\(4\) \d{4}-\d\d|privat) \d+\.\d\d"  # a source, its year or month, its amount
    closed_sets = {
        "client": re.compile(r"C-[0-9a-f]{32}"),
        "month": re.compile(r"2026-11"),
        "category": re.compile(r"betreuung|alltagsbegleitung|hauswirtschaft"),
        "funding": re.compile(r"(§45b|§45a\(4\)|privat)(\+(§45b|§45a\(4\)|privat))*"),
        "funding_parts": re.compile(rf"{PART}( \+ {PART})*"),
        "care_grade": re.compile(r"[1-5]|1-5|none"),
        "signature": re.compile(r"signed|none"),
        "training_valid": re.compile(r"yes|NO"),
    }
    for name, (header, rows) in files.items():
        path = tmp_path / name
        tables.write_table(path, header, rows, "csv")
        assert TYPED_BY_THE_OFFICE.split(",")[0] not in path.read_text(encoding="utf-8")
        for row in rows:
            for column, value in zip(header, row, strict=True):
                if isinstance(value, str):
                    assert column in closed_sets and closed_sets[column].fullmatch(value), (column, value)


# --- the key ---------------------------------------------------------------------------------


def test_a_pseudonym_has_128_bits_and_depends_on_key_kind_and_person(key):
    other = pseudonyms.parse_key(pseudonyms.new_key(), "test")
    mine = pseudonyms.pseudonym(key, "client", "c001")
    assert re.fullmatch(r"C-[0-9a-f]{32}", mine) and mine == pseudonyms.pseudonym(key, "client", "c001")
    assert len({mine, pseudonyms.pseudonym(other, "client", "c001"), pseudonyms.pseudonym(key, "client", "c002")}) == 3
    assert pseudonyms.pseudonym(key, "volunteer", "c001").startswith("V-")


@pytest.mark.parametrize(
    "text, why",
    [
        ("s3cret", "32 random bytes"),
        ("0f" * 31, "32 random bytes"),  # 31 bytes
        ("ab" * 32, "not random"),
        ("0123456789abcdef" * 4, "not random"),
        ("correct horse battery staple, a phrase but no key", "32 random bytes"),
        ("a" * 43, "not random"),
    ],
)
def test_a_short_or_weak_key_is_refused_without_showing_it(text, why):
    with pytest.raises(InputError, match=why) as refused:
        pseudonyms.parse_key(text, "$CARECAL_PSEUDONYM_KEY")
    assert text not in str(refused.value) and "carecal export pseudonym-key" in str(refused.value)


def test_a_made_key_is_accepted_in_either_spelling():
    made = pseudonyms.new_key()
    raw = pseudonyms.parse_key(made, "k")
    assert len(made) == 43 and len(raw) == 32 and pseudonyms.parse_key(raw.hex(), "k") == raw


def test_a_key_file_others_may_read_is_refused(tmp_path: Path):
    path = tmp_path / "key"
    path.write_text(pseudonyms.new_key())
    path.chmod(0o644)
    with pytest.raises(InputError, match="chmod 600"):
        pseudonyms.load_key(path)
    path.chmod(0o600)
    assert len(pseudonyms.load_key(path)) == 32
    with pytest.raises(InputError, match="no pseudonym key file"):
        pseudonyms.load_key(tmp_path / "absent")
