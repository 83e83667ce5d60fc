"""Exports for auditors: hours per visit, volunteers' allowances, the audit log.

Each export is a header and rows of typed values (dates, times, local date-times, Money)
with every time in the organisation's time zone; carecal's one table writer
(`carecal.tables`) writes them as CSV or XLSX, safe against formula injection.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import catalogue, organisation
from carecal.billing import allowance, budgets, records
from carecal.billing.billed import Part, live_lines, visit_parts
from carecal.billing.ledger import month_bounds
from carecal.errors import InputError
from carecal.models import (
    AuditEvent,
    InvoiceLine,
    RosterVersion,
    Visit,
    VisitRecord,
    Volunteer,
)
from carecal.tables import Money, money
from carecal.weeks import local, to_local

NEAR_LIMIT = Decimal("0.8")  # warn from 80 % of the tax-free limit on

FUNDING_LABELS = {"relief": "§45b", "conversion": "§45a(4)", "private": "privat"}

HOURS_COLUMNS = [
    "visit",
    "status",
    "client",
    "insurer",
    "care_grade",
    "volunteer",
    "training_valid",
    "date",
    "start",
    "end",
    "minutes",
    "activity",
    "category",
    "funding",
    "funding_parts",
    "unit_price_eur",
    "amount_eur",
    "invoice",
    "signature",
    "created_by",
    "created_at",
    "modified_by",
    "modified_at",
    "change_reason",
]


def eur(cents: int | None) -> Money | None:
    return money(cents)


def month_visits(session: Session, month: str) -> list[Visit]:
    """Every visit of the published rosters whose local date falls in the month."""
    tz = organisation.require(session).timezone
    first, last = month_bounds(month)
    starts, ends = local(first, time(0), tz), local(last, time(23, 59, 59), tz)
    return list(
        session.scalars(
            select(Visit)
            .join(RosterVersion, Visit.version_id == RosterVersion.id)
            .where(RosterVersion.status == "published", Visit.starts_at >= starts, Visit.starts_at <= ends)
            .order_by(Visit.starts_at, Visit.id)
        ).all()
    )


def _wall_clock(moment: datetime, tz: str) -> datetime:
    """The local date and time, to the second, without a zone (as a spreadsheet holds it)."""
    return to_local(moment, tz).replace(tzinfo=None, microsecond=0)


def training_valid(volunteer: Volunteer, day: date) -> bool:
    return any(t.kind == "basic" and t.valid_on(day) for t in volunteer.trainings)


def signature_text(record: VisitRecord | None) -> str:
    if record is None or record.status != "delivered":
        return ""
    if record.signature == "none":
        return f"none: {record.signature_reason}"
    return record.signature or ""


@dataclass(frozen=True)
class VisitFact:
    """One visit of the month as every hours export sees it: the plain one for the
    treasurer and those for the insurer and the tax office (`carecal.billing.audiences`)."""

    visit: Visit
    record: VisitRecord | None
    status: str
    day: date
    starts: datetime
    ends: datetime
    category: str
    unit_price_cents: int | None
    lines: tuple[InvoiceLine, ...]
    parts: tuple[Part, ...] = ()

    @property
    def minutes(self) -> int:
        return int((self.ends - self.starts).total_seconds() // 60)

    @property
    def funding(self) -> str:
        return "+".join(FUNDING_LABELS[line.invoice.funding] for line in self.lines)

    @property
    def funding_parts(self) -> str:
        """Who pays what of the visit, e.g. `§45b 2026 4.50 + §45b 2027 48.00 + privat 27.50`:
        each source with its year (or month) of money and its amount."""
        return " + ".join(
            " ".join(x for x in (FUNDING_LABELS[p.funding], p.vintage, f"{money(p.amount_cents)}") if x)
            for p in self.parts
        )

    @property
    def amount_cents(self) -> int | None:
        return sum(line.amount_cents for line in self.lines) if self.lines else None

    @property
    def care_grade(self) -> int | None:
        return self.visit.client.care_grade_on(self.day)

    @property
    def training_valid(self) -> str:
        return "yes" if training_valid(self.visit.volunteer, self.day) else "NO"


def visit_facts(session: Session, month: str) -> list[VisitFact]:
    """The month's visits in time order: the published ones, each with its record (made
    perhaps for the same visit in an earlier version of the week: then that visit is
    shown, as it was delivered), plus records whose visit a later replan dropped."""
    org = organisation.require(session)
    tz = org.timezone
    book = budgets.rate_book(session, org)
    pairs: list[tuple[Visit, VisitRecord | None]] = []
    for visit in month_visits(session, month):
        record = records.record_of(session, visit)
        pairs.append((record.visit if record else visit, record))
    first, last = month_bounds(month)
    shown = {record.id for _, record in pairs if record}
    pairs += [
        (r.visit, r)
        for r in session.scalars(
            select(VisitRecord).where(VisitRecord.day.between(first, last)).order_by(VisitRecord.started_at)
        ).all()
        if r.id not in shown
    ]
    lines = live_lines(session, [visit.id for visit, _ in pairs])
    parts = visit_parts(session, lines)
    facts = []
    for visit, record in pairs:
        starts = record.started_at if record else visit.starts_at
        day = to_local(starts, tz).date()
        category = visit.care_request.category
        facts.append(
            VisitFact(
                visit=visit,
                record=record,
                status=record.status
                if record
                else ("cancelled-in-roster" if visit.status == "cancelled" else "planned"),
                day=day,
                starts=to_local(starts, tz),
                ends=to_local(record.ended_at if record else visit.ends_at, tz),
                category=category,
                unit_price_cents=book.find("price_per_hour", day, category),
                lines=tuple(lines.get(visit.id, [])),
                parts=tuple(parts.get(visit.id, [])),
            )
        )
    return facts


def hours_rows(session: Session, month: str) -> list[list]:
    """The treasurer's export: every visit of the month with names and its whole history."""
    tz = organisation.require(session).timezone
    activities = catalogue.load(session)
    rows = []
    for fact in visit_facts(session, month):
        visit, record = fact.visit, fact.record
        rows.append(
            [
                visit.id,
                fact.status,
                visit.client.name,
                visit.client.insurer_name,
                fact.care_grade,
                visit.volunteer.name,
                fact.training_valid,
                fact.day,
                fact.starts.time(),
                fact.ends.time(),
                fact.minutes,
                activities.label(record.activity_key if record else visit.care_request.activity_key),
                fact.category,
                fact.funding,
                fact.funding_parts,
                eur(fact.unit_price_cents),
                eur(fact.amount_cents),
                " ".join(line.invoice.number for line in fact.lines),
                signature_text(record),
                record.created_by if record else None,
                _wall_clock(record.created_at, tz) if record else None,
                record.updated_by if record else None,
                _wall_clock(record.updated_at, tz) if record else None,
                record.reason if record else None,
            ]
        )
    return rows


