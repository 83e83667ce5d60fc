"""Who could take which request, before any model is built.

A candidate *option* is (request, volunteer, day) with the starts rule 5 allows on that day:
on the slot grid, inside a request window and an availability window, touching no absence.
Rules 1-4 (language, dementia training, gender wish and exclusions, reach) prune volunteers
first; a pin's own pair is kept even when it breaks them (the coordinator decided).
Rules 6-8 depend on the other visits and are left to the greedy and the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from solver.instance import DAYS, Client, Instance, Request, Volunteer
from solver.travel import distance_km

GENDER_WORD = {"f": "female", "m": "male", "d": "diverse"}


@dataclass(frozen=True)
class Option:
    request: int
    volunteer: int
    day: int
    starts: tuple[int, ...]


def static_breaks(inst: Instance, client: Client, volunteer: Volunteer, km: float) -> list[str]:
    """Rules 1-4 that assigning `volunteer` to `client` would break, in words."""
    breaks = []
    if client.dementia:
        if client.mother_tongue not in volunteer.languages:
            breaks.append(f"rule 1: does not speak the mother tongue {client.mother_tongue} "
                          f"(client lives with dementia)")
    elif not set(client.languages) & set(volunteer.languages):
        breaks.append(f"rule 1: speaks none of {', '.join(client.languages)}")
    if client.dementia and not volunteer.dementia_trained:
        breaks.append("rule 2: not dementia-trained")
    if client.gender_preference and volunteer.gender != client.gender_preference:
        breaks.append(f"rule 3: client wants a {GENDER_WORD[client.gender_preference]} volunteer")
    if volunteer.id in client.excluded_volunteers:
        breaks.append("rule 3: excluded by the client")
    if km > volunteer.max_km:
        breaks.append(f"rule 4: {km:.1f} km away, reach {volunteer.max_km:g} km")
    return breaks


def feasible_starts(inst: Instance, request: Request, volunteer: Volunteer) -> dict[int, tuple[int, ...]]:
    """Rule 5: day -> starts on the grid inside a request window and an availability window
    of that day, touching none of the volunteer's absences."""
    by_day: dict[int, set[int]] = defaultdict(set)
    duration = request.duration
    for w in request.windows:
        for a in volunteer.availability:
            if a.day != w.day:
                continue
            lo, hi = max(w.start, a.start), min(w.end, a.end) - duration
            if hi < lo:
                continue
            for s in inst.clock.grid_between(lo, hi):
                if all(s >= b_end or s + duration <= b_start for b_start, b_end in volunteer.absences):
                    by_day[w.day].add(s)
    return {day: tuple(sorted(starts)) for day, starts in sorted(by_day.items()) if starts}


class Candidates:
    """Pruned options per request, plus cached distances and travel times."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self._dist_vc: dict[tuple[int, int], float] = {}
        self._dist_cc: dict[tuple[int, int], float] = {}
        self.options: list[list[Option]] = [[] for _ in inst.requests]
        speakers: dict[str, list[int]] = defaultdict(list)
        for v in inst.volunteers:
            for lang in v.languages:
                speakers[lang].append(v.index)
        for client in inst.clients:
            langs = (client.mother_tongue,) if client.dementia else client.languages
            pool = sorted({v for lang in langs for v in speakers.get(lang, ())})
            ok_vols = [v for v in pool
                       if not static_breaks(inst, client, inst.volunteers[v], self.dist_vc(v, client.index))]
            for r in client.requests:
                pin = inst.pin_of.get(r)
                vols = [pin.volunteer] if pin else ok_vols
                request = inst.requests[r]
                for v in vols:
                    volunteer = inst.volunteers[v]
                    if request.duration > volunteer.max_minutes_per_week or volunteer.max_visits_per_day < 1:
                        continue
                    for day, starts in feasible_starts(inst, request, volunteer).items():
                        if pin and pin.start is not None:
                            if pin.start not in starts:
                                continue
                            starts = (pin.start,)
                        self.options[r].append(Option(r, v, day, starts))

    # distances -------------------------------------------------------------
    def dist_vc(self, v: int, c: int) -> float:
        key = (v, c)
        if key not in self._dist_vc:
            self._dist_vc[key] = distance_km(self.inst.travel, self.inst.volunteers[v].home,
                                             self.inst.clients[c].home)
        return self._dist_vc[key]

    def dist_cc(self, a: int, b: int) -> float:
        key = (a, b) if a <= b else (b, a)
        if key not in self._dist_cc:
            self._dist_cc[key] = distance_km(self.inst.travel, self.inst.clients[a].home,
                                             self.inst.clients[b].home)
        return self._dist_cc[key]

    def travel(self, v: int, a: int, b: int) -> int:
        """Minutes volunteer v needs from client a's home to client b's."""
        if a == b:
            return 0
        ca, cb = self.inst.clients[a], self.inst.clients[b]
        if ca.home == cb.home:
            return 0
        volunteer = self.inst.volunteers[v]
        return math.ceil(self.dist_cc(a, b) / volunteer.speed_kmh * 60) + self.inst.travel.fixed_minutes

    @cached_property
    def volunteers_of(self) -> list[list[int]]:
        """request -> candidate volunteers (sorted, unique)."""
        return [sorted({o.volunteer for o in opts}) for opts in self.options]

    @cached_property
    def requests_of_volunteer(self) -> list[list[int]]:
        result: list[list[int]] = [[] for _ in self.inst.volunteers]
        for r, vols in enumerate(self.volunteers_of):
            for v in vols:
                result[v].append(r)
        return result

    def options_of(self, r: int, v: int) -> list[Option]:
        return [o for o in self.options[r] if o.volunteer == v]

    def travel_units(self, v: int, c: int) -> int:
        """Rule of preference 3 in whole 100 m: distance_km(volunteer home, client home)."""
        return round(self.dist_vc(v, c) * 10)


def day_name(day: int) -> str:
    return DAYS[day].capitalize()
