"""Pins (rule 9 of docs/format.md): the coordinator's fixed assignments.

A pin may break rules 1-4, never rules 5-8. Pins that cannot all hold make the instance
invalid; the error names the pins (by JSON path) and the rule. Pins without a start are
placed by a small CP-SAT model over the pins alone; when it has no solution, the smallest
set of pins it blames is reported.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.candidates import feasible_starts
from solver.instance import Instance, Pin
from solver.travel import travel_minutes


def _path(pin: Pin) -> str:
    return f"$.pins[{pin.index}]"


def _travel(inst: Instance, v: int, a: int, b: int) -> int:
    return travel_minutes(inst.travel, inst.volunteers[v].speed_kmh, inst.clients[a].home, inst.clients[b].home)


def _starts(inst: Instance, pin: Pin) -> dict[int, tuple[int, ...]]:
    by_day = feasible_starts(inst, inst.requests[pin.request], inst.volunteers[pin.volunteer])
    if pin.start is None:
        return by_day
    return {d: (pin.start,) for d, starts in by_day.items() if pin.start in starts}


def pin_errors(inst: Instance) -> list[tuple[str, str]]:
    errors = []
    first_pin: dict[int, Pin] = {}
    pins = []
    for pin in inst.pins:
        request, volunteer = inst.requests[pin.request], inst.volunteers[pin.volunteer]
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
            continue
        if not _starts(inst, pin):
            where = "at that start" if pin.start is not None else "at any start"
            errors.append(
                (
                    _path(pin),
                    f"rule 5: {volunteer.id} cannot visit for request {request.id!r} "
                    f"{where} (slot grid, request windows, availability, absences)",
                )
            )
            continue
        pins.append(pin)
    if errors:
        return errors
    return _joint_errors(inst, pins) if pins else []


def place_pins(inst: Instance) -> dict[int, tuple[int, int]]:
    """request -> (volunteer, start) for every pin, startless ones placed so all hold together."""
    placed = _solve(inst, list(inst.pins))[0]
    assert placed is not None, "load_instance accepted pins that cannot hold"
    return placed


def _joint_errors(inst: Instance, pins: list[Pin]) -> list[tuple[str, str]]:
    placed, blamed = _solve(inst, pins)
    if placed is not None:
        return []
    # Name the pins and the rule they fight over, in plain words.
    blamed_pins = sorted(blamed, key=lambda p: p.index)
    names = " and ".join(_path(p) for p in blamed_pins)
    vols = {p.volunteer for p in blamed_pins}
    clients = {inst.requests[p.request].client for p in blamed_pins}
    if len(vols) == 1:
        v = inst.volunteers[next(iter(vols))]
        total = sum(inst.requests[p.request].duration for p in blamed_pins)
        if total > v.max_minutes_per_week:
            rule = f"rule 7: together {total} minutes, more than {v.id}'s {v.max_minutes_per_week} a week"
        else:
            rule = (
                f"rules 6-7: {v.id} cannot fit these visits (overlap, travel between them "
                f"or more than {v.max_visits_per_day} visits a day)"
            )
    elif len(clients) == 1:
        rule = "rule 8: the client's visits would overlap"
    else:
        rule = "rules 5-8: they cannot all hold together"
    return [(_path(blamed_pins[0]), f"pins {names} contradict each other ({rule})")]


def _solve(inst: Instance, pins: list[Pin]) -> tuple[dict[int, tuple[int, int]] | None, list[Pin]]:
    model = cp_model.CpModel()
    holds, chosen = {}, {}
    by_vol_day = defaultdict(list)
    by_client = defaultdict(list)
    minutes = defaultdict(list)
    for pin in pins:
        request = inst.requests[pin.request]
        holds[pin.index] = model.new_bool_var(f"pin{pin.index}_holds")
        day_lits = []
        for day, starts in _starts(inst, pin).items():
            lit = model.new_bool_var(f"pin{pin.index}_day{day}")
            start = model.new_int_var_from_domain(cp_model.Domain.from_values(starts), f"pin{pin.index}_start{day}")
            interval = model.new_optional_fixed_size_interval_var(
                start, request.duration, lit, f"pin{pin.index}_iv{day}"
            )
            day_lits.append(lit)
            chosen[(pin.index, day)] = (lit, start)
            by_vol_day[(pin.volunteer, day)].append((pin, lit, start, interval))
            by_client[request.client].append(interval)
            minutes[pin.volunteer].append((request.duration, lit))
        model.add(sum(day_lits) == 1).only_enforce_if(holds[pin.index])
    for (v, _day), visits in by_vol_day.items():
        model.add_no_overlap([iv for *_, iv in visits])
        model.add(sum(lit for _, lit, _, _ in visits) <= inst.volunteers[v].max_visits_per_day)
        for i, (pa, la, sa, _) in enumerate(visits):
            for pb, lb, sb, _ in visits[i + 1 :]:
                ca, cb = inst.requests[pa.request].client, inst.requests[pb.request].client
                t = _travel(inst, v, ca, cb)
                if t == 0:
                    continue
                order = model.new_bool_var("")
                da, db = inst.requests[pa.request].duration, inst.requests[pb.request].duration
                model.add(sb >= sa + da + t).only_enforce_if([la, lb, order])
                model.add(sa >= sb + db + t).only_enforce_if([la, lb, ~order])
    for intervals in by_client.values():
        model.add_no_overlap(intervals)
    for v, items in minutes.items():
        model.add(sum(d * lit for d, lit in items) <= inst.volunteers[v].max_minutes_per_week)
    model.add_assumptions(list(holds.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10.0
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = {}
        for pin in pins:
            for day in range(7):
                if (pin.index, day) in chosen and solver.value(chosen[(pin.index, day)][0]):
                    placed[pin.request] = (pin.volunteer, solver.value(chosen[(pin.index, day)][1]))
        return placed, []
    core = set(solver.sufficient_assumptions_for_infeasibility())
    blamed = [p for p in pins if holds[p.index].index in core] or pins
    return None, blamed
