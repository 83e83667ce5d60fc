"""The continuity guard: covering more never costs the faces clients know.

Two figures of a roster, as the benchmark and a coordinator read them:

- the known share K/H: of the visits to clients who know volunteers (`previous_volunteers`,
  plus last week's volunteers when `previous` is given), the share made by one of them;
- faces per client F/C: distinct volunteers a covered client sees in the week.

The guard takes both from the constructive roster the search starts from (the greedy's) and
refuses any roster whose known share is lower or whose faces per client are higher:
`K*H0 >= K0*H` and `F*C0 <= F0*C` (K0, H0, F0, C0 the greedy's counts), written once, as
the rows of `Guard`. Coverage stays the first thing the search maximises, but only among
rosters that keep both figures. The run refuses such rosters (solver.run), the ejection
chains undo a move that breaks the guard (solver.improve), every CP-SAT model states the two
rows over the whole week (solver.model), so a neighbourhood looks only among rosters that
keep it, and the benchmark's ceiling for such rosters adds them to the LP (solver.bounds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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

    def without(self, assigned: Assignment, requests: Iterable[int]) -> tuple[Counts, set[int]]:
        """The counts of this tally's roster (`assigned`) less the visits of `requests`, and
        the clients of those requests whom other visits of the roster still see."""
        inst, known = self.inst, self.prefs.volunteers
        k, h = self.known, self.with_history
        pairs: Counter[tuple[int, int]] = Counter()
        per_client: Counter[int] = Counter()
        asked = set()
        for r in requests:
            c = inst.requests[r].client
            asked.add(c)
            if r not in assigned:
                continue
            v = assigned[r][0]
            if known[c]:
                h -= 1
                k -= v in known[c]
            pairs[(c, v)] += 1
            per_client[c] += 1
        faces = len(self.pairs) - sum(1 for pair, n in pairs.items() if self.pairs[pair] == n)
        gone = {c for c, n in per_client.items() if self.per_client[c] == n}
        still = {c for c in asked if c in self.per_client and c not in gone}
        return Counts(k, h, faces, len(self.per_client) - len(gone)), still


def counts(inst: Instance, prefs: Preferences, assigned: Assignment) -> Counts:
    return Tally(inst, prefs, assigned).counts()


@dataclass(frozen=True)
class Guard:
    """The two figures of `reference` (the greedy roster's) that no later roster may worsen,
    each as one linear row over a roster's counts, so that every search states the same rule:
    the run and the local searches ask `allows`; the CP-SAT models (solver.model) and the
    benchmark's LP (solver.bounds) write `share` and `faces` as constraints."""

    reference: Counts

    @property
    def share(self) -> tuple[int, int]:
        """(a, b) with a*K - b*H >= 0: the known share no lower, K/H >= K0/H0. A reference
        without visits to clients who know anybody reads 100 %: then K - H >= 0, K == H."""
        ref = self.reference
        return (1, 1) if ref.with_history == 0 else (ref.with_history, ref.known)

    @property
    def faces(self) -> tuple[int, int]:
        """(a, b) with a*F - b*C <= 0: faces per client no higher, F/C <= F0/C0 ((0, 0), no
        limit, when the reference covers nobody)."""
        return self.reference.clients, self.reference.faces

    def allows(self, now: Counts) -> bool:
        return self.share_kept(now) and self.faces_kept(now)

    def share_kept(self, now: Counts) -> bool:
        a, b = self.share
        return a * now.known - b * now.with_history >= 0

    def faces_kept(self, now: Counts) -> bool:
        a, b = self.faces
        return a * now.faces - b * now.clients <= 0
