"""Who could take which request, before any model is built.

A candidate *option* is (request, volunteer, day) with the starts rule 5 allows on that day:
on the slot grid, inside a request window and an availability window, touching no absence.
Rules 1-4 (solver.matching: language, training, gender wish and exclusions, reach) prune
volunteers first; a pin's own pair is kept even when it breaks them (the coordinator
decided). Rules 6-8 and 10 depend on the other visits and are left to the greedy, the
searches and the model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from solver.instance import Client, Instance, Request, Volunteer
from solver.matching import matches_person
from solver.travel import TravelTimes, distance_km, distances_km


@dataclass(frozen=True)
class Option:
    request: int
    volunteer: int
    day: int
    starts: tuple[int, ...]


def feasible_starts(inst: Instance, request: Request, volunteer: Volunteer) -> dict[int, tuple[int, ...]]:
    """Rule 5: day -> starts on the grid inside a request window and an availability window
    of that day, touching none of the volunteer's absences."""
    by_day: dict[int, tuple[int, ...]] = {}
    duration = request.duration
    for w in request.windows:
        for a in volunteer.availability:
            if a.day != w.day:
                continue
            lo, hi = max(w.start, a.start), min(w.end, a.end) - duration
            if hi < lo:
                continue
            starts = inst.clock.grid_between(lo, hi)
            blocking = [
                (b_start, b_end) for b_start, b_end in volunteer.absences if b_start < hi + duration and lo < b_end
            ]
            if blocking:
                starts = tuple(
                    s for s in starts if all(s >= b_end or s + duration <= b_start for b_start, b_end in blocking)
                )
            if starts:  # (mostly one window meets one stretch a day: nothing to merge)
                earlier = by_day.get(w.day)
                by_day[w.day] = starts if earlier is None else tuple(sorted({*earlier, *starts}))
    return dict(sorted(by_day.items()))


