"""What happened at each visit: confirm a week, record one visit, keep every change.

A record is made for a visit of the published roster and is a fact from then on: when
the week is replanned later, the new version's visit with the same request key
('c017-2#1') is the same real visit and shares the record, so it is never recorded or
billed twice. Every change writes a history row (state, who, when, why) and an audit
event; a record in a closed month cannot change.
"""

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit, clock, lifecycle, organisation, periods, privacy
from carecal.billing import billed
from carecal.errors import CarecalError, Conflict, InputError, NotFound
from carecal.models import (
    Activity,
    InvoiceLine,
    RosterVersion,
    RosterWeek,
    Visit,
    VisitRecord,
    VisitRecordChange,
)
from carecal.models.billing import RECORD_STATUSES, SIGNATURES
from carecal.weeks import IsoWeek, local, to_local


def published_visits(session: Session, week: IsoWeek) -> list[Visit]:
    roster_week = session.scalars(select(RosterWeek).where(RosterWeek.week == str(week))).one_or_none()
    version = roster_week.published if roster_week else None
    if version is None:
        raise NotFound(f"week {week} has no published roster")
    return list(version.visits)


def record_of(session: Session, visit: Visit) -> VisitRecord | None:
    """The record of this visit, or of the same visit (week and request key) in another
    version of the week's roster."""
    same_visit = (
        select(Visit.id)
        .join(RosterVersion, Visit.version_id == RosterVersion.id)
        .where(RosterVersion.roster_week_id == visit.version.roster_week_id, Visit.request_key == visit.request_key)
    )
    return session.scalars(select(VisitRecord).where(VisitRecord.visit_id.in_(same_visit))).first()


def billed_line(session: Session, visit_id: int) -> InvoiceLine | None:
    """One of the visit's invoice lines that no credit note has reversed, if any."""
    return next(iter(billed.live_lines(session, [visit_id]).get(visit_id, [])), None)


def snapshot(record: VisitRecord, tz: str) -> dict:
    return {
        "status": record.status,
        "start": to_local(record.started_at, tz).strftime("%H:%M"),
        "end": to_local(record.ended_at, tz).strftime("%H:%M"),
        "activity": record.activity_key,  # a catalogue key; the office's note stays out of the audit log
        "signature": record.signature,
        "signature_reason": record.signature_reason,
    }


def _write_history(
    session: Session, record: VisitRecord, actor: str, reason: str | None, tz: str, action: str, at: datetime
) -> None:
    state = snapshot(record, tz)
    record.changes.append(VisitRecordChange(actor=actor, reason=reason, state=state, at=at))
    # The record belongs to the visit it was made for (`record.visit`, flushed or not).
    visit_id = record.visit.id if record.visit is not None else record.visit_id
    audit.record(
        session,
        actor,
        action,
        object_type="visit",
        object_id=visit_id,
        visit=visit_id,
        reason=reason,
        **state,
    )


def history(session: Session, visit_id: int) -> list[dict]:
    """Every recorded state of a visit, oldest first: when (local time), who, why, and the
    record's fields after that change."""
    record = session.scalars(select(VisitRecord).where(VisitRecord.visit_id == visit_id)).first()
    if record is None:
        raise CarecalError(f"visit {visit_id} has no record yet")
    tz = organisation.require(session).timezone
    return [
        {"at": to_local(change.at, tz), "actor": change.actor, "reason": change.reason, "state": change.state}
        for change in record.changes
    ]


def default_signature(visit: Visit) -> str:
    """Who usually signs: the representative where one is on file, else the client."""
    return "representative" if visit.client.representative_name else "client"


@dataclass
class ConfirmResult:
    confirmed: list[VisitRecord] = field(default_factory=list)
    already_recorded: int = 0
    not_ended: int = 0
    cancelled_in_roster: int = 0
    in_closed_month: int = 0


