"""What is better, in docs/format.md's order, and how one number keeps that order.

A roster is scored by four tiers, compared lexicographically:

1. coverage   = sum of `priority` over assigned requests                      (more is better)
2. continuity = sum over visits of  2 if the client has preferred volunteers (their
                `previous_volunteers`, plus last week's volunteers from `--previous`)
                and this is not one of them, + 1 if last week's roster had the client
                at some weekday/time and this visit is not at one of them;
                plus 2 per distinct volunteer a client sees in the week         (less is better)
3. travel     = sum over visits of distance_km(volunteer home, client home), in 100 m units
                                                                                (less is better)
4. fairness   = the highest share of `max_minutes_per_week` any volunteer works, in
                whole percent (rounded up)                                      (less is better)

How CP-SAT keeps that order (solver.model): staged solves. First it maximises coverage
alone; then, with `coverage >= found` added, it minimises the lower tiers as one weighted sum
W2*continuity + W3*travel + W4*fairness. Dominance argument for the weights: every tier is a
whole number within a known range [0, R_k] over the model at hand, so choosing

    W4 = 1,  W3 = R4*W4 + 1,  W2 = R3*W3 + R4*W4 + 1

makes one unit of a higher tier worth more than the largest possible swing of all lower
tiers together: a roster with less continuity cost always wins, whatever travel and
fairness do, and so on down. The ranges are taken over the model being solved (the whole
week, or one neighbourhood, whose lower tiers move only within it), which keeps the weights
small. (One sum over all four tiers, with W1 = R2*W2 + R3*W3 + R4*W4 + 1 on coverage, would
keep the order as well, but CP-SAT was measured to be several times slower with it.)
Each tier has its own function below (`coverage_term` ... `fairness_term`), and `evaluate`
is their four values; solver.model encodes the same terms for CP-SAT, and a test checks
that both agree on fixed rosters. Reported objectives are that four-tier sum with the
weights of the whole instance, so one number compares rosters of the same week;
`Score.key()` is the lexicographic comparison the search itself uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from solver.candidates import Candidates
from solver.instance import Instance

NEW_FACE = 2  # a visit by someone the client does not know yet
SLOT_MOVED = 1  # a visit not at last week's weekday/time
PER_VOLUNTEER = 2  # each distinct volunteer a client sees in the week
FAIRNESS_RANGE = 100

Assignment = dict[int, tuple[int, int]]  # request -> (volunteer, start)


@dataclass(frozen=True)
class Weights:
    coverage: int
    continuity: int
    travel: int
    fairness: int

    @classmethod
    def from_ranges(cls, continuity_range: int, travel_range: int, fairness_range: int = FAIRNESS_RANGE) -> Weights:
        """Each weight above the largest swing of all lower tiers together (module docstring)."""
        w4 = 1
        w3 = fairness_range * w4 + 1
        w2 = travel_range * w3 + fairness_range * w4 + 1
        w1 = continuity_range * w2 + travel_range * w3 + fairness_range * w4 + 1
        return cls(w1, w2, w3, w4)


@dataclass(frozen=True)
class Score:
    coverage: int
    continuity: int
    travel: int
    fairness: int

    def key(self) -> tuple[int, int, int, int]:
        """Bigger is better, compared tier by tier."""
        return (self.coverage, -self.continuity, -self.travel, -self.fairness)

    def combined(self, w: Weights) -> int:
        return (
            w.coverage * self.coverage
            - w.continuity * self.continuity
            - w.travel * self.travel
            - w.fairness * self.fairness
        )


@dataclass(frozen=True)
class Preferences:
    """Stability wishes per client: volunteers they know and last week's start times."""

    volunteers: tuple[frozenset[int], ...]
    starts: tuple[frozenset[int], ...]

    @classmethod
    def none(cls, inst: Instance) -> Preferences:
        return cls.build(inst, {}, {})

    @classmethod
    def build(cls, inst: Instance, extra_volunteers: dict[int, set[int]], starts: dict[int, set[int]]) -> Preferences:
        vols = []
        for c in inst.clients:
            known = {inst.volunteer_index[v] for v in c.previous_volunteers if v in inst.volunteer_index}
            vols.append(frozenset(known | extra_volunteers.get(c.index, set())))
        return cls(tuple(vols), tuple(frozenset(starts.get(c.index, ())) for c in inst.clients))

    def visit_cost(self, client: int, volunteer: int, start: int | None) -> int:
        """Continuity cost of one visit (start None: the cost if the slot cannot be kept)."""
        cost = 0
        if self.volunteers[client] and volunteer not in self.volunteers[client]:
            cost += NEW_FACE
        if self.starts[client] and start not in self.starts[client]:
            cost += SLOT_MOVED
        return cost


def fairness_percent(load: int, capacity: int) -> int:
    """A load as a whole percentage of the capacity, rounded up."""
    return -(-100 * load // capacity) if capacity > 0 else 0


# --- the four tiers, one function each -------------------------------------------------------


def coverage_term(inst: Instance, assigned: Assignment) -> int:
    """Tier 1: the priorities of the covered requests (more is better)."""
    return sum(inst.requests[r].priority for r in assigned)


def continuity_term(inst: Instance, prefs: Preferences, assigned: Assignment) -> int:
    """Tier 2 (less is better): per visit NEW_FACE if the client knows volunteers and this is
    none of them, SLOT_MOVED if last week had the client at weekdays/times and this visit is
    at none of them; plus PER_VOLUNTEER per distinct volunteer a client sees."""
    cost = sum(prefs.visit_cost(inst.requests[r].client, v, s) for r, (v, s) in assigned.items())
    faces = {(inst.requests[r].client, v) for r, (v, _) in assigned.items()}
    return cost + PER_VOLUNTEER * len(faces)


def travel_term(inst: Instance, cands: Candidates, assigned: Assignment) -> int:
    """Tier 3 (less is better): distance_km(volunteer home, client home) over the visits, in 100 m."""
    return sum(cands.travel_units(v, inst.requests[r].client) for r, (v, _) in assigned.items())


def fairness_term(inst: Instance, assigned: Assignment) -> int:
    """Tier 4 (less is better): the highest share of max_minutes_per_week anybody works, in %."""
    load = [0] * len(inst.volunteers)
    for r, (v, _) in assigned.items():
        load[v] += inst.requests[r].duration
    return max((fairness_percent(load[v.index], v.max_minutes_per_week) for v in inst.volunteers), default=0)


def evaluate(inst: Instance, cands: Candidates, prefs: Preferences, assigned: Assignment) -> Score:
    return Score(
        coverage_term(inst, assigned),
        continuity_term(inst, prefs, assigned),
        travel_term(inst, cands, assigned),
        fairness_term(inst, assigned),
    )


def ranges(
    inst: Instance, cands: Candidates, requests: Iterable[int], volunteers: set[int] | None = None
) -> tuple[int, int]:
    """Upper bounds of the continuity and travel tiers over `requests` (their options only)."""
    continuity = travel = 0
    for r in requests:
        vols = [v for v in cands.volunteers_of[r] if volunteers is None or v in volunteers]
        if not vols:
            continue
        continuity += NEW_FACE + SLOT_MOVED + PER_VOLUNTEER
        travel += max(cands.travel_units(v, inst.requests[r].client) for v in vols)
    return continuity, travel


def global_weights(inst: Instance, cands: Candidates) -> Weights:
    return Weights.from_ranges(*ranges(inst, cands, range(len(inst.requests))))