class Candidates:
    """Who could take which request: volunteers passing rules 1-4 per client (computed up
    front, nearest first), and per (request, volunteer) the options of rule 5 (computed on
    first use, so a 3,000-client week does not pay for pairs no one looks at).
    Distances and travel times are cached."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self._dist_vc: dict[tuple[int, int], float] = {}
        self.travel = TravelTimes(inst)  # travel(v, a, b): minutes from client a's home to b's (rule 6)
        self._options_for: dict[tuple[int, int], list[Option]] = {}
        self._options: dict[int, list[Option]] = {}
        self._takers: dict[int, list[int]] = {}
        self._takes: dict[int, list[int]] = {}
        speakers: dict[str, list[int]] = defaultdict(list)
        for v in inst.volunteers:
            for lang in v.languages:
                speakers[lang].append(v.index)
        near = _NearEnough(inst)
        self.volunteers_of: list[list[int]] = [[] for _ in inst.requests]
        for client in inst.clients:
            langs = (client.mother_tongue,) if client.dementia else client.languages
            pool = {v for lang in langs for v in speakers.get(lang, ())}
            ok = sorted(
                (km, v)
                for km, v in near(client, pool)
                if matches_person(client, inst.volunteers[v])
                and (km < near.sure_below[v] or self.dist_vc(v, client.index) <= inst.volunteers[v].max_km)
            )
            for r in client.requests:
                pin = inst.pin_of.get(r)
                vols = [pin.volunteer] if pin else [v for _, v in ok]
                duration = inst.requests[r].duration
                self.volunteers_of[r] = [
                    v
                    for v in vols
                    if duration <= inst.volunteers[v].max_minutes_per_week
                    and inst.volunteers[v].max_visits_per_day >= 1
                    and client.max_visits_per_day >= 1
                ]
        # weekdays as bits: a request and a volunteer with no day in common have no option
        self._days_of_request = [sum(1 << d for d in {w.day for w in r.windows}) for r in inst.requests]
        self._days_of_volunteer = [sum(1 << d for d in {a.day for a in v.availability}) for v in inst.volunteers]
        self.options = _OptionsByRequest(self)

    def options_for(self, r: int, v: int) -> list[Option]:
        """Rule 5 options of volunteer v for request r (v must be one of volunteers_of[r])."""
        key = (r, v)
        found = self._options_for.get(key)
        if found is None and not self._days_of_request[r] & self._days_of_volunteer[v]:
            found = self._options_for[key] = []  # (a third of the pairs on winter weeks)
        if found is None:
            inst = self.inst
            pin = inst.pin_of.get(r)
            found = []
            for day, starts in feasible_starts(inst, inst.requests[r], inst.volunteers[v]).items():
                if pin and pin.start is not None:
                    if pin.start not in starts:
                        continue
                    starts = (pin.start,)
                found.append(Option(r, v, day, starts))
            self._options_for[key] = found
        return found

    def all_options(self, r: int) -> list[Option]:
        found = self._options.get(r)
        if found is None:
            found = self._options[r] = [o for v in self.volunteers_of[r] for o in self.options_for(r, v)]
        return found

    def has_option(self, r: int) -> bool:
        return bool(self.takers(r))

    def takers(self, r: int) -> list[int]:
        """The volunteers of volunteers_of[r] who have a rule-5 option for r too, nearest first:
        those a search can give r to. (On winter weeks two in three volunteers who pass rules
        1-4 have no start inside both windows: a search that tries them wastes its attention.)"""
        found = self._takers.get(r)
        if found is None:
            found = self._takers[r] = [v for v in self.volunteers_of[r] if self.options_for(r, v)]
        return found

    def takes(self, v: int) -> list[int]:
        """The requests volunteer v is a taker of (see takers)."""
        found = self._takes.get(v)
        if found is None:
            found = self._takes[v] = [r for r in self.requests_of_volunteer[v] if self.options_for(r, v)]
        return found

    # distances -------------------------------------------------------------
    def dist_vc(self, v: int, c: int) -> float:
        key = (v, c)
        found = self._dist_vc.get(key)
        if found is None:
            found = self._dist_vc[key] = distance_km(
                self.inst.travel,
                self.inst.volunteers[v].home,
                self.inst.clients[c].home,
            )
        return found

    @cached_property
    def requests_of_volunteer(self) -> list[list[int]]:
        """volunteer -> requests they pass rules 1-4 (and 7's weekly minutes) for."""
        result: list[list[int]] = [[] for _ in self.inst.volunteers]
        for r, vols in enumerate(self.volunteers_of):
            for v in vols:
                result[v].append(r)
        return result

    def same_day_pairs(self) -> int:
        """Pairs of options one volunteer has on one day: what the travel constraints of a
        whole-week model grow with (a week of flexible windows has many more than clients)."""
        per_day: dict[tuple[int, int], int] = defaultdict(int)
        for r in range(len(self.inst.requests)):
            for o in self.all_options(r):
                per_day[(o.volunteer, o.day)] += 1
        return sum(n * (n - 1) // 2 for n in per_day.values())

    def travel_units(self, v: int, c: int) -> int:
        """Rule of preference 3 in whole 100 m: distance_km(volunteer home, client home)."""
        return round(self.dist_vc(v, c) * 10)


class _NearEnough:
    """Rule 4 over arrays: the distances from a client to a pool of volunteers, all at once
    (solver.travel.distances_km), keeping those who may reach them. An XL week asks for 1.5
    million distances; one call of distance_km each took two seconds. A distance within a
    millimetre of a volunteer's reach is decided by distance_km itself (`sure_below`); the
    array's distances otherwise only order the volunteers, nearest first."""

    SLACK_KM = 1e-6

    def __init__(self, inst: Instance):
        self.travel = inst.travel
        self.lat = np.radians([v.home.lat for v in inst.volunteers])
        self.lon = np.radians([v.home.lon for v in inst.volunteers])
        reach = np.array([v.max_km for v in inst.volunteers], dtype=float)
        self.maybe_within = reach + self.SLACK_KM
        self.sure_below: list[float] = (reach - self.SLACK_KM).tolist()

    def __call__(self, client: Client, pool: set[int]) -> list[tuple[float, int]]:
        """(approximate km, volunteer) for the volunteers of `pool` who may reach the client."""
        if not pool:
            return []
        vols = np.fromiter(pool, dtype=np.intp, count=len(pool))
        km = distances_km(self.travel, client.home, self.lat[vols], self.lon[vols])
        keep = km <= self.maybe_within[vols]
        return list(zip(km[keep].tolist(), vols[keep].tolist(), strict=True))


class _OptionsByRequest:
    """`cands.options[r]`: every option of request r, computed on first use."""

    def __init__(self, cands: Candidates):
        self._cands = cands

    def __getitem__(self, r: int) -> list[Option]:
        return self._cands.all_options(r)

    def __len__(self) -> int:
        return len(self._cands.inst.requests)
