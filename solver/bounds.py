"""Upper bounds on priority-weighted coverage, so a roster's quality can be judged.

- From a CP-SAT model of the whole week: its objective bound B with the weights of
  solver.objective gives coverage <= ceil(B / W1), since the lower tiers together weigh
  less than W1 (see the dominance argument there).
- Without one: every request that has a candidate at all (rules 1-5), which is weak.
"""

from __future__ import annotations

import math

from solver.candidates import Candidates
from solver.instance import Instance
from solver.objective import Weights


def trivial_bound(inst: Instance, cands: Candidates) -> int:
    return sum(inst.requests[r].priority for r in range(len(inst.requests)) if cands.options[r])


def coverage_bound(inst: Instance, cands: Candidates, model_bound: float | None, weights: Weights) -> int:
    trivial = trivial_bound(inst, cands)
    if model_bound is None or not math.isfinite(model_bound):
        return trivial
    return min(trivial, math.ceil(model_bound / weights.coverage - 1e-9))
