"""What changed between two versions of a week, and why.

Visits are matched by request key ('c017-2#1'), which stays the same across versions. For
each change the cause is looked up where a coordinator would look: an override (pin,
unassign, absence, client away, forbid), a volunteer who may no longer be scheduled, or
else the solver's own reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import organisation
from carecal.errors import InputError
from carecal.models import Absence, ClientAway, Exclusion, Override, RosterVersion, Visit
from carecal.roster.overrides import describe
from carecal.roster.versions import get_version
from carecal.weeks import IsoWeek, to_local


@dataclass(frozen=True)
class Slot:
    volunteer: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class Change:
    request: str
    client: str
    kind: str  # moved (other volunteer), retimed (same volunteer), added, dropped
    before: Slot | None
    after: Slot | None
    why: list[str] = field(default_factory=list)


@dataclass
class Diff:
    week: IsoWeek
    old: RosterVersion
    new: RosterVersion
    changes: list[Change]
    unchanged: int


def _slots(version: RosterVersion) -> dict[str, tuple[Visit, Slot]]:
    return {
        v.request_key: (v, Slot(v.volunteer.external_id, v.starts_at, v.ends_at))
        for v in version.visits
        if v.status == "planned"
    }


def default_pair(session: Session, week: IsoWeek) -> tuple[int, int]:
    """The latest version against what it was replanned from, else the published one, else
    the version before it."""
    latest = get_version(session, week)
    if latest.based_on:
        return latest.based_on, latest.number
    published = latest.roster_week.published
    if published is not None and published.number != latest.number:
        return published.number, latest.number
    if latest.number == 1:
        raise InputError(f"week {week} has only one version: nothing to compare")
    return latest.number - 1, latest.number


def diff(session: Session, week: IsoWeek, old_number: int | None = None, new_number: int | None = None) -> Diff:
    if old_number is None or new_number is None:
        default_old, default_new = default_pair(session, week)
        old_number = default_old if old_number is None else old_number
        new_number = default_new if new_number is None else new_number
    old, new = get_version(session, week, old_number), get_version(session, week, new_number)
    before, after = _slots(old), _slots(new)
    causes = Causes(session, week, old, new)
    changes, unchanged = [], 0
    for key in sorted(before.keys() | after.keys()):
        b, a = before.get(key), after.get(key)
        if b and a and b[1] == a[1]:
            unchanged += 1
            continue
        if b and a:
            kind = "moved" if b[1].volunteer != a[1].volunteer else "retimed"
        else:
            kind = "dropped" if b else "added"
        visit = a[0] if a else b[0] if b else None
        assert visit is not None  # the key came from one of the two
        change = Change(key, visit.client.external_id, kind, b[1] if b else None, a[1] if a else None)
        change.why = causes.of(change, visit, b[0] if b else None)
        changes.append(change)
    return Diff(week, old, new, changes, unchanged)


class Causes:
    """Finds the coordinator's decisions (and other facts) behind a change."""

    def __init__(self, session: Session, week: IsoWeek, old: RosterVersion, new: RosterVersion):
        self.tz = organisation.timezone(session)
        self.week = week
        self.session = session
        self.new = new
        self.scheduled = {v["id"] for v in (new.instance or {}).get("volunteers", [])}
        self.notes = (new.stats or {}).get("notes", [])
        self.unassigned = {u.request_key: u.reasons for u in new.unassigned}
        self.needs_substitute = set((new.stats or {}).get("needs_substitute", []))
        # the replan's rescue: a visit moved so that a freed one is covered again
        self.moved_for = {m["request"]: m["for"] for m in (new.stats or {}).get("solver", {}).get("moves", [])}
        self.old_unassigned = {u.request_key: u.reasons for u in old.unassigned}
        self.week_overrides = {
            (o.kind, o.request_key): o
            for o in session.scalars(select(Override).where(Override.week == str(week), Override.removed_at.is_(None)))
        }
        lo, hi = sorted((old.created_at, new.created_at))
        self.removed = list(
            session.scalars(
                select(Override).where(
                    Override.removed_at.is_not(None), Override.removed_at > lo, Override.removed_at <= hi
                )
            )
        )

    def _override_text(self, override_id: int | None, fallback: str) -> str:
        override = self.session.get(Override, override_id) if override_id else None
        if override is None:
            return fallback
        return f"{describe(override, self.tz)} (override #{override.id} by {override.actor}: {override.reason})"

    def of(self, change: Change, visit: Visit, before: Visit | None) -> list[str]:
        why: list[str] = []
        pin = self.week_overrides.get(("pin", change.request))
        if pin is not None and change.after is not None:
            why.append(self._override_text(pin.id, "pinned"))
        unassign = self.week_overrides.get(("unassign", change.request))
        if unassign is not None and change.after is None:
            why.append(self._override_text(unassign.id, "unassigned"))
        if before is not None and change.before is not None:
            why.extend(self._why_not_before(change.before, before))
        for override in self.removed:
            if (
                override.request_key == change.request
                or (override.client_id == visit.client_id and override.kind in ("client_away", "forbid"))
                or (change.before and override.volunteer and override.volunteer.external_id == change.before.volunteer)
                or (change.after and override.volunteer and override.volunteer.external_id == change.after.volunteer)
            ):
                why.append(f"override #{override.id} ({describe(override, self.tz)}) removed by {override.removed_by}")
        if change.request in self.moved_for and change.after is not None:
            why.append(f"moved to re-cover {self.moved_for[change.request]}")
        if change.request in self.needs_substitute and change.after is None:
            why.append(
                "needs a substitute: starts within 48 hours, so it is offered, not reassigned "
                "(`carecal roster suggest`)"
            )
        if not why:
            if change.after is None:
                why.extend(self.unassigned.get(change.request, ["not covered in the new version"]))
            elif change.before is None:
                was = self.old_unassigned.get(change.request)
                why.append("newly covered" + (f" (was uncovered: {'; '.join(was)})" if was else ""))
            else:
                why.append("re-optimised by the solver (no override touches it)")
        return why

    def _why_not_before(self, slot: Slot, visit: Visit) -> list[str]:
        """Why the old volunteer cannot (or should not) keep the old slot now."""
        why: list[str] = []
        volunteer = slot.volunteer
        if volunteer not in self.scheduled:
            why.extend(n for n in self.notes if n.startswith(f"volunteer {volunteer} "))
            if not why:
                why.append(f"volunteer {volunteer} is no longer scheduled")
        for a in self.session.scalars(
            select(Absence).where(
                Absence.volunteer_id == visit.volunteer_id,
                Absence.starts_at < slot.ends_at,
                Absence.ends_at > slot.starts_at,
            )
        ):
            why.append(self._override_text(a.override_id, f"{volunteer} absent (recorded absence)"))
        for away in self.session.scalars(
            select(ClientAway).where(
                ClientAway.client_id == visit.client_id,
                ClientAway.starts_at < slot.ends_at,
                ClientAway.ends_at > slot.starts_at,
            )
        ):
            why.append(self._override_text(away.override_id, "the client is away (recorded)"))
        for e in self.session.scalars(
            select(Exclusion).where(
                Exclusion.client_id == visit.client_id, Exclusion.volunteer_id == visit.volunteer_id
            )
        ):
            if e.applies_on(self.week.monday):
                why.append(self._override_text(e.override_id, f"{volunteer} must not visit this client ({e.kind})"))
        return why


def local_slot(slot: Slot | None, tz: str) -> str:
    if slot is None:
        return "—"
    start, end = to_local(slot.starts_at, tz), to_local(slot.ends_at, tz)
    return f"{slot.volunteer} {start:%a %d %b %H:%M}–{end:%H:%M}"
