"""The life of a visit, and the one place that decides what may happen to it.

    planned ──publish──▶ published ──record──▶ delivered ──billing run──▶ billed ──close──▶ closed
    (a draft version)    (calendars see it)    │                            ▲ credit note: delivered again
                                               ├▶ cancelled-by-client       │
                                               ├▶ cancelled-by-volunteer ───┴─ (never billed) ─▶ closed
                                               └▶ no-show

What follows from it, and who asks here:

- Time. A week is *ahead* until its Monday 00:00 (local), *in progress* during it, and
  *over* from the next Monday. A week that is over can no longer be planned, replanned or
  published: its visits happened (or did not), and that is recorded, not planned.
- History. A published visit that has started, or that has a recorded outcome, is
  history: every new version of its week carries it over exactly as it is (volunteer,
  time), and publishing a version that would change it is refused. A visit that has not
  started may still be moved by a plan, a replan and a publish.
- Outcomes. Delivered and no-show are recorded once a visit has started (a delivery once
  it has ended); a cancellation may be recorded in advance. An outcome is shared by the
  same visit (week and request key) in every version of the week.
- Money. Only delivered visits that have ended are billed; a month is billed once it is
  over (in part before, only when asked); a billed record changes only after a credit
  note; nothing in a closed month changes, and a month is closed only once it is over.

The Python checks below are what users meet (with what to do instead). The database
guards the same rules where it can without knowing the time (migration 0009: no change to
a visit of a published version, no record for an unpublished visit, no change to a
billed record or in a closed month, no invoice line for a visit that was not delivered,
one published version per week), so not even a bug or a script can break them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import clock
from carecal.billing.ledger import month_key
from carecal.errors import Conflict, InputError
from carecal.models import BillingMonth, InvoiceLine, RosterVersion, RosterWeek, Visit, VisitRecord
from carecal.models.billing import CANCELLATIONS, RECORD_STATUSES
from carecal.weeks import IsoWeek, local, to_local

# The stages of the drawing above, in order ("cancelled": cancelled in the roster itself).
STAGES = ("planned", "published", *RECORD_STATUSES, "billed", "closed", "cancelled")
# What may follow a recorded outcome by `visit record` (with a reason): any other outcome,
# as long as the visit is not billed and its month is open.
OUTCOME_CHANGES = {status: tuple(s for s in RECORD_STATUSES if s != status) for status in RECORD_STATUSES}


class WeekOver(Conflict):
    """A week that is over cannot be planned or published."""


# --------------------------------------------------------------------------- weeks


def week_phase(week: IsoWeek, tz: str, now: datetime | None = None) -> str:
    """'ahead', 'in progress' or 'over', on the organisation's wall clock."""
    now = now or clock.now()
    first, end = week.bounds(tz)
    if now < first:
        return "ahead"
    return "in progress" if now < end else "over"


def ensure_week_not_over(week: IsoWeek, tz: str, what: str) -> None:
    """Refuse to plan, replan or publish a week that is over, saying what to do instead."""
    if week_phase(week, tz) == "over":
        raise WeekOver(
            f"week {week} is over (it ended {week.sunday:%a %d %b %Y}): it cannot be {what} any more. "
            f"Record what happened instead: `carecal visit confirm --week {week}` for the visits that took "
            "place as published, `carecal visit record VISIT --status ...` for the others"
        )


def first_plannable(week: IsoWeek, tz: str, now: datetime | None = None) -> datetime | None:
    """Where a fresh plan may place new visits from: nowhere before tomorrow in a week in
    progress (today belongs to the visits already published), anywhere in a week ahead."""
    now = now or clock.now()
    if week_phase(week, tz, now) != "in progress":
        return None
    return local(to_local(now, tz).date() + timedelta(days=1), time(0), tz)


# --------------------------------------------------------------------------- visits


def has_started(visit: Visit, now: datetime | None = None) -> bool:
    return visit.starts_at <= (now or clock.now())


def records_by_key(session: Session, roster_week_id: int) -> dict[str, VisitRecord]:
    """request key -> the record of that visit in any version of the week."""
    rows = session.execute(
        select(Visit.request_key, VisitRecord)
        .join(VisitRecord, VisitRecord.visit_id == Visit.id)
        .join(RosterVersion, Visit.version_id == RosterVersion.id)
        .where(RosterVersion.roster_week_id == roster_week_id)
    ).all()
    return {key: record for key, record in rows}


@dataclass(frozen=True)
class History:
    """What of a week a new version must keep: the published visits that have started or
    have an outcome (request key -> visit), their outcomes, and the time that decides it."""

    visits: dict[str, Visit]
    outcomes: dict[str, str]
    now: datetime

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.visits)


def history(session: Session, week: IsoWeek, *, until: datetime | None = None) -> History:
    """The week's history as of now. `until` (default: now) widens it, e.g. to the end of
    today: a fresh plan of a week in progress leaves today as it was published."""
    now = clock.now()
    until = max(until or now, now)
    roster_week = session.scalars(select(RosterWeek).where(RosterWeek.week == str(week))).one_or_none()
    published = roster_week.published if roster_week else None
    if roster_week is None or published is None:
        return History({}, {}, now)
    recorded = records_by_key(session, roster_week.id)
    kept = {
        visit.request_key: visit
        for visit in published.visits
        if visit.starts_at < until or visit.request_key in recorded
    }
    return History(kept, {key: record.status for key, record in recorded.items()}, now)


