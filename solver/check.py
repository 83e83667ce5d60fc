"""Independent validator: does a carecal-roster/1 answer its carecal-instance/1 by the rules?

Written from the interchange format (docs/format.md) alone and sharing no code with the model:
it parses weeks and wall-clock times, applies the defaults and computes haversine travel
itself, so that a mistake in the model cannot hide behind the same mistake here.
Only the standard library is used, plus jsonschema for the roster's published shape and
Rich, lazily, for the CLI report.

`check(instance, roster)` returns a `Report`: the violations, each tagged with the hard
rule it breaks (1-10, or 0 for format and completeness), and the metrics of the spec's
"what is better" recomputed from the roster.

Conventions where the spec leaves room (the model reads it the same way):
- a visit belongs to the local calendar day on which it starts (rules 7 and 10);
- the slot grid counts from local midnight;
- a visit "touches" an absence when they share time (a visit may end when an absence begins);
- on a day the clocks change, a window opens at the first moment the clock shows `from`
  (or, if the clocks skip it, at the jump) and closes at the last moment it shows `to`.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RULE_FORMAT = 0
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EARTH_RADIUS_KM = 6371.0088
DEFAULT_TRAVEL = {
    "detour_factor": 1.3,
    "fixed_minutes": 5,
    "speed_kmh": {"walk": 4.5, "bike": 12, "transit": 15, "car": 25},
}
DEFAULT_SLOT_MINUTES = 15
DEFAULT_MAX_VISITS_PER_DAY = 3
DEFAULT_CLIENT_MAX_VISITS_PER_DAY = 1  # rule 10
# Distances are compared with a hair of tolerance so that float rounding never decides.
KM_TOLERANCE = 1e-9

ROSTER_SCHEMA = Path(__file__).parent / "schemas" / "roster.schema.json"

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")

Interval = tuple[datetime, datetime]  # always in UTC


class InstanceUnreadable(ValueError):
    """The instance itself is too broken to check a roster against."""


@dataclass(frozen=True)
class Violation:
    rule: int
    message: str


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def rules_broken(self) -> set[int]:
        return {v.rule for v in self.violations}


# --- the instance, as the validator reads it -------------------------------------------


@dataclass(frozen=True)
class _Place:
    lat: float
    lon: float


@dataclass
class _Volunteer:
    id: str
    home: _Place
    languages: list[str]
    gender: str | None
    dementia_trained: bool
    max_minutes_per_week: int
    max_visits_per_day: int
    max_km: float
    mode: str
    availability: list[Interval]
    absences: list[Interval]


@dataclass
class _Client:
    id: str
    home: _Place
    languages: list[str]
    dementia: bool
    gender_preference: str | None
    previous_volunteers: list[str]
    excluded_volunteers: list[str]
    max_visits_per_day: int


@dataclass
class _Request:
    id: str
    client: str
    duration_min: int
    priority: int
    windows: list[Interval]


@dataclass
class _Instance:
    week: str
    tz: ZoneInfo
    slot_minutes: int
    detour_factor: float
    fixed_minutes: int
    speed_kmh: dict[str, float]
    volunteers: dict[str, _Volunteer]
    clients: dict[str, _Client]
    requests: dict[str, _Request]
    pins: list[dict[str, Any]]


def _week_monday(week: Any) -> date:
    match = _WEEK.match(str(week))
    if not match:
        raise InstanceUnreadable(f"$.week: {week!r} is not an ISO week like 2026-W48")
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise InstanceUnreadable(f"$.week: {week!r}: {exc}") from None


def _clock(text: Any, where: str) -> tuple[int, int]:
    match = _CLOCK.match(str(text))
    if not match or int(match[2]) > 59 or int(match[1]) > 24 or (int(match[1]) == 24 and match[2] != "00"):
        raise InstanceUnreadable(f"{where}: {text!r} is not a time HH:MM")
    return int(match[1]), int(match[2])


def _local_instant(day: date, clock: tuple[int, int], tz: ZoneInfo, *, latest: bool = False) -> datetime:
    """The UTC instant at which the wall clock on `day` reads `clock` (24:00 is the next midnight).

    When the clocks go back a reading happens twice: a window starts at the first and ends at
    the second (`latest`). A reading the clocks skip in spring never happens: take the moment
    of the jump, the first instant that reads later.
    """
    naive = datetime.combine(day, time()) + timedelta(hours=clock[0], minutes=clock[1])
    readings = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in readings:
            readings.append(instant)
    if readings:
        return max(readings) if latest else min(readings)
    jump = min(naive.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    while jump.astimezone(tz).replace(tzinfo=None) < naive:
        jump += timedelta(minutes=1)
    return jump


def _window(raw: dict[str, Any], monday: date, tz: ZoneInfo, where: str) -> Interval:
    if raw.get("day") not in DAYS:
        raise InstanceUnreadable(f"{where}.day: {raw.get('day')!r} is not one of {', '.join(DAYS)}")
    day = monday + timedelta(days=DAYS.index(raw["day"]))
    return (
        _local_instant(day, _clock(raw.get("from"), f"{where}.from"), tz),
        _local_instant(day, _clock(raw.get("to"), f"{where}.to"), tz, latest=True),
    )


def _absence(raw: dict[str, Any], tz: ZoneInfo, where: str) -> Interval:
    try:
        day = date.fromisoformat(raw["date"])
    except (KeyError, TypeError, ValueError):
        raise InstanceUnreadable(f"{where}.date: expected a date YYYY-MM-DD") from None
    start = _clock(raw.get("from", "00:00"), f"{where}.from")
    end = _clock(raw.get("to", "24:00"), f"{where}.to")
    return _local_instant(day, start, tz), _local_instant(day, end, tz, latest=True)


def _place(raw: Any, where: str) -> _Place:
    try:
        return _Place(float(raw["lat"]), float(raw["lon"]))
    except (KeyError, TypeError, ValueError):
        raise InstanceUnreadable(f"{where}: expected {{'lat': ..., 'lon': ...}}") from None


def _read_instance(raw: Any) -> _Instance:
    if not isinstance(raw, dict):
        raise InstanceUnreadable("$: the instance is not a JSON object")
    monday = _week_monday(raw.get("week"))
    try:
        tz = ZoneInfo(raw.get("timezone", "Europe/Berlin"))
    except (ZoneInfoNotFoundError, ValueError):
        raise InstanceUnreadable(f"$.timezone: unknown time zone {raw.get('timezone')!r}") from None
    travel = {**DEFAULT_TRAVEL, **raw.get("travel", {})}

    try:
        volunteers = {}
        for i, v in enumerate(raw.get("volunteers", [])):
            where = f"$.volunteers[{i}]"
            volunteers[v["id"]] = _Volunteer(
                id=v["id"],
                home=_place(v.get("home"), f"{where}.home"),
                languages=list(v.get("languages", [])),
                gender=v.get("gender"),
                dementia_trained=bool(v.get("dementia_trained", False)),
                max_minutes_per_week=int(v["max_minutes_per_week"]),
                max_visits_per_day=int(v.get("max_visits_per_day", DEFAULT_MAX_VISITS_PER_DAY)),
                max_km=float(v["max_km"]),
                mode=v["mode"],
                availability=[
                    _window(w, monday, tz, f"{where}.availability[{j}]")
                    for j, w in enumerate(v.get("availability", []))
                ],
                absences=[_absence(a, tz, f"{where}.absences[{j}]") for j, a in enumerate(v.get("absences", []))],
            )
        clients, requests = {}, {}
        for i, c in enumerate(raw.get("clients", [])):
            where = f"$.clients[{i}]"
            clients[c["id"]] = _Client(
                id=c["id"],
                home=_place(c.get("home"), f"{where}.home"),
                languages=list(c.get("languages", [])),
                dementia=bool(c.get("dementia", False)),
                gender_preference=c.get("gender_preference"),
                previous_volunteers=list(c.get("previous_volunteers", [])),
                excluded_volunteers=list(c.get("excluded_volunteers", [])),
                max_visits_per_day=int(c.get("max_visits_per_day", DEFAULT_CLIENT_MAX_VISITS_PER_DAY)),
            )
            for j, r in enumerate(c.get("requests", [])):
                requests[r["id"]] = _Request(
                    id=r["id"],
                    client=c["id"],
                    duration_min=int(r["duration_min"]),
                    priority=int(r.get("priority", 1)),
                    windows=[
                        _window(w, monday, tz, f"{where}.requests[{j}].windows[{k}]")
                        for k, w in enumerate(r.get("windows", []))
                    ],
                )
    except InstanceUnreadable:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise InstanceUnreadable(f"instance field missing or malformed: {exc!r}") from None

    speed_kmh = {mode: float(speed) for mode, speed in travel["speed_kmh"].items()}
    for volunteer in volunteers.values():
        if volunteer.mode not in speed_kmh:
            raise InstanceUnreadable(
                f"volunteer {volunteer.id}: mode {volunteer.mode!r} is not one of {', '.join(speed_kmh)}"
            )
    return _Instance(
        week=raw["week"],
        tz=tz,
        slot_minutes=int(raw.get("slot_minutes", DEFAULT_SLOT_MINUTES)),
        detour_factor=float(travel["detour_factor"]),
        fixed_minutes=int(travel["fixed_minutes"]),
        speed_kmh=speed_kmh,
        volunteers=volunteers,
        clients=clients,
        requests=requests,
        pins=list(raw.get("pins", [])),
    )


# --- travel, as the spec defines it ------------------------------------------------------


def haversine_km(a: _Place, b: _Place) -> float:
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _distance_km(inst: _Instance, a: _Place, b: _Place) -> float:
    return haversine_km(a, b) * inst.detour_factor


def _travel_minutes(inst: _Instance, mode: str, a: _Place, b: _Place) -> int:
    if a == b:
        return 0
    return math.ceil(_distance_km(inst, a, b) / inst.speed_kmh[mode] * 60) + inst.fixed_minutes


# --- the roster ------------------------------------------------------------------------


@dataclass
class _Visit:
    request: _Request
    client: _Client
    volunteer: _Volunteer
    start: datetime  # UTC
    end: datetime  # UTC
    local_start: datetime
    pinned: bool = False

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def local_day(self) -> date:
        return self.local_start.date()

    def label(self) -> str:
        return f"{self.request.id} (client {self.client.id}, volunteer {self.volunteer.id})"


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(inner: Interval, outer: Interval) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _parse_timestamp(text: Any, tz: ZoneInfo, where: str, out: list[Violation]) -> datetime | None:
    """An ISO 8601 timestamp as UTC, flagging a missing or wrong UTC offset."""
    try:
        stamp = datetime.fromisoformat(str(text))
    except ValueError:
        out.append(Violation(RULE_FORMAT, f"{where}: {text!r} is not an ISO 8601 timestamp"))
        return None
    if stamp.utcoffset() is None:
        out.append(Violation(RULE_FORMAT, f"{where}: {text!r} has no UTC offset"))
        return None
    in_force = stamp.astimezone(tz).utcoffset()
    if stamp.utcoffset() != in_force:
        out.append(
            Violation(
                RULE_FORMAT,
                f"{where}: {text!r} carries offset {_offset(stamp.utcoffset())}, "
                f"but {_offset(in_force)} is in force in {tz.key} at that moment",
            )
        )
    return stamp.astimezone(UTC)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _read_visits(inst: _Instance, roster: dict[str, Any], out: list[Violation]) -> list[_Visit]:
    """Assignments that name a known request and volunteer, with completeness checked."""
    seen_assigned: dict[str, int] = defaultdict(int)
    seen_unassigned: dict[str, int] = defaultdict(int)
    visits: list[_Visit] = []

    for i, a in enumerate(roster.get("assignments", [])):
        where = f"$.assignments[{i}]"
        if not isinstance(a, dict):
            out.append(Violation(RULE_FORMAT, f"{where}: not an object"))
            continue
        request = inst.requests.get(str(a.get("request")))
        if request is None:
            out.append(Violation(RULE_FORMAT, f"{where}: unknown request {a.get('request')!r}"))
            continue
        seen_assigned[request.id] += 1
        if a.get("client") != request.client:
            out.append(
                Violation(
                    RULE_FORMAT,
                    f"{where}: request {request.id} belongs to client {request.client}, not {a.get('client')!r}",
                )
            )
        volunteer = inst.volunteers.get(str(a.get("volunteer")))
        if volunteer is None:
            out.append(
                Violation(RULE_FORMAT, f"{where}: request {request.id} names unknown volunteer {a.get('volunteer')!r}")
            )
            continue
        start = _parse_timestamp(a.get("start"), inst.tz, f"{where}.start", out)
        end = _parse_timestamp(a.get("end"), inst.tz, f"{where}.end", out)
        if start is None or end is None:
            continue
        visits.append(_Visit(request, inst.clients[request.client], volunteer, start, end, start.astimezone(inst.tz)))

    for i, u in enumerate(roster.get("unassigned", [])):
        where = f"$.unassigned[{i}]"
        request = inst.requests.get(str(u.get("request"))) if isinstance(u, dict) else None
        if request is None:
            out.append(
                Violation(RULE_FORMAT, f"{where}: unknown request {u.get('request') if isinstance(u, dict) else u!r}")
            )
            continue
        seen_unassigned[request.id] += 1
        if u.get("client") != request.client:
            out.append(
                Violation(
                    RULE_FORMAT,
                    f"{where}: request {request.id} belongs to client {request.client}, not {u.get('client')!r}",
                )
            )
        reasons = u.get("reasons")
        if not isinstance(reasons, list) or not any(isinstance(r, str) and r.strip() for r in reasons):
            out.append(Violation(RULE_FORMAT, f"{where}: unassigned request {request.id} gives no reason"))

    for request_id in inst.requests:
        assigned, unassigned = seen_assigned[request_id], seen_unassigned[request_id]
        if assigned + unassigned == 0:
            out.append(Violation(RULE_FORMAT, f"request {request_id} is neither assigned nor unassigned"))
        elif assigned and unassigned:
            out.append(Violation(RULE_FORMAT, f"request {request_id} is both assigned and unassigned"))
        elif unassigned > 1:
            out.append(Violation(RULE_FORMAT, f"request {request_id} is listed {unassigned} times as unassigned"))
        if assigned > 1:
            out.append(Violation(8, f"request {request_id} is assigned {assigned} times"))
    return visits


# --- the hard rules, one function each --------------------------------------------------


def _rule_1_language(visit: _Visit) -> list[Violation]:
    found = []
    client, volunteer = visit.client, visit.volunteer
    if not set(client.languages) & set(volunteer.languages):
        found.append(
            Violation(
                1,
                f"{visit.label()}: {volunteer.id} speaks none of the client's languages "
                f"({', '.join(client.languages)})",
            )
        )
    elif client.dementia and client.languages and client.languages[0] not in volunteer.languages:
        found.append(
            Violation(
                1, f"{visit.label()}: {volunteer.id} does not speak the client's mother tongue {client.languages[0]}"
            )
        )
    return found


def _rule_2_dementia_training(visit: _Visit) -> list[Violation]:
    if visit.client.dementia and not visit.volunteer.dementia_trained:
        # Say which rule, not which diagnosis: the message may be shown or logged.
        return [Violation(2, f"{visit.label()}: {visit.volunteer.id} lacks the training this client needs")]
    return []


def _rule_3_gender_and_exclusion(visit: _Visit) -> list[Violation]:
    found = []
    wish = visit.client.gender_preference
    if wish is not None and visit.volunteer.gender != wish:
        found.append(
            Violation(3, f"{visit.label()}: client prefers gender {wish}, volunteer is {visit.volunteer.gender}")
        )
    if visit.volunteer.id in visit.client.excluded_volunteers:
        found.append(Violation(3, f"{visit.label()}: {visit.volunteer.id} is excluded by the client"))
    return found


def _rule_4_reach(inst: _Instance, visit: _Visit) -> list[Violation]:
    km = _distance_km(inst, visit.volunteer.home, visit.client.home)
    if km > visit.volunteer.max_km + KM_TOLERANCE:
        return [Violation(4, f"{visit.label()}: {km:.2f} km away, reach {visit.volunteer.max_km:g} km")]
    return []


def _rule_5_time(inst: _Instance, visit: _Visit) -> list[Violation]:
    found = []
    span = (visit.start, visit.end)
    if visit.minutes != visit.request.duration_min:
        found.append(
            Violation(5, f"{visit.label()}: lasts {visit.minutes:g} min, the request asks {visit.request.duration_min}")
        )
    local = visit.local_start
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % inst.slot_minutes:
        found.append(Violation(5, f"{visit.label()}: starts {local:%H:%M:%S}, off the {inst.slot_minutes}-minute grid"))
    if not any(_inside(span, w) for w in visit.request.windows):
        found.append(Violation(5, f"{visit.label()}: {_local_span(inst, span)} lies outside the request's windows"))
    if not any(_inside(span, w) for w in visit.volunteer.availability):
        found.append(
            Violation(5, f"{visit.label()}: {_local_span(inst, span)} lies outside {visit.volunteer.id}'s availability")
        )
    for absence in visit.volunteer.absences:
        if _overlaps(span, absence):
            found.append(
                Violation(
                    5,
                    f"{visit.label()}: {_local_span(inst, span)} touches an absence of {visit.volunteer.id} "
                    f"({_local_span(inst, absence)})",
                )
            )
    return found


def _local_span(inst: _Instance, span: Interval) -> str:
    start, end = (t.astimezone(inst.tz) for t in span)
    return f"{DAYS[start.weekday()]} {start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _rule_6_volunteer_day(inst: _Instance, volunteer: _Volunteer, visits: list[_Visit]) -> list[Violation]:
    """No overlap, and travel time between every two same-day visits (pairwise, per the spec)."""
    found = []
    ordered = sorted(visits, key=lambda v: (v.start, v.end))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if _overlaps((first.start, first.end), (second.start, second.end)):
                found.append(Violation(6, f"{volunteer.id}: visits {first.request.id} and {second.request.id} overlap"))
                continue
            if first.local_day != second.local_day:
                continue
            gap = (second.start - first.end).total_seconds() / 60
            need = _travel_minutes(inst, volunteer.mode, first.client.home, second.client.home)
            if gap < need:
                found.append(
                    Violation(
                        6,
                        f"{volunteer.id}: {gap:g} min between {first.request.id} and {second.request.id}, "
                        f"travel by {volunteer.mode} needs {need}",
                    )
                )
    return found


def _rule_7_load(volunteer: _Volunteer, visits: list[_Visit]) -> list[Violation]:
    found = []
    minutes = sum(v.minutes for v in visits)
    if minutes > volunteer.max_minutes_per_week:
        found.append(
            Violation(
                7, f"{volunteer.id}: {minutes:g} visit minutes this week, at most {volunteer.max_minutes_per_week}"
            )
        )
    per_day: dict[date, int] = defaultdict(int)
    for visit in visits:
        per_day[visit.local_day] += 1
    for day, count in sorted(per_day.items()):
        if count > volunteer.max_visits_per_day:
            found.append(
                Violation(7, f"{volunteer.id}: {count} visits on {day}, at most {volunteer.max_visits_per_day}")
            )
    return found


def _rule_8_client_overlap(client: _Client, visits: list[_Visit]) -> list[Violation]:
    found = []
    ordered = sorted(visits, key=lambda v: v.start)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if _overlaps((first.start, first.end), (second.start, second.end)):
                found.append(
                    Violation(8, f"client {client.id}: visits {first.request.id} and {second.request.id} overlap")
                )
    return found


def _rule_10_client_day(client: _Client, visits: list[_Visit]) -> list[Violation]:
    per_day: dict[date, list[str]] = defaultdict(list)
    for visit in visits:
        per_day[visit.local_day].append(visit.request.id)
    return [
        Violation(
            10,
            f"client {client.id}: {len(ids)} visits on {day} ({', '.join(sorted(ids))}), "
            f"at most {client.max_visits_per_day}",
        )
        for day, ids in sorted(per_day.items())
        if len(ids) > client.max_visits_per_day
    ]


def _rule_9_pins(inst: _Instance, visits: list[_Visit]) -> list[Violation]:
    found = []
    by_request: dict[str, list[_Visit]] = defaultdict(list)
    for visit in visits:
        by_request[visit.request.id].append(visit)
    for i, pin in enumerate(inst.pins):
        request_id, volunteer_id = pin.get("request"), pin.get("volunteer")
        wanted_start = None
        if pin.get("start") is not None:
            try:
                wanted_start = datetime.fromisoformat(pin["start"]).astimezone(UTC)
            except (TypeError, ValueError):
                raise InstanceUnreadable(f"$.pins[{i}].start: {pin['start']!r} is not an ISO 8601 timestamp") from None
        matching = [
            v
            for v in by_request.get(str(request_id), [])
            if v.volunteer.id == volunteer_id and (wanted_start is None or v.start == wanted_start)
        ]
        if not matching:
            when = f" at {pin['start']}" if wanted_start else ""
            found.append(Violation(9, f"pin $.pins[{i}]: {request_id} is not given to {volunteer_id}{when}"))
        for visit in matching:
            visit.pinned = True
    return found


# --- metrics ---------------------------------------------------------------------------


def _metrics(inst: _Instance, visits: list[_Visit]) -> dict[str, Any]:
    covered = {v.request.id for v in visits}
    total_weight = sum(r.priority for r in inst.requests.values())
    covered_weight = sum(inst.requests[r].priority for r in covered)

    with_history = [v for v in visits if v.client.previous_volunteers]
    kept = sum(1 for v in with_history if v.volunteer.id in v.client.previous_volunteers)
    faces: dict[str, set[str]] = defaultdict(set)
    for visit in visits:
        faces[visit.client.id].add(visit.volunteer.id)

    load: dict[str, float] = {vid: 0.0 for vid in inst.volunteers}
    for visit in visits:
        load[visit.volunteer.id] += visit.minutes
    shares = [load[v.id] / v.max_minutes_per_week for v in inst.volunteers.values() if v.max_minutes_per_week > 0]

    return {
        "requests": len(inst.requests),
        "covered": len(covered),
        "weighted_coverage": covered_weight / total_weight if total_weight else 1.0,
        # Share of the visits to clients with a history that went to a previous volunteer.
        "continuity": kept / len(with_history) if with_history else 1.0,
        "distinct_volunteers_per_client": statistics.fmean(len(s) for s in faces.values()) if faces else 0.0,
        "travel_km": sum(_distance_km(inst, v.volunteer.home, v.client.home) for v in visits),
        "load_share_spread": (max(shares) - min(shares)) if shares else 0.0,
        "load_share_stdev": statistics.pstdev(shares) if shares else 0.0,
        "visit_minutes": sum(v.minutes for v in visits),
    }


# --- the entry points ------------------------------------------------------------------


@cache
def _roster_validator() -> Any:
    import jsonschema  # the published shape of a roster; meaning is checked here, by hand

    schema = json.loads(ROSTER_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _shape_violations(roster: dict[str, Any]) -> list[Violation]:
    return [Violation(RULE_FORMAT, f"{e.json_path}: {e.message}") for e in _roster_validator().iter_errors(roster)]


def check(instance: Any, roster: Any) -> Report:
    """Check a roster against its instance; raises InstanceUnreadable if the instance is broken."""
    inst = _read_instance(instance)
    if not isinstance(roster, dict):
        return Report([Violation(RULE_FORMAT, "$: the roster is not a JSON object")], {})
    violations = _shape_violations(roster)
    if roster.get("week") != inst.week:
        violations.append(Violation(RULE_FORMAT, f"$.week: {roster.get('week')!r}, the instance is for {inst.week}"))
    for key in ("assignments", "unassigned"):
        if not isinstance(roster.get(key), list):  # the shape check has said so; read on without it
            roster = {**roster, key: []}

    visits = _read_visits(inst, roster, violations)
    violations.extend(_rule_9_pins(inst, visits))

    for visit in visits:
        if not visit.pinned:  # a pin may break rules 1 to 4: the coordinator decided
            violations.extend(_rule_1_language(visit))
            violations.extend(_rule_2_dementia_training(visit))
            violations.extend(_rule_3_gender_and_exclusion(visit))
            violations.extend(_rule_4_reach(inst, visit))
        violations.extend(_rule_5_time(inst, visit))

    by_volunteer: dict[str, list[_Visit]] = defaultdict(list)
    by_client: dict[str, list[_Visit]] = defaultdict(list)
    for visit in visits:
        by_volunteer[visit.volunteer.id].append(visit)
        by_client[visit.client.id].append(visit)
    for volunteer_id, own in by_volunteer.items():
        volunteer = inst.volunteers[volunteer_id]
        violations.extend(_rule_6_volunteer_day(inst, volunteer, own))
        violations.extend(_rule_7_load(volunteer, own))
    for client_id, own in by_client.items():
        violations.extend(_rule_8_client_overlap(inst.clients[client_id], own))
        violations.extend(_rule_10_client_day(inst.clients[client_id], own))

    return Report(sorted(violations, key=lambda v: v.rule), _metrics(inst, visits))


def main_check(instance_path: str | Path, roster_path: str | Path) -> int:
    """CLI edge: print violations and metrics; 0 when the roster is valid, 1 otherwise."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    try:
        instance = json.loads(Path(instance_path).read_text(encoding="utf-8"))
        roster = json.loads(Path(roster_path).read_text(encoding="utf-8"))
        report = check(instance, roster)
    except (OSError, json.JSONDecodeError, InstanceUnreadable) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        return 2

    if report.violations:
        table = Table(title=f"{len(report.violations)} violation(s)", title_justify="left")
        table.add_column("rule", justify="right")
        table.add_column("what")
        for violation in report.violations:
            table.add_row(str(violation.rule) if violation.rule else "format", violation.message)
        console.print(table)
    else:
        console.print("[green]valid:[/green] every hard rule holds")

    metrics = Table(title="metrics", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in report.metrics.items():
        metrics.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(metrics)
    return 1 if report.violations else 0