@dataclass
class Allowance:
    volunteer: Volunteer
    visits: int
    minutes: int
    allowance_cents: int
    limit_cents: int

    @property
    def share(self) -> Decimal:
        return (Decimal(self.allowance_cents) / Decimal(self.limit_cents)).quantize(Decimal("0.001"))

    @property
    def warning(self) -> str:
        if self.share > 1:
            return "over the tax-free limit"
        if self.share >= NEAR_LIMIT:
            return "near the tax-free limit"
        return ""


def allowances(session: Session, year: int, limit: str = "3_26") -> list[Allowance]:
    """Per volunteer: delivered visits, hours and the allowance they earn (the rule of
    `carecal.billing.allowance`), against the year's tax-free limit (§3 Nr. 26 EStG by
    default, or 26a)."""
    org = organisation.require(session)
    book = budgets.rate_book(session, org)
    limit_cents = book.amount("tax_free_limit_year", allowance.limit_day(year), limit)
    delivered = session.scalars(
        select(VisitRecord).where(
            VisitRecord.status == "delivered", VisitRecord.day.between(date(year, 1, 1), date(year, 12, 31))
        )
    ).all()
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for record in delivered:
        if allowance.unpaid_reason(record.status, record.signature, record.signature_reason):
            continue
        total = totals[record.visit.volunteer_id]
        total[0] += 1
        total[1] += record.minutes
        total[2] += allowance.visit_allowance(record.minutes, book.amount("allowance_per_hour", record.day))
    result = [
        Allowance(session.get_one(Volunteer, vid), n, minutes, cents, limit_cents)
        for vid, (n, minutes, cents) in totals.items()
    ]
    return sorted(result, key=lambda a: a.volunteer.external_id)


ALLOWANCE_COLUMNS = [
    "volunteer_id",
    "volunteer",
    "visits",
    "hours",
    "allowance_eur",
    "tax_free_limit_eur",
    "share_of_limit",
    "warning",
]


def allowance_rows(items: list[Allowance]) -> list[list]:
    return [
        [
            a.volunteer.external_id,
            a.volunteer.name,
            a.visits,
            (Decimal(a.minutes) / 60).quantize(Decimal("0.01")),
            eur(a.allowance_cents),
            eur(a.limit_cents),
            a.share,
            a.warning,
        ]
        for a in items
    ]


AUDIT_COLUMNS = ["id", "at", "actor", "action", "object_type", "object_id", "payload"]


def audit_rows(session: Session, first: date | None = None, last: date | None = None) -> list[list]:
    """Audit events between two local dates (inclusive), oldest first. A period that ends
    before it starts is an error (an empty file would look like a quiet log)."""
    if first and last and last < first:
        raise InputError(f"the period ends ({last}) before it starts ({first}): give --from before --to")
    tz = organisation.require(session).timezone
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if first:
        query = query.where(AuditEvent.at >= local(first, time(0), tz))
    if last:
        query = query.where(AuditEvent.at < local(date.fromordinal(last.toordinal() + 1), time(0), tz))
    return [
        [
            e.id,
            _wall_clock(e.at, tz),
            e.actor,
            e.action,
            e.object_type,
            e.object_id,
            json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
        ]
        for e in session.scalars(query).all()
    ]


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date like 2026-11-30") from None


def parse_year(text: str) -> int:
    if not (text.isdigit() and len(text) == 4):
        raise InputError(f"year {text!r} is not a year like 2026")
    return int(text)
