"""One solve in progress: the week, the clock, the best roster so far, progress reports.

The searches (solver.engine, solver.lns, solver.repair) share one `Run`: each offers the
rosters it finds, and only one that is better in the lexicographic order of
solver.objective (and keeps the continuity guard, solver.guard) replaces the best.

Three clocks (`Run.mode`):
- "wall": the time limit is wall-clock time (more than one worker);
- "deterministic": one worker; CP-SAT counts its deterministic time and the ejection search
  its attempts, so a seed always gives the same roster;
- "simulated": the benchmark's model of more cores on one. Time is the CPU time of this
  thread (so it does not depend on what else runs on the machine), Python included; CP-SAT
  runs in this thread with deterministic limits, and the neighbourhood search simulates
  `params.simulated_workers` workers, crediting back the time their neighbourhoods would
  have overlapped (solver.lns).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from solver.candidates import Candidates
from solver.guard import Guard, counts
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
        *,
        workers: int = 1,
        seed: int = 0,
        started_cpu: float | None = None,
        cpu_time: Callable[[], float] = time.thread_time,
    ):
        self.inst, self.cands, self.prefs, self.params = inst, cands, prefs, params
        self.workers, self.seed = workers, seed
        if params.simulated_workers > 0:
            self.mode = "simulated"
        else:
            self.mode = "deterministic" if workers <= 1 else "wall"
        self.time_limit = time_limit  # for the search, counted from `started`
        self.started = time.perf_counter() if started is None else started
        self.cpu_time = cpu_time  # this thread's CPU time (a test may pass a clock of its own)
        self._cpu_started = cpu_time() if started_cpu is None else started_cpu
        self._credit = 0.0  # simulated clock: CPU seconds that parallel workers would have overlapped
        self.search_started = time.perf_counter()  # after reading the week and pruning
        self.on_progress = on_progress
        self.weights: Weights = global_weights(inst, cands)
        self.best: Assignment = {}
        self.best_score: Score | None = None
        self.version = 0  # counts the changes of `best` (what is derived from it is cached per version)
        self.guard: Guard | None = None  # set from the greedy roster (solver.guard)
        self.stats: dict[str, Any] = {}  # what the searches measured, for the roster's stats
        self.cache: dict[str, Any] = {}  # what the searches compute once per solve (nearest volunteers)

    @property
    def deterministic(self) -> bool:
        """CP-SAT limits in deterministic time (one worker, or the simulation)."""
        return self.mode != "wall"

    def elapsed(self) -> float:
        if self.mode == "simulated":
            return self.cpu_time() - self._cpu_started - self._credit
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.time_limit - self.elapsed()

    def advance_to(self, moment: float) -> None:
        """Simulated clock: make elapsed() read `moment` now (the simulated workers finished then)."""
        self._credit += self.elapsed() - moment

    def score(self, assigned: Assignment) -> Score:
        return evaluate(self.inst, self.cands, self.prefs, assigned)

    def acceptable(self, assigned: Assignment) -> bool:
        return self.guard is None or self.guard.allows(counts(self.inst, self.prefs, assigned))

    def offer(self, assigned: Assignment, phase: str) -> bool:
        """Keep `assigned` if it beats the best so far and keeps the guard; report progress."""
        score = self.score(assigned)
        better = self.best_score is None or score.key() > self.best_score.key()
        if better and not self.acceptable(assigned):
            better = False
            self.stats["guard_refusals"] = self.stats.get("guard_refusals", 0) + 1
        if better:
            self.best, self.best_score = dict(assigned), score
            self.version += 1
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