def _facts(visit: Visit | None) -> tuple | None:
    if visit is None:
        return None
    return visit.volunteer_id, visit.starts_at, visit.ends_at, visit.status


def ensure_publish_keeps_history(session: Session, week: IsoWeek, version: RosterVersion, tz: str) -> None:
    """Publishing `version` must not change a visit that has started or has an outcome, nor
    add one in the past: what happened is not rewritten by a roster."""
    past = history(session, week)
    new = {v.request_key: v for v in version.visits}
    problems = []
    for key, old in sorted(past.visits.items()):
        if _facts(new.get(key)) != _facts(old):
            when = to_local(old.starts_at, tz)
            problems.append(f"{key} ({when:%a %d %b %H:%M}) has already started or has a recorded outcome")
    for key, visit in sorted(new.items()):
        if key not in past.visits and visit.starts_at <= past.now:
            when = to_local(visit.starts_at, tz)
            problems.append(f"{key} would be placed at {when:%a %d %b %H:%M}, which has passed")
    if problems:
        raise Conflict(
            f"version {version.number} of week {week} would change what already happened:\n  - "
            + "\n  - ".join(problems)
            + f"\nReplan from the published version (`carecal roster replan --week {week}`): it keeps the past"
        )


# --------------------------------------------------------------------------- outcomes


def check_outcome(visit: Visit, status: str, started_at: datetime, ended_at: datetime, tz: str) -> list[str]:
    """What is wrong with recording `status` for `visit` now (empty: nothing)."""
    now = clock.now()
    if status in CANCELLATIONS:
        return []  # a cancellation may be recorded in advance
    if visit.starts_at > now:
        return [
            f"visit {visit.id} has not started yet ({to_local(visit.starts_at, tz):%a %d %b %H:%M}): "
            "only a cancellation can be recorded in advance"
        ]
    if status == "delivered" and ended_at > now:
        return [
            f"visit {visit.id} ends at {to_local(ended_at, tz):%H:%M}: record the delivery once it has ended "
            "(or give the real end with --end)"
        ]
    return []


def is_cancelled(record: VisitRecord | None) -> bool:
    return record is not None and record.status in CANCELLATIONS


# --------------------------------------------------------------------------- money


def billable(record: VisitRecord, now: datetime | None = None) -> bool:
    """A record a billing run may bill (when it is not billed yet): a delivery that has ended."""
    return record.status == "delivered" and record.ended_at <= (now or clock.now())


def month_over(month_last_day: date, tz: str) -> bool:
    """Whether the month ending on `month_last_day` is over on the organisation's calendar:
    until then its last visits may still be delivered, so it is billed only in part
    (`--partial`) and not closed."""
    return clock.today(tz) > month_last_day


def ensure_month_over(month_last_day: date, tz: str, month: str) -> None:
    """A month is closed only once it is over: its last visits may still be delivered."""
    if not month_over(month_last_day, tz):
        raise InputError(
            f"month {month} is not over yet (it ends {month_last_day:%d %b %Y}): close it once all its visits are "
            "recorded and billed"
        )


def billed_visit_ids(session: Session, visit_ids: list[int]) -> dict[int, str]:
    """visit id -> invoice number, for the visits among `visit_ids` with an invoice line that
    no credit note has reversed."""
    if not visit_ids:
        return {}
    lines = session.scalars(select(InvoiceLine).where(InvoiceLine.visit_id.in_(visit_ids))).all()
    reversed_ids = {line.corrects_line_id for line in lines if line.corrects_line_id}
    return {
        line.visit_id: line.invoice.number
        for line in lines
        if line.corrects_line_id is None and line.id not in reversed_ids
    }


# --------------------------------------------------------------------------- where a visit stands


@dataclass(frozen=True)
class Stage:
    """Where a visit of a version stands: `stage` is one of STAGES (the furthest reached);
    `outcome` the recorded one (kept when billed or closed), `invoice` its number if billed."""

    stage: str
    outcome: str | None = None
    invoice: str | None = None

    def __str__(self) -> str:
        if self.stage in ("billed", "closed") and self.outcome:
            detail = self.outcome + (f", {self.invoice}" if self.invoice else "")
            return f"{self.stage} ({detail})"
        return self.stage


def stages(session: Session, version: RosterVersion) -> dict[int, Stage]:
    """visit id -> its Stage, for every visit of `version`."""
    # An outcome belongs to the visit (week and request key) in every version, a draft that
    # kept it as history included; without one a visit is as its version is.
    unrecorded = "planned" if version.status == "draft" else "published"
    recorded = records_by_key(session, version.roster_week_id)
    record_visits = [r.visit_id for r in recorded.values()]
    invoices = billed_visit_ids(session, record_visits)
    closed = {m.month for m in session.scalars(select(BillingMonth).where(BillingMonth.closed_at.is_not(None)))}
    result = {}
    for visit in version.visits:
        record = recorded.get(visit.request_key)
        if record is None:
            result[visit.id] = Stage("cancelled" if visit.status == "cancelled" else unrecorded)
            continue
        invoice = invoices.get(record.visit_id)
        if month_key(record.day) in closed:
            result[visit.id] = Stage("closed", record.status, invoice)
        elif invoice:
            result[visit.id] = Stage("billed", record.status, invoice)
        else:
            result[visit.id] = Stage(record.status, record.status)
    return result
