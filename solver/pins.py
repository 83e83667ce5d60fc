"""Pins (rule 9 of docs/format.md): the coordinator's fixed assignments, checked and placed.

A pin may break rules 1-4, never rules 5-8 or 10. `place_pins` is the explicit step after
reading an instance: it checks each pin on its own (rule 5's grid, windows, availability
and absences; weekly minutes; a day cap of zero), then places all pins together with a
small CP-SAT model (pins without a start get one). When they cannot all hold, the instance
is invalid: the error names the pins (by JSON path) that fight, from CP-SAT's
`sufficient_assumptions_for_infeasibility`, and the rule.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.candidates import feasible_starts
from solver.instance import Instance, InstanceError, Pin
from solver.params import DEFAULT_PARAMS, SearchParams
from solver.rules import MayVisit, post
from solver.travel import TravelTimes

Placed = dict[int, tuple[int, int]]  # request -> (volunteer, start)


def _path(pin: Pin) -> str:
    return f"$.pins[{pin.index}]"


def _starts(inst: Instance, pin: Pin) -> dict[int, tuple[int, ...]]:
    by_day = feasible_starts(inst, inst.requests[pin.request], inst.volunteers[pin.volunteer])
    if pin.start is None:
        return by_day
    return {d: (pin.start,) for d, starts in by_day.items() if pin.start in starts}


def place_pins(inst: Instance, params: SearchParams = DEFAULT_PARAMS) -> Placed:
    """request -> (volunteer, start) for every pin, startless ones placed so that all hold
    together. Raises InstanceError naming the pins and the rule when they cannot."""
    errors = _single_pin_errors(inst)
    if errors:
        raise InstanceError(errors)
    if not inst.pins:
        return {}
    placed, blamed = _solve(inst, list(inst.pins), params.pin_seconds)
    if placed is None:
        raise InstanceError(_joint_error(inst, blamed))
    return placed


def _single_pin_errors(inst: Instance) -> list[tuple[str, str]]:
    errors = []
    first_pin: dict[int, Pin] = {}
    for pin in inst.pins:
        request, volunteer = inst.requests[pin.request], inst.volunteers[pin.volunteer]
        client = inst.clients[request.client]
        if pin.request in first_pin:
            errors.append(
                (
                    _path(pin),
                    f"request {request.id!r} is pinned twice, also by "
                    f"{_path(first_pin[pin.request])} (rule 8: assigned at most once)",
                )
            )
            continue
        first_pin[pin.request] = pin
        if request.duration > volunteer.max_minutes_per_week:
            errors.append(
                (
                    _path(pin),
                    f"rule 7: the {request.duration}-minute visit exceeds "
                    f"{volunteer.id}'s {volunteer.max_minutes_per_week} weekly minutes",
                )
            )
        elif volunteer.max_visits_per_day < 1:
            errors.append((_path(pin), f"rule 7: {volunteer.id} takes no visits on any day"))
        elif client.max_visits_per_day < 1:
            errors.append((_path(pin), f"rule 10: client {client.id} takes no visits on any day"))
        elif not _starts(inst, pin):
            where = "at that start" if pin.start is not None else "at any start"
            errors.append(
                (
                    _path(pin),
                    f"rule 5: {volunteer.id} cannot visit for request {request.id!r} "
                    f"{where} (slot grid, request windows, availability, absences)",
                )
            )
    return errors


def _joint_error(inst: Instance, blamed: list[Pin]) -> list[tuple[str, str]]:
    """Name the pins and the rule they fight over, in plain words."""
    blamed_pins = sorted(blamed, key=lambda p: p.index)
    names = " and ".join(_path(p) for p in blamed_pins)
    vols = {p.volunteer for p in blamed_pins}
    clients = {inst.requests[p.request].client for p in blamed_pins}
    if len(vols) == 1:
        v = inst.volunteers[next(iter(vols))]
        total = sum(inst.requests[p.request].duration for p in blamed_pins)
        if total > v.max_minutes_per_week:
            rule = f"rule 7: together {total} minutes, more than {v.id}'s {v.max_minutes_per_week} a week"
        elif len(clients) == 1:
            rule = (
                f"rules 6-8 and 10: {v.id} cannot fit these visits of one client (overlap, travel, visits "
                f"a day, or more than {inst.clients[next(iter(clients))].max_visits_per_day} a day for the client)"
            )
        else:
            rule = (
                f"rules 6-7: {v.id} cannot fit these visits (overlap, travel between them "
                f"or more than {v.max_visits_per_day} visits a day)"
            )
    elif len(clients) == 1:
        c = inst.clients[next(iter(clients))]
        starts = [p.start for p in blamed_pins]
        days = [inst.clock.day_of(s) for s in starts if s is not None]
        if None not in starts and len(days) > len(set(days)) and not _overlap(inst, blamed_pins):
            rule = f"rule 10: more than {c.max_visits_per_day} visit(s) a day for client {c.id}"
        else:
            rule = f"rules 8 and 10: the client's visits would overlap or exceed {c.max_visits_per_day} a day"
    else:
        rule = "rules 5-8 and 10: they cannot all hold together"
    return [(_path(blamed_pins[0]), f"pins {names} contradict each other ({rule})")]


def _overlap(inst: Instance, pins: list[Pin]) -> bool:
    """Whether any two of these pins (all with a start) share time."""
    spans = sorted((p.start or 0, (p.start or 0) + inst.requests[p.request].duration) for p in pins)
    return any(b_start < a_end for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


class _EmptyWeek:
    """Pins are placed before anything else: every limit is whole (solver.rules.Room)."""

    def __init__(self, inst: Instance):
        self.inst = inst

    def minutes_left(self, v: int) -> int:
        return self.inst.volunteers[v].max_minutes_per_week

    def visits_left(self, v: int, day: int) -> int:
        return self.inst.volunteers[v].max_visits_per_day

    def client_visits_left(self, c: int, day: int) -> int:
        return self.inst.clients[c].max_visits_per_day


def _solve(inst: Instance, pins: list[Pin], seconds: float) -> tuple[Placed | None, list[Pin]]:
    """Place the pins together: each on one of its days (rule 5's starts), rules 6-8 and 10
    among them (solver.rules.post). A pin holds iff its literal is true; CP-SAT names the
    literals that cannot all be true."""
    model = cp_model.CpModel()
    holds: dict[int, cp_model.IntVar] = {}
    chosen: dict[int, list[MayVisit]] = {}
    for pin in pins:
        request = inst.requests[pin.request]
        holds[pin.index] = model.new_bool_var(f"pin{pin.index}_holds")
        chosen[pin.index] = []
        for day, starts in _starts(inst, pin).items():
            lit = model.new_bool_var(f"pin{pin.index}_day{day}")
            start = model.new_int_var_from_domain(cp_model.Domain.from_values(starts), f"pin{pin.index}_start{day}")
            interval = model.new_optional_fixed_size_interval_var(
                start, request.duration, lit, f"pin{pin.index}_iv{day}"
            )
            visit = MayVisit(
                pin.request, pin.volunteer, request.client, day, request.duration, starts, lit, start, interval
            )
            chosen[pin.index].append(visit)
        model.add(sum(v.x for v in chosen[pin.index]) == 1).only_enforce_if(holds[pin.index])
    post(model, [v for visits in chosen.values() for v in visits], _EmptyWeek(inst), TravelTimes(inst))
    model.add_assumptions(list(holds.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = seconds
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed: Placed = {}
        for pin in pins:
            for visit in chosen[pin.index]:
                if solver.value(visit.x):
                    placed[pin.request] = (pin.volunteer, solver.value(visit.s))
        return placed, []
    core = set(solver.sufficient_assumptions_for_infeasibility())
    blamed = [p for p in pins if holds[p.index].index in core] or pins
    return None, blamed
