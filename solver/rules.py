"""Rules 6-8 and 10 of docs/format.md: how the visits of one week keep apart.

    6  a volunteer's visits on one local day do not overlap, and between two of them lies
       at least the travel time from the first client's home to the second's;
    7  a volunteer's visit minutes in the week <= max_minutes_per_week, their visits on one
       local day <= max_visits_per_day;
    8  a request is assigned at most once; a client's own visits do not overlap;
    10 a client's visits on one local day <= the client's max_visits_per_day.

The solver's one home of these rules (the independent validator, solver/check.py, keeps its
own on purpose). They come in three forms of one meaning:
- one visit against what is booked already (`weekly_minutes_allow`, `day_allows`,
  `clear_starts`, `conflict`): the greedy, the ejection chains, repair, the reasons, and
  the narrowing of a CP-SAT model's starts against the visits it holds fixed;
- a whole roster (`violations`): the searches' last checks, and the tests;
- CP-SAT constraints over visits that may happen (`post`): the week's model (solver.model)
  and the pins' model (solver.pins).
tests/solver/test_rule_forms.py proves the forms agree on random rosters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Protocol

from solver.clock import DAYS
from solver.instance import Instance, Volunteer

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

Travel = Callable[[int, int, int], int]  # (volunteer, from client, to client) -> minutes
Booked = tuple[int, int, int, int]  # a booked visit: (start, end, minutes to it from the new one, back)
Assignment = dict[int, tuple[int, int]]  # request -> (volunteer, start)


@dataclass(frozen=True)
class Conflict:
    """Why one visit cannot be added: the rule, what exactly (`code`), and the words."""

    rule: int
    code: str  # assigned, weekly_minutes, visits_that_day, client_day, busy, client_busy
    text: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.text}"


# --- one visit against what is booked ------------------------------------------------------


def weekly_minutes_allow(used: int, duration: int, volunteer: Volunteer) -> bool:
    """Rule 7: a visit of `duration` minutes fits the volunteer's week beside `used` minutes."""
    return used + duration <= volunteer.max_minutes_per_week


def day_allows(visits: int, cap: int) -> bool:
    """Rules 7 and 10: one more visit fits a day that holds `visits` of at most `cap`."""
    return visits < cap


def booked(travel: Travel, v: int, c: int, same_day: Iterable[Sequence[int]]) -> list[Booked]:
    """Volunteer v's visits of one day, each (start, end, client, ...), with the travel both
    ways between each of them and a new visit to client c."""
    return [(b[0], b[1], travel(v, c, b[2]), travel(v, b[2], c)) for b in same_day]


def volunteer_free(s: int, e: int, day: Sequence[Booked]) -> bool:
    """Rule 6: a visit from s to e keeps apart, travel included, from the volunteer's day."""
    return all(e + there <= b_start or b_end + back <= s for b_start, b_end, there, back in day)


def client_free(s: int, e: int, own: Iterable[Sequence[int]]) -> bool:
    """Rule 8: a visit from s to e overlaps none of the client's own, each (start, end, ...)."""
    return all(e <= b[0] or b[1] <= s for b in own)


def clear_starts(
    starts: Iterable[int], duration: int, day: Sequence[Booked], own: Sequence[Sequence[int]]
) -> Iterator[int]:
    """The starts at which a visit keeps rules 6 and 8 with what is booked, in order."""
    for s in starts:
        if volunteer_free(s, s + duration, day) and client_free(s, s + duration, own):
            yield s


def conflict(
    inst: Instance,
    travel: Travel,
    r: int,
    v: int,
    s: int,
    *,
    minutes: int,
    same_day: Sequence[Sequence[int]],
    own: Sequence[Sequence[int]],
    client_visits_that_day: int,
) -> Conflict | None:
    """Which rule volunteer v taking request r at s breaks beside what is booked: their
    `minutes` of the week and their visits of that day (`same_day`: start, end, client, ...),
    the client's own visits (start, end, ...) and their number that day. None: it fits."""
    request, volunteer = inst.requests[r], inst.volunteers[v]
    c, e = request.client, s + request.duration
    if not weekly_minutes_allow(minutes, request.duration, volunteer):
        left = volunteer.max_minutes_per_week - minutes
        return Conflict(
            7, "weekly_minutes", f"{volunteer.id} has {left} of {volunteer.max_minutes_per_week} weekly minutes left"
        )
    if not day_allows(len(same_day), volunteer.max_visits_per_day):
        return Conflict(7, "visits_that_day", f"{volunteer.id} already has {_visits(len(same_day))} that day")
    client = inst.clients[c]
    if not day_allows(client_visits_that_day, client.max_visits_per_day):
        day = DAYS[inst.clock.day_of(s)].capitalize()
        return Conflict(10, "client_day", f"{client.id} already has {_visits(client_visits_that_day)} on {day}")
    if not volunteer_free(s, e, booked(travel, v, c, same_day)):
        return Conflict(6, "busy", f"{volunteer.id} is busy or travelling then")
    if not client_free(s, e, own):
        return Conflict(8, "client_busy", "the client has another visit then")
    return None


def _visits(n: int) -> str:
    return "1 visit" if n == 1 else f"{n} visits"


# --- a whole roster ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A rule a roster breaks, and the requests whose visits break it together."""

    rule: int
    requests: tuple[int, ...]


