"""Replanning a week after a change, moving only what the change touches.

Every assignment of the base roster that still holds under the new instance (its volunteer
is still a candidate at that start, and it keeps rules 6-8 and 10 with what is kept before
it) stays exactly as it was; pins hold as always. Only the freed requests and those that
were uncovered are re-solved, in a small CP-SAT model with everything kept held fixed.
Requests on `hold` (the application's 48-hour rule) are never handed to a new volunteer:
they stay uncovered with a reason unless the base roster keeps them, and they never move.

Rescue (`max_moves` > 0): before that model, each freed request is re-covered where
possible by moving at most `max_moves` other visits (an ejection chain: the freed visit
takes another's place, which goes elsewhere, possibly ejecting one more). Held visits and
pins never move, nor does a visit moved once already. Every move is listed, so that the
coordinator can tell the volunteers concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solver.greedy import greedy_fill
from solver.improve import Budget, insert, place
from solver.model import SubProblem, WeekModel
from solver.run import Assignment, Run
from solver.schedule import Schedule

ON_HOLD = "on hold: the visit is too close to move to another volunteer; offer it instead of assigning it"


RESCUE_ATTEMPTS = 20_000  # placement attempts the rescue may spend (deterministic)


@dataclass
class RepairOutcome:
    stats: dict[str, Any]
    reasons: dict[int, list[str]]


@dataclass(frozen=True)
class Move:
    """Visit `request` moved from `before` to `after` (volunteer, start) to rescue `rescued`."""

    request: int
    rescued: int
    before: tuple[int, int]
    after: tuple[int, int]


def rescue(run: Run, kept: Schedule, freed: list[int], frozen: set[int], max_moves: int) -> list[Move]:
    """Re-cover freed requests in `kept` (changed in place), each by moving at most
    `max_moves` visits not in `frozen`; returns the moves made."""
    inst, cands = run.inst, run.cands
    budget = Budget(None, RESCUE_ATTEMPTS)
    moves: list[Move] = []
    order = sorted(
        freed,
        key=lambda r: (-inst.requests[r].priority, len(cands.volunteers_of[r]), r),
    )
    for r in order:
        if r in kept.assigned or not cands.volunteers_of[r]:
            continue
        if insert(kept, run.prefs, r):
            continue
        before = dict(kept.assigned)
        fixed = frozen | {m.request for m in moves} | set(freed)
        if place(
            kept,
            run.prefs,
            fixed,
            r,
            max_moves,
            run.params.ejection_candidates,
            set(),
            budget,
            run.params,
        ):
            moved = sorted(q for q, a in kept.assigned.items() if q != r and before.get(q) != a)
            moves.extend(Move(q, r, before[q], kept.assigned[q]) for q in moved)
        if budget.spent():
            break
    return moves


def still_holds(run: Run, schedule: Schedule, r: int, v: int, s: int) -> bool:
    """Rules 1-5 (the candidate options) and 6-8 and 10 (against what is kept so far)."""
    day = run.inst.clock.day_of(s)
    return (
        v in run.cands.volunteers_of[r]
        and any(o.day == day and s in o.starts for o in run.cands.options_for(r, v))
        and schedule.fits(r, v, s)
    )


def repair(
    run: Run,
    base: Assignment,
    pins: Assignment,
    hold: set[str],
    max_moves: int = 0,
) -> RepairOutcome:
    inst, cands = run.inst, run.cands
    kept = Schedule.holding(inst, cands, pins)
    for r, (v, s) in sorted(base.items(), key=lambda item: item[1][1]):
        if r not in kept.assigned and still_holds(run, kept, r, v, s):
            kept.add(r, v, s)
    freed = [r for r in base if r not in kept.assigned]
    held = {inst.request_index[h] for h in hold if h in inst.request_index}
    reasons = {r: [ON_HOLD] for r in freed if r in held}
    moves: list[Move] = []
    if max_moves > 0:
        moves = rescue(run, kept, [r for r in freed if r not in held], held | set(pins), max_moves)
    fixed = dict(kept.assigned)
    free = [r for r in range(len(inst.requests)) if r not in fixed and r not in held and cands.volunteers_of[r]]
    run.offer(fixed, "repair")

    warm = kept.copy()
    greedy_fill(warm, run.prefs, free)
    hint = {r: warm.assigned[r] for r in free if r in warm.assigned}
    run.offer(warm.assigned, "repair")
    status, solve_seconds = "FEASIBLE", 0.0
    if free:
        model = WeekModel(cands, run.prefs, SubProblem(free=free, fixed=fixed, hint=hint), run.params)
        limit = min(run.params.repair_seconds, max(0.1, run.remaining()))
        outcome = model.solve(limit, run.workers, run.seed, run.deterministic)
        solve_seconds = outcome.seconds
        if outcome.status in ("OPTIMAL", "FEASIBLE"):
            run.offer({**fixed, **outcome.assigned}, "repair")
            status = outcome.status
    changed = sum(1 for r, a in base.items() if run.best.get(r) != a)
    clock = inst.clock

    def visit(a: tuple[int, int]) -> dict[str, str]:
        return {"volunteer": inst.volunteers[a[0]].id, "start": clock.iso(a[1])}

    stats = {
        "repair_status": status,
        "repair_solve_seconds": round(solve_seconds, 3),
        "kept": len([r for r in base if r in fixed]),
        "freed": len(freed),
        "rescued": sum(1 for r in freed if r in run.best),
        "moved": len(moves),
        "moves": [
            {
                "request": inst.requests[m.request].id,
                "for": inst.requests[m.rescued].id,
                "from": visit(m.before),
                "to": visit(m.after),
            }
            for m in moves
        ],
        "changed": changed,
    }
    return RepairOutcome(stats, reasons)