def confirm_week(session: Session, week: IsoWeek, actor: str) -> ConfirmResult:
    """Mark every published visit of the week that has ended and has no record yet as
    delivered, as planned. Visits already recorded keep what was recorded. A week that
    has not begun has nothing to confirm: that is refused."""
    now = clock.now()
    tz = organisation.require(session).timezone
    if lifecycle.week_phase(week, tz, now) == "ahead":
        raise InputError(
            f"week {week} has not begun yet (it starts {week.monday:%a %d %b %Y}): "
            "confirm its visits once they have taken place; a cancellation can be recorded now "
            "with `carecal visit record VISIT --status cancelled-by-client`"
        )
    result = ConfirmResult()
    for visit in published_visits(session, week):
        if visit.status == "cancelled":
            result.cancelled_in_roster += 1
            continue
        if record_of(session, visit) is not None:
            result.already_recorded += 1
            continue
        if visit.ends_at > now:
            result.not_ended += 1
            continue
        day = to_local(visit.starts_at, tz).date()
        if periods.is_closed(session, day):
            result.in_closed_month += 1  # a week across a month's end: the closed part stays as it is
            continue
        record = VisitRecord(
            visit=visit,
            day=day,
            status="delivered",
            started_at=visit.starts_at,
            ended_at=visit.ends_at,
            activity_key=visit.care_request.activity_key,
            signature=default_signature(visit),
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
            reason="confirmed with the week",
        )
        session.add(record)
        _write_history(session, record, actor, record.reason, tz, "visit.confirm", now)
        result.confirmed.append(record)
    session.flush()
    return result


def record_visit(
    session: Session,
    visit_id: int,
    actor: str,
    *,
    status: str,
    start: time | None = None,
    end: time | None = None,
    activity: str | None = None,
    note: str | None = None,
    signature: str | None = None,
    signature_reason: str | None = None,
    reason: str | None = None,
) -> VisitRecord:
    """Record (or change) what happened at one visit. A change needs a reason. `activity`
    is a key of the activity catalogue (default: the request's); `note` the office's own
    words, which stay in the office."""
    now = clock.now()
    problems = []
    if status not in RECORD_STATUSES:
        problems.append(f"--status {status!r}: use one of {', '.join(RECORD_STATUSES)}")
    if signature is not None and signature not in SIGNATURES:
        problems.append(f"--signature {signature!r}: use one of {', '.join(SIGNATURES)}")
    if activity is not None and session.scalars(select(Activity.key).where(Activity.key == activity)).first() is None:
        known = ", ".join(session.scalars(select(Activity.key).order_by(Activity.key))) or "none"
        shown = privacy.hidden_value("--activity", activity) or repr(activity)
        problems.append(f"--activity {shown} is not a key of the activity catalogue ({known})")
    if problems:
        raise InputError(f"cannot record visit {visit_id}", problems)

    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"no visit {visit_id}")
    version = visit.version
    if version.status != "published":
        raise Conflict(f"visit {visit_id} belongs to a {version.status} roster version; record the published one")
    if visit.status == "cancelled":
        raise Conflict(f"visit {visit_id} was cancelled in the roster")
    tz = organisation.require(session).timezone
    day = to_local(visit.starts_at, tz).date()
    periods.ensure_open(session, day, f"visit {visit_id}")

    record = record_of(session, visit)
    if record is not None:
        if not reason:
            raise InputError(f"visit {visit_id} is already recorded: say why it changes (--reason)")
        line = billed_line(session, record.visit_id)
        if line is not None:
            raise Conflict(
                f"visit {record.visit_id} is billed on invoice {line.invoice.number}: "
                f"issue a credit note first (`carecal billing credit {line.invoice.number}`)"
            )

    started_at = local(day, start, tz) if start else (record.started_at if record else visit.starts_at)
    ended_at = local(day, end, tz) if end else (record.ended_at if record else visit.ends_at)
    if ended_at <= started_at:
        problems.append(f"end {to_local(ended_at, tz):%H:%M} is not after start {to_local(started_at, tz):%H:%M}")
    problems += lifecycle.check_outcome(visit, status, started_at, ended_at, tz)
    if status == "delivered":
        signature = signature or (record.signature if record and record.signature else default_signature(visit))
        if signature == "none" and not (signature_reason or (record and record.signature_reason)):
            problems.append("--signature none needs --signature-reason (why nobody signed)")
    elif signature or signature_reason:
        problems.append(f"a signature belongs to a delivered visit, not to {status}")
    if problems:
        raise InputError(f"cannot record visit {visit_id}", problems)

    values = {
        "status": status,
        "started_at": started_at,
        "ended_at": ended_at,
        "activity_key": activity or (record.activity_key if record else visit.care_request.activity_key),
        "note": note if note is not None else (record.note if record else None),
        "signature": signature if status == "delivered" else None,
        "signature_reason": (signature_reason or (record.signature_reason if record else None))
        if signature == "none"
        else None,
        "reason": reason,
        "updated_by": actor,
        "updated_at": now,
    }
    if record is None:
        record = VisitRecord(visit=visit, day=day, created_by=actor, created_at=now, **values)
        session.add(record)
        action = "visit.record"
    else:
        for name, value in values.items():
            setattr(record, name, value)
        action = "visit.record.change"
    _write_history(session, record, actor, reason, tz, action, now)
    session.flush()
    return record
