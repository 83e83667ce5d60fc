"""Upper bounds on priority-weighted coverage, so a roster's quality can be judged.

- From CP-SAT's first stage over the whole week (maximise coverage): its proven bound.
- Without one: every request that has a candidate at all (rules 1-5), which is weak.
"""

from __future__ import annotations

from solver.candidates import Candidates
from solver.instance import Instance


def trivial_bound(inst: Instance, cands: Candidates) -> int:
    return sum(inst.requests[r].priority for r in range(len(inst.requests)) if cands.has_option(r))


def coverage_bound(inst: Instance, cands: Candidates, proven: int | None) -> int:
    trivial = trivial_bound(inst, cands)
    return trivial if proven is None else min(trivial, proven)