def violations(inst: Instance, travel: Travel, assigned: Assignment) -> list[Violation]:
    """Every breach of rules 6-8 and 10 in `assigned` (rule 8's "at most once" holds by its
    shape: one entry per request)."""
    found: list[Violation] = []
    by_volunteer: dict[int, list[int]] = defaultdict(list)
    by_volunteer_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_client: dict[int, list[int]] = defaultdict(list)
    by_client_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r, (v, s) in sorted(assigned.items()):
        c, day = inst.requests[r].client, inst.clock.day_of(s)
        by_volunteer[v].append(r)
        by_volunteer_day[(v, day)].append(r)
        by_client[c].append(r)
        by_client_day[(c, day)].append(r)

    def span(r: int) -> tuple[int, int]:
        return assigned[r][1], assigned[r][1] + inst.requests[r].duration

    for v, rs in by_volunteer.items():
        if sum(inst.requests[r].duration for r in rs) > inst.volunteers[v].max_minutes_per_week:
            found.append(Violation(7, tuple(rs)))
    for (v, _), rs in by_volunteer_day.items():
        if len(rs) > inst.volunteers[v].max_visits_per_day:
            found.append(Violation(7, tuple(rs)))
        for a, b in combinations(rs, 2):
            (a_start, a_end), (b_start, b_end) = span(a), span(b)
            ca, cb = inst.requests[a].client, inst.requests[b].client
            if not volunteer_free(a_start, a_end, [(b_start, b_end, travel(v, ca, cb), travel(v, cb, ca))]):
                found.append(Violation(6, (a, b)))
    for rs in by_client.values():
        for a, b in combinations(rs, 2):
            if not client_free(*span(a), [span(b)]):
                found.append(Violation(8, (a, b)))
    for (c, _), rs in by_client_day.items():
        if len(rs) > inst.clients[c].max_visits_per_day:
            found.append(Violation(10, tuple(rs)))
    return found


# --- CP-SAT -----------------------------------------------------------------------------------


@dataclass
class MayVisit:
    """A visit a CP-SAT model may choose: request r by volunteer v on one day, its start
    among `starts` (sorted), present iff `x`."""

    request: int
    volunteer: int
    client: int
    day: int
    duration: int
    starts: tuple[int, ...]
    x: cp_model.IntVar
    s: cp_model.IntVar | int
    interval: cp_model.IntervalVar


class Room(Protocol):
    """What visits held fixed beside a model leave of each limit."""

    def minutes_left(self, v: int) -> int: ...
    def visits_left(self, v: int, day: int) -> int: ...
    def client_visits_left(self, c: int, day: int) -> int: ...


def post(
    m: cp_model.CpModel, visits: Sequence[MayVisit], room: Room, travel: Travel
) -> list[tuple[cp_model.IntVar, MayVisit, MayVisit]]:
    """Rules 6-8 and 10 over `visits` beside what `room` says is left. (That a request takes
    at most one of its visits is the caller's: a pin's model must take exactly one.) Returns
    the order literals made for rule 6 (true: the first visit comes first), for hints."""
    by_client: dict[int, list[MayVisit]] = defaultdict(list)
    by_client_day: dict[tuple[int, int], list[MayVisit]] = defaultdict(list)
    by_volunteer: dict[int, list[MayVisit]] = defaultdict(list)
    by_volunteer_day: dict[tuple[int, int], list[MayVisit]] = defaultdict(list)
    for o in visits:
        by_client[o.client].append(o)
        by_client_day[(o.client, o.day)].append(o)
        by_volunteer[o.volunteer].append(o)
        by_volunteer_day[(o.volunteer, o.day)].append(o)
    for opts in by_client.values():  # rule 8
        if len(opts) > 1:
            m.add_no_overlap([o.interval for o in opts])
    for (c, day), opts in by_client_day.items():  # rule 10
        left = room.client_visits_left(c, day)
        if len({o.request for o in opts}) > left:
            m.add(sum(o.x for o in opts) <= left)
    for v, opts in by_volunteer.items():  # rule 7
        left = room.minutes_left(v)
        if sum(o.duration for o in opts) > left:
            m.add(sum(o.duration * o.x for o in opts) <= left)
    for (v, day), opts in by_volunteer_day.items():
        left = room.visits_left(v, day)
        if len(opts) > left:
            m.add(sum(o.x for o in opts) <= left)
    orders = []
    for (v, _), opts in by_volunteer_day.items():  # rule 6
        if len(opts) < 2:
            continue
        m.add_no_overlap([o.interval for o in opts])
        for i, a in enumerate(opts):
            for b in opts[i + 1 :]:
                order = _travel_gap(m, v, a, b, travel(v, a.client, b.client))
                if order is not None:
                    orders.append((order, a, b))
    return orders


def _travel_gap(m: cp_model.CpModel, v: int, a: MayVisit, b: MayVisit, t: int) -> cp_model.IntVar | None:
    """Rule 6's travel between two visits of one volunteer and day: nothing when their starts
    keep them apart anyway, an implication when only one order is possible, a clause when
    neither is, and an order literal (returned) only when both are."""
    da, db = a.duration, b.duration
    a_lo, a_hi, b_lo, b_hi = a.starts[0], a.starts[-1], b.starts[0], b.starts[-1]
    if a_hi + da + t <= b_lo or b_hi + db + t <= a_lo:
        return None  # always apart enough, whatever the starts
    a_first = a_lo + da + t <= b_hi
    b_first = b_lo + db + t <= a_hi
    if not a_first and not b_first:
        m.add_bool_or([~a.x, ~b.x])
        return None
    if a_first and not b_first:
        m.add(b.s >= a.s + da + t).only_enforce_if([a.x, b.x])
        return None
    if b_first and not a_first:
        m.add(a.s >= b.s + db + t).only_enforce_if([a.x, b.x])
        return None
    order = m.new_bool_var(f"a_first_{a.request}_{b.request}_v{v}")
    m.add(b.s >= a.s + da + t).only_enforce_if([a.x, b.x, order])
    m.add(a.s >= b.s + db + t).only_enforce_if([a.x, b.x, ~order])
    return order
