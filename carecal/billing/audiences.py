"""The month's hours for those outside the office, each with only what it needs.

| audience | export | who is in it |
|---|---|---|
| treasurer (the association's own) | `hours_rows`: every visit, names, times, history | everyone, by name |
| a care insurer auditing its insured | `insurer_rows`: delivered visits of its insured | clients by a keyed pseudonym |
| the tax office | `tax_office_rows`: totals per category, funding and price | nobody |

The insurer's export is pseudonymous, not only renamed:
- **no column joins it to the treasurer's export**: no visit id, invoice number, day, time,
  volunteer, or time stamp of a change; and its rows are sorted by their content, not in
  time order, so a row's position does not give its visit away either;
- **no free text**: every cell is a pseudonym, a number or a word from a closed set
  (categories, funding labels, `signed`/`none`, `yes`/`NO`), so an activity
  or a reason the office typed (which may name a diagnosis) never leaves;
- **the client is a keyed pseudonym** of 128 bits (`carecal.pseudonyms`): stable under the
  association's key, so the insurer can follow a client's budget from month to month;
- **coarsened to what the audit needs**: the month instead of the day and time (budgets
  are monthly); minutes, price and amount (to check the bill); the care grade only where it
  decides the amount (a visit paid from the §45a(4) budget; otherwise `1-5`: any grade
  opens the §45b relief amount); signed or not (not by whom: that would tell who has a
  representative); whether the volunteer's training was valid. The insurer is a filter,
  not a column: an insurer sees its own insured only.

The tax office checks income and hours of a non-profit, not people: its export has no
person, no care grade and no insurer at all. Volunteers' allowances go to it by name, in
the allowances export: the allowance is the volunteer's own tax matter.

`tests/app/test_audiences.py` measures what is left to re-identify on the demo
association's month (`unique_share`) and whether the export joins the treasurer's.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from carecal.billing.exports import VisitFact, eur, visit_facts
from carecal.errors import NotFound
from carecal.pseudonyms import pseudonym

INSURER_COLUMNS = [
    "client",
    "month",
    "care_grade",
    "category",
    "minutes",
    "funding",
    "funding_parts",
    "unit_price_eur",
    "amount_eur",
    "signature",
    "training_valid",
]
TAX_OFFICE_COLUMNS = ["month", "category", "funding", "unit_price_eur", "visits", "hours", "amount_eur"]


def insurers(session: Session, month: str) -> list[str]:
    """The insurers of the clients with a delivered visit in the month."""
    names = {fact.visit.client.insurer_name for fact in _delivered(session, month)}
    return sorted(name for name in names if name)


def insurer_rows(session: Session, month: str, key: bytes, insurer: str) -> list[list]:
    """The delivered visits of `insurer`'s insured (`insurer`: its name or IK), pseudonymised."""
    facts = _delivered(session, month)
    wanted = insurer.strip().casefold()
    mine = [
        fact
        for fact in facts
        if wanted in {(fact.visit.client.insurer_name or "").casefold(), (fact.visit.client.insurer_ik or "")}
    ]
    if not mine:
        known = ", ".join(insurers(session, month)) or "none"
        raise NotFound(f"no delivered visit in {month} of a client insured with {insurer!r} (insurers: {known})")
    rows = [
        [
            pseudonym(key, "client", fact.visit.client.external_id),
            month,
            _grade_as_needed(fact),
            fact.category,
            fact.minutes,
            fact.funding,
            fact.funding_parts,
            eur(fact.unit_price_cents),
            eur(fact.amount_cents),
            "none" if fact.record and fact.record.signature == "none" else "signed",
            fact.training_valid,
        ]
        for fact in mine
    ]
    return sorted(rows, key=lambda row: [("" if v is None else str(v)) for v in row])


def tax_office_rows(session: Session, month: str) -> list[list]:
    """Delivered visits, hours and amounts per category, funding and hourly price."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for fact in _delivered(session, month):
        total = totals[(fact.category, fact.funding, fact.unit_price_cents or 0)]
        total[0] += 1
        total[1] += fact.minutes
        total[2] += fact.amount_cents or 0
    return [
        [month, category, funding, eur(price), visits, (Decimal(minutes) / 60).quantize(Decimal("0.01")), eur(amount)]
        for (category, funding, price), (visits, minutes, amount) in sorted(totals.items())
    ]


def slug(name: str) -> str:
    """An insurer's name as part of a file name."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "insurer"


def unique_share(rows: Sequence[Sequence], columns: Sequence[int]) -> float:
    """The share of rows that no other row matches on `columns`: what someone who knows
    those facts about a person could single out."""
    if not rows:
        return 0.0
    keys = [tuple(row[i] for i in columns) for row in rows]
    counts = Counter(keys)
    return sum(1 for key in keys if counts[key] == 1) / len(rows)


def _grade_as_needed(fact: VisitFact) -> str:
    """The care grade decides the §45a(4) budget only; for the relief amount (§45b) any
    grade will do, so there it is only said that there is one."""
    grade = fact.care_grade
    if grade is None:
        return "none"
    if any(line.invoice.funding == "conversion" for line in fact.lines):
        return str(grade)
    return "1-5"


def _delivered(session: Session, month: str) -> list[VisitFact]:
    return [fact for fact in visit_facts(session, month) if fact.status == "delivered"]
