"""One solve in progress: the week, the clock, the best roster so far, progress reports.

The searches (solver.engine, solver.lns, solver.repair) share one `Run`: each offers the
rosters it finds, and only one that is better in the lexicographic order of
solver.objective replaces the best.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from solver.candidates import Candidates
from solver.instance import Instance
from solver.objective import Preferences, Score, Weights, evaluate, global_weights
from solver.params import SearchParams

Assignment = dict[int, tuple[int, int]]  # request -> (volunteer, start)
Progress = Callable[[dict[str, Any]], None]


class Run:
    def __init__(
        self,
        inst: Instance,
        cands: Candidates,
        prefs: Preferences,
        time_limit: float,
        params: SearchParams,
        on_progress: Progress | None = None,
        started: float | None = None,
    ):
        self.inst, self.cands, self.prefs, self.params = inst, cands, prefs, params
        self.time_limit = time_limit  # for the search, counted from `started`
        self.started = time.perf_counter() if started is None else started
        self.search_started = time.perf_counter()  # after reading the week and pruning
        self.on_progress = on_progress
        self.weights: Weights = global_weights(inst, cands)
        self.best: Assignment = {}
        self.best_score: Score | None = None
        self.stats: dict[str, Any] = {}  # what the searches measured, for the roster's stats

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.time_limit - self.elapsed()

    def score(self, assigned: Assignment) -> Score:
        return evaluate(self.inst, self.cands, self.prefs, assigned)

    def offer(self, assigned: Assignment, phase: str) -> bool:
        """Keep `assigned` if it beats the best so far; report progress either way."""
        score = self.score(assigned)
        better = self.best_score is None or score.key() > self.best_score.key()
        if better:
            self.best, self.best_score = dict(assigned), score
        self.report(phase)
        return better

    def report(self, phase: str) -> None:
        if self.on_progress is not None and self.best_score is not None:
            self.on_progress(
                {
                    "phase": phase,
                    "elapsed": round(self.elapsed(), 3),
                    "time_limit": self.time_limit,
                    "covered": len(self.best),
                    "requests": len(self.inst.requests),
                    "objective": self.best_score.combined(self.weights),
                }
            )
