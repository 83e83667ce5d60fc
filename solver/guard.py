"""The continuity guard: covering more never costs the faces clients know.

Two figures of a roster, as the benchmark and a coordinator read them:

- the known share K/H: of the visits to clients who know volunteers (`previous_volunteers`,
  plus last week's volunteers when `previous` is given), the share made by one of them;
- faces per client F/C: distinct volunteers a covered client sees in the week.

The guard takes both from the constructive roster the search starts from (the greedy's) and
refuses any roster whose known share is lower or whose faces per client are higher:
`K*H0 >= K0*H` and `F*C0 <= F0*C` (K0, H0, F0, C0 the greedy's counts). Coverage stays the
first thing the search maximises, but only among rosters that keep both figures. The run
refuses such rosters (solver.run), the ejection chains undo a move that breaks the guard
(solver.improve), and every CP-SAT model states it as two linear constraints over the whole
week (solver.model), so a neighbourhood looks only among rosters that keep it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from solver.instance import Instance
from solver.objective import Preferences

Assignment = dict[int, tuple[int, int]]  # request -> (volunteer, start)


@dataclass(frozen=True)
class Counts:
    known: int  # K: visits to clients who know volunteers, made by one of them
    with_history: int  # H: visits to clients who know volunteers
    faces: int  # F: distinct (client, volunteer) pairs
    clients: int  # C: clients with at least one visit


class Tally:
    """K, H, F and C of a roster, kept up to date visit by visit."""

    def __init__(self, inst: Instance, prefs: Preferences, assigned: Assignment | None = None):
        self.inst, self.prefs = inst, prefs
        self.known = self.with_history = 0
        self.pairs: Counter[tuple[int, int]] = Counter()
        self.per_client: Counter[int] = Counter()
        for r, (v, _) in (assigned or {}).items():
            self.add(r, v)

    def add(self, r: int, v: int, sign: int = 1) -> None:
        c = self.inst.requests[r].client
        known = self.prefs.volunteers[c]
        if known:
            self.with_history += sign
            self.known += sign * (v in known)
        self.pairs[(c, v)] += sign
        self.per_client[c] += sign
        if self.pairs[(c, v)] == 0:
            del self.pairs[(c, v)]
        if self.per_client[c] == 0:
            del self.per_client[c]

    def remove(self, r: int, v: int) -> None:
        self.add(r, v, -1)

    def counts(self) -> Counts:
        return Counts(self.known, self.with_history, len(self.pairs), len(self.per_client))


def counts(inst: Instance, prefs: Preferences, assigned: Assignment) -> Counts:
    return Tally(inst, prefs, assigned).counts()


@dataclass(frozen=True)
class Guard:
    reference: Counts  # the greedy roster's

    def allows(self, now: Counts) -> bool:
        return self.share_kept(now) and self.faces_kept(now)

    def share_kept(self, now: Counts) -> bool:
        ref = self.reference
        if ref.with_history == 0:
            return now.known == now.with_history  # the reference's share reads 100 %
        return now.known * ref.with_history >= ref.known * now.with_history

    def faces_kept(self, now: Counts) -> bool:
        ref = self.reference
        return ref.clients == 0 or now.faces * ref.clients <= ref.faces * now.clients
