"""Plan and replan a week: read, solve outside any transaction, store in one transaction.

A solve takes seconds; holding a write transaction that long would block colleagues, and a
crash or Ctrl-C in the middle must leave every stored version as it was. So a plan is three
steps: `prepare_*` reads what the solver needs (and the week's revision), `solve_week` is pure,
and `versions.store_version` writes everything at once, or nothing when the week changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import solver
from carecal import clock, lifecycle, organisation
from carecal.errors import InputError
from carecal.instance import build_instance, roster_document
from carecal.models import Visit
from carecal.roster.versions import SolvedWeek, get_version, revision_of
from carecal.weeks import IsoWeek

# Visits starting this soon are never handed to another volunteer by a replan (docs/roster.md:
# reassignment at short notice feels like coercion; offer, don't impose).
HOLD_HOURS = 48
# A replan may move this many other visits to re-cover each freed one (`--no-moves`: none).
RESCUE_MOVES = 2


def _minutes_used(kept: lifecycle.History) -> dict[str, int]:
    """What the kept visits take of each volunteer's week (a cancelled one takes nothing)."""
    used: Counter[str] = Counter()
    for key, visit in kept.visits.items():
        if visit.status == "planned" and kept.outcomes.get(key) not in lifecycle.CANCELLATIONS:
            used[visit.volunteer.external_id] += int((visit.ends_at - visit.starts_at).total_seconds() // 60)
    return dict(used)


def _loaded(visits) -> tuple[Visit, ...]:
    """The kept visits with what the summary reads of them loaded now: it is printed after
    this session has closed."""
    for visit in visits:
        _ = visit.volunteer.external_id, visit.care_request.priority
    return tuple(visits)


def prepare_plan(session: Session, week: IsoWeek) -> SolvedWeek:
    """Everything a fresh plan of `week` needs; `roster` is filled in by `solve_week`.

    In a week in progress the past and the rest of today stay as they were published
    (carried over as they are) and new visits are placed from tomorrow on."""
    read_at = clock.now()
    tz = organisation.timezone(session)
    lifecycle.ensure_week_not_over(week, tz, "planned")
    not_before = lifecycle.first_plannable(week, tz)
    kept = lifecycle.history(session, week, until=not_before)
    build = build_instance(session, week, not_before=not_before, leave_out=kept.keys, minutes_used=_minutes_used(kept))
    return SolvedWeek(
        build=build,
        roster={},
        seen_revision=revision_of(session, week),
        read_at=read_at,
        kept=_loaded(kept.visits.values()),
    )


def prepare_replan(session: Session, week: IsoWeek, *, from_version: int | None = None) -> SolvedWeek:
    """A repair of the week's latest version (or `from_version`) under today's overrides.
    What has started or has an outcome is history and stays as it is."""
    read_at = clock.now()
    tz = organisation.timezone(session)
    lifecycle.ensure_week_not_over(week, tz, "replanned")
    base_version = get_version(session, week, from_version)
    base = roster_document(base_version)
    kept = lifecycle.history(session, week)
    cutoff = read_at + timedelta(hours=HOLD_HOURS)
    # Held: what starts soon, and what already waits for a substitute (until the coordinator
    # pins or unassigns it, a later replan must not quietly give it to someone else either).
    soon = {a["request"] for a in base["assignments"] if datetime.fromisoformat(a["start"]) < cutoff}
    hold = tuple(sorted((soon | set((base_version.stats or {}).get("needs_substitute", []))) - kept.keys))
    cancelled = {v.request_key: v for v in base_version.visits if v.status == "cancelled"}
    carried = {**cancelled, **kept.visits}
    build = build_instance(
        session,
        week,
        not_before=cutoff,
        keep_windows=frozenset(hold),
        leave_out=frozenset(carried),
        minutes_used=_minutes_used(kept),
    )
    _keep_real_reasons(build, base_version)
    return SolvedWeek(
        build=build,
        roster={},
        seen_revision=base_version.roster_week.revision,
        based_on=base_version.number,
        hold=hold,
        base=base,
        kept=_loaded(carried.values()),
        read_at=read_at,
    )


def _keep_real_reasons(build, base_version) -> None:
    """A request that was uncovered before keeps the reasons it had: that its windows are
    now too close (or past) is the lesser news."""
    before = {u.request_key: list(u.reasons) for u in base_version.unassigned}
    for key, reasons in build.blocked.items():
        if key in before and reasons and reasons[0].startswith("no window left after"):
            build.blocked[key] = before[key] + [r for r in reasons if r not in before[key]]


def solve_week(
    prepared: SolvedWeek,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    max_moves: int = RESCUE_MOVES,
    on_progress: Callable[[dict], None] | None = None,
) -> SolvedWeek:
    """Run the solver (pure; no database). Pins the solver finds impossible become an
    InputError naming the overrides to fix. In a replan, each visit an override freed may be
    re-covered by moving up to `max_moves` other visits (none within 48 hours; 0: none)."""
    try:
        prepared.roster = solver.solve(
            prepared.build.document,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            previous=prepared.build.previous,
            base=prepared.base,
            hold=prepared.hold,
            max_moves=max_moves,
            on_progress=on_progress,
        )
    except solver.InstanceError as error:
        raise InputError(
            f"the week {prepared.build.week} cannot be solved as it stands", _explain_instance_errors(prepared, error)
        ) from None
    return prepared


def _explain_instance_errors(prepared: SolvedWeek, error: solver.InstanceError) -> list[str]:
    pins = prepared.build.document.get("pins", [])
    problems = []
    for path, reason in error.errors:
        text = f"{path}: {reason}"
        if path.startswith("$.pins["):
            index = int(path[len("$.pins[") :].split("]")[0])
            if index < len(pins):
                key = pins[index]["request"]
                override = prepared.build.pin_overrides.get(key)
                text = (
                    f"pin override #{override} ({key} → {pins[index]['volunteer']}) cannot hold: {reason}; "
                    f"remove it with `carecal override remove {override}`"
                )
        problems.append(text)
    return problems


def summary(prepared: SolvedWeek) -> dict:
    """Coverage and each volunteer's load of a solved week, for the printed summary. The
    visits it kept as they were (history) count as covered and as load."""
    roster, instance, kept = prepared.roster, prepared.build.document, prepared.kept
    priority = {r["id"]: r.get("priority", 1) for c in instance["clients"] for r in c["requests"]}
    covered = [a["request"] for a in roster["assignments"]]
    minutes: dict[str, int] = {}
    visits: dict[str, int] = {}
    lengths = [
        (a["volunteer"], datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"]))
        for a in roster["assignments"]
    ]
    for visit in kept:
        priority.setdefault(visit.request_key, visit.care_request.priority)
        if visit.status == "planned":
            covered.append(visit.request_key)
            lengths.append((visit.volunteer.external_id, visit.starts_at, visit.ends_at))
    for volunteer, start, end in lengths:
        minutes[volunteer] = minutes.get(volunteer, 0) + int((end - start).total_seconds() // 60)
        visits[volunteer] = visits.get(volunteer, 0) + 1
    used = prepared.build.minutes_used  # what the kept visits took off each maximum before solving
    total_weight = sum(priority.values()) or 1
    return {
        "requests": len(priority),
        "covered": len(covered),
        "coverage_percent": round(100 * len(covered) / (len(priority) or 1), 1),
        "weighted_coverage_percent": round(100 * sum(priority.get(k, 1) for k in covered) / total_weight, 1),
        "load": [
            {
                "volunteer": v["id"],
                "visits": visits.get(v["id"], 0),
                "minutes": minutes.get(v["id"], 0),
                "max_minutes": v["max_minutes_per_week"] + used.get(v["id"], 0),
            }
            for v in instance["volunteers"]
        ],
    }


def moves_in_words(roster: dict) -> list[str]:
    """The visits a replan moved to re-cover freed ones, one line each, for the coordinator
    to tell the volunteers concerned."""

    def when(visit: dict) -> str:
        start = datetime.fromisoformat(visit["start"])
        return f"{visit['volunteer']} {start:%a %d.%m. %H:%M}"

    return [
        f"{m['request']}: {when(m['from'])} → {when(m['to'])} (to re-cover {m['for']})"
        for m in roster.get("stats", {}).get("moves", [])
    ]
