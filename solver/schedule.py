"""A roster under construction: who visits whom when, and which of rules 6-8 and 10 (solver.rules)
one more visit would break.

Used by the greedy heuristic, the ejection search, repair (which keeps what still fits) and
the reasons (which ask *why* a candidate cannot take a request any more).
"""

from __future__ import annotations

from collections import defaultdict

from solver.candidates import Candidates
from solver.instance import Instance
from solver.rules import Conflict, conflict, day_allows


class Schedule:
    def __init__(self, inst: Instance, cands: Candidates):
        self.inst = inst
        self.cands = cands
        self.assigned: dict[int, tuple[int, int]] = {}  # request -> (volunteer, start)
        self.minutes = [0] * len(inst.volunteers)
        self.capacity = [v.max_minutes_per_week for v in inst.volunteers]
        # (volunteer, day) -> [(start, end, client, request)], sorted
        self.visits: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
        self.client_visits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # client -> (start, end, request)
        self.client_day: dict[tuple[int, int], int] = defaultdict(int)  # (client, day) -> visits (rule 10)
        # while not None: every add (+1) and remove (-1) as (sign, request, volunteer, start), so
        # that a search can look at what a move changed and take it back (undo)
        self.journal: list[tuple[int, int, int, int]] | None = None

    @classmethod
    def holding(cls, inst: Instance, cands: Candidates, assigned: dict[int, tuple[int, int]]) -> Schedule:
        """A schedule with these visits (request -> (volunteer, start)), added in this order."""
        schedule = cls(inst, cands)
        for r, (v, s) in assigned.items():
            schedule.add(r, v, s)
        return schedule

    def copy(self) -> Schedule:
        return Schedule.holding(self.inst, self.cands, self.assigned)

    def day_of(self, start: int) -> int:
        return self.inst.clock.day_of(start)

    def client_day_full(self, c: int, day: int) -> bool:
        """Rule 10: the client already has as many visits that day as they take."""
        return not day_allows(self.client_day.get((c, day), 0), self.inst.clients[c].max_visits_per_day)

    def conflict(self, r: int, v: int, s: int) -> Conflict | None:
        """Which of rules 6-8 and 10 volunteer v taking request r at s would break now (None: fits)."""
        if r in self.assigned:
            return Conflict(8, "assigned", "already assigned")
        c, day = self.inst.requests[r].client, self.day_of(s)
        return conflict(
            self.inst,
            self.cands.travel,
            r,
            v,
            s,
            minutes=self.minutes[v],
            same_day=self.visits.get((v, day), ()),
            own=self.client_visits.get(c, ()),
            client_visits_that_day=self.client_day.get((c, day), 0),
        )

    def fits(self, r: int, v: int, s: int) -> bool:
        return self.conflict(r, v, s) is None

    def add(self, r: int, v: int, s: int) -> None:
        request = self.inst.requests[r]
        e, day = s + request.duration, self.day_of(s)
        if self.journal is not None:
            self.journal.append((1, r, v, s))
        self.assigned[r] = (v, s)
        self.minutes[v] += request.duration
        self.visits[(v, day)].append((s, e, request.client, r))
        self.visits[(v, day)].sort()
        self.client_visits[request.client].append((s, e, r))
        self.client_day[(request.client, day)] += 1

    def remove(self, r: int) -> None:
        v, s = self.assigned.pop(r)
        if self.journal is not None:
            self.journal.append((-1, r, v, s))
        request = self.inst.requests[r]
        day = self.day_of(s)
        self.minutes[v] -= request.duration
        key = (v, day)
        self.visits[key] = [x for x in self.visits[key] if x[3] != r]
        self.client_visits[request.client] = [x for x in self.client_visits[request.client] if x[2] != r]
        self.client_day[(request.client, day)] -= 1

    def undo(self, mark: int) -> None:
        """Take back every change journalled after position `mark` of the journal."""
        journal = self.journal
        if journal is None:
            raise ValueError("undo needs a journal")
        self.journal = None
        for sign, r, v, s in reversed(journal[mark:]):
            if sign > 0:
                self.remove(r)
            else:
                self.add(r, v, s)
        del journal[mark:]
        self.journal = journal

    def volunteers_of_client(self, c: int) -> set[int]:
        return {self.assigned[r][0] for _, _, r in self.client_visits.get(c, ())}
