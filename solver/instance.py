"""Read a carecal-instance/1 document into frozen dataclasses.

Checking happens in two passes: the JSON Schema (shapes and types), then the meaning
(ids that must exist, ISO 639-1 codes, travel modes, windows that end after they start,
pins). Every problem is collected with its JSON path, so one run names them all.

Time. Every moment of the week is an integer: minutes since Monday 00:00 local time of
the instance's week (an absolute instant, so a visit across a DST switch lasts exactly its
minutes). Wall-clock `HH:MM` on a switch day is resolved like this: a window *starts* at
the earliest instant whose local reading is at or after `from`, and *ends* at the latest
instant whose reading is at or before `to` (so a window on Sunday 25 October 2026
00:00-04:00 lasts five real hours; one on 29 March 2026 lasts three). Starts lie on the
`slot_minutes` grid of local wall-clock time; a grid time that does not exist (29 March,
02:00-02:59) offers no start, and one that happens twice (25 October, 02:00-02:59) offers
both.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

SCHEMA_DIR = Path(__file__).parent / "schemas"
INSTANCE_FORMAT = "carecal-instance/1"
ROSTER_FORMAT = "carecal-roster/1"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TRAVEL = {
    "detour_factor": 1.3,
    "fixed_minutes": 5,
    "speed_kmh": {"walk": 4.5, "bike": 12, "transit": 15, "car": 25},
}
UTC = UTC


class InstanceError(ValueError):
    """The document is not a valid instance (or roster); `errors` holds (JSON path, reason)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("\n".join(f"{path}: {reason}" for path, reason in self.errors))


def _load_json(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


ISO_639_1 = frozenset(_load_json("iso639-1.json")["codes"])


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float


@dataclass(frozen=True)
class Window:
    """A stretch of one day of the week, in week minutes; `label` is how a person reads it."""

    day: int
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Volunteer:
    index: int
    id: str
    home: Place
    languages: tuple[str, ...]
    gender: str
    dementia_trained: bool
    max_minutes_per_week: int
    max_visits_per_day: int
    max_km: float
    mode: str
    speed_kmh: float
    availability: tuple[Window, ...]
    absences: tuple[tuple[int, int], ...]  # (start, end) week minutes, only those touching the week


@dataclass(frozen=True)
class Request:
    index: int
    id: str
    client: int  # index into Instance.clients
    duration: int
    priority: int
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class Client:
    index: int
    id: str
    home: Place
    languages: tuple[str, ...]
    dementia: bool
    gender_preference: str | None
    previous_volunteers: frozenset[str]
    excluded_volunteers: frozenset[str]
    requests: tuple[int, ...]  # indices into Instance.requests

    @property
    def mother_tongue(self) -> str:
        return self.languages[0]


@dataclass(frozen=True)
class Pin:
    index: int
    request: int
    volunteer: int
    start: int | None


@dataclass(frozen=True)
class Travel:
    detour_factor: float
    fixed_minutes: int
    speed_kmh: dict


@dataclass(frozen=True)
class Clock:
    """Turns local wall-clock times of one ISO week into week minutes and back."""

    monday: date
    tz: ZoneInfo
    slot: int

    @cached_property
    def origin(self) -> datetime:
        return self._earliest(datetime.combine(self.monday, time(0)))

    def _instants(self, naive: datetime) -> list[datetime]:
        """The UTC instants whose local reading is `naive`: none, one or two."""
        found = []
        for fold in (0, 1):
            utc = naive.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)
            if utc.astimezone(self.tz).replace(tzinfo=None) == naive and utc not in found:
                found.append(utc)
        return sorted(found)

    def _gap_end(self, naive: datetime) -> datetime:
        """For a local time that does not exist: the instant the clock jumps over it."""
        a = naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC)
        b = naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC)
        lo, hi = min(a, b), max(a, b)  # reading(lo) < naive < reading(hi)
        while hi - lo > timedelta(minutes=1):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(second=0, microsecond=0)
            if mid.astimezone(self.tz).replace(tzinfo=None) > naive:
                hi = mid
            else:
                lo = mid
        return hi

    def _earliest(self, naive: datetime) -> datetime:
        found = self._instants(naive)
        return found[0] if found else self._gap_end(naive)

    def _latest(self, naive: datetime) -> datetime:
        found = self._instants(naive)
        return found[-1] if found else self._gap_end(naive)

    @staticmethod
    def _naive(day_date: date, hhmm: str) -> datetime:
        hours, minutes = int(hhmm[:2]), int(hhmm[3:])
        return datetime.combine(day_date, time(0)) + timedelta(hours=hours, minutes=minutes)

    def minutes(self, instant: datetime) -> int:
        return round((instant - self.origin).total_seconds()) // 60

    def window(self, day: int, start: str, end: str, on: date | None = None) -> Window:
        day_date = on or self.monday + timedelta(days=day)
        lo = self.minutes(self._earliest(self._naive(day_date, start)))
        hi = self.minutes(self._latest(self._naive(day_date, end)))
        return Window(day, lo, max(lo, hi), f"{DAYS[day].capitalize()} {start}–{end}")

    def day_span(self, day: int) -> tuple[int, int]:
        return self.day_starts[day], self.day_starts[day + 1]

    @cached_property
    def day_starts(self) -> tuple[int, ...]:
        return tuple(
            self.minutes(self._earliest(datetime.combine(self.monday + timedelta(days=d), time(0)))) for d in range(8)
        )

    @cached_property
    def grid(self) -> tuple[int, ...]:
        """Every start the slot grid allows in the week, sorted (week minutes)."""
        starts = []
        for d in range(7):
            day_date = self.monday + timedelta(days=d)
            for m in range(0, 24 * 60, self.slot):
                naive = datetime.combine(day_date, time(0)) + timedelta(minutes=m)
                starts.extend(self.minutes(t) for t in self._instants(naive))
        return tuple(sorted(set(starts)))

    def grid_between(self, lo: int, hi: int) -> tuple[int, ...]:
        """Grid starts s with lo <= s <= hi."""
        return self.grid[bisect_left(self.grid, lo) : bisect_right(self.grid, hi)]

    def day_of(self, minute: int) -> int:
        return bisect_right(self.day_starts, minute) - 1

    def to_datetime(self, minute: int) -> datetime:
        return (self.origin + timedelta(minutes=minute)).astimezone(self.tz)

    def iso(self, minute: int) -> str:
        return self.to_datetime(minute).isoformat()

    def local_time(self, minute: int) -> str:
        return self.to_datetime(minute).strftime("%H:%M")

    def parse_instant(self, text: str) -> int:
        """An ISO 8601 time with its UTC offset -> week minutes; ValueError when it is not one."""
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} has no UTC offset")
        if moment.second or moment.microsecond:
            raise ValueError(f"{text!r} is not on a whole minute")
        return self.minutes(moment)


@dataclass(frozen=True)
class Instance:
    week: str
    timezone: str
    clock: Clock
    travel: Travel
    volunteers: tuple[Volunteer, ...]
    clients: tuple[Client, ...]
    requests: tuple[Request, ...]
    pins: tuple[Pin, ...]
    source: dict = field(repr=False, compare=False, hash=False)

    @cached_property
    def volunteer_index(self) -> dict[str, int]:
        return {v.id: v.index for v in self.volunteers}

    @cached_property
    def request_index(self) -> dict[str, int]:
        return {r.id: r.index for r in self.requests}

    @cached_property
    def client_index(self) -> dict[str, int]:
        return {c.id: c.index for c in self.clients}

    @cached_property
    def pin_of(self) -> dict[int, Pin]:
        """request index -> its pin."""
        return {p.request: p for p in self.pins}

    @property
    def slot(self) -> int:
        return self.clock.slot

    def client_of(self, request: int) -> Client:
        return self.clients[self.requests[request].client]


# --------------------------------------------------------------------------- reading


def _inline_refs(node: object, defs: dict) -> object:
    """The schema with every local $ref replaced by its definition (ours are not recursive);
    validating against it is about twice as fast, which matters for 3,000-client weeks."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


@cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    schema = _load_json(schema_name)
    return jsonschema.Draft202012Validator(_inline_refs(schema, schema.get("$defs", {})))


def _schema_errors(doc: object, schema_name: str) -> list[tuple[str, str]]:
    validator = _validator(schema_name)
    errors = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: (e.json_path, e.message)):
        message = error.message
        if error.validator == "const" and error.json_path == "$.format":
            message = f"unknown format {error.instance!r}; expected {error.validator_value!r}"
        errors.append((error.json_path, message))
    return errors


def parse_week(text: str) -> date:
    """'2026-W48' -> the Monday of that ISO week."""
    year, week = int(text[:4]), int(text[6:])
    monday = date.fromisocalendar(year, week, 1)  # ValueError for a week 53 that does not exist
    return monday


def load_instance(doc: dict) -> Instance:
    """Validate a carecal-instance/1 document and return it as an Instance.

    Raises InstanceError listing every problem found, each with its JSON path.
    """
    errors = _schema_errors(doc, "instance.schema.json")
    if errors:
        raise InstanceError(errors)
    errors = []

    try:
        monday = parse_week(doc["week"])
    except ValueError:
        raise InstanceError([("$.week", f"{doc['week']!r} is not a week of that year")]) from None
    try:
        tz = ZoneInfo(doc["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise InstanceError([("$.timezone", f"unknown time zone {doc['timezone']!r}")]) from None
    clock = Clock(monday, tz, doc.get("slot_minutes", 15))
    travel_doc = doc.get("travel", DEFAULT_TRAVEL)
    travel = Travel(float(travel_doc["detour_factor"]), int(travel_doc["fixed_minutes"]), dict(travel_doc["speed_kmh"]))

    def check_languages(path: str, codes: list[str]) -> None:
        for i, code in enumerate(codes):
            if code not in ISO_639_1:
                errors.append((f"{path}[{i}]", f"{code!r} is not an ISO 639-1 language code"))

    def windows(path: str, items: list[dict]) -> tuple[Window, ...]:
        result = []
        for i, w in enumerate(items):
            if w["to"] <= w["from"]:
                errors.append((f"{path}[{i}]", f"window ends ({w['to']}) before it starts ({w['from']})"))
                continue
            result.append(clock.window(DAYS.index(w["day"]), w["from"], w["to"]))
        return tuple(result)

    def absences(path: str, items: list[dict]) -> tuple[tuple[int, int], ...]:
        week_start, week_end = clock.day_starts[0], clock.day_starts[7]
        result = []
        for i, a in enumerate(items):
            try:
                on = date.fromisoformat(a["date"])
            except ValueError:
                errors.append((f"{path}[{i}].date", f"{a['date']!r} is not a date"))
                continue
            start, end = a.get("from", "00:00"), a.get("to", "24:00")
            if end <= start:
                errors.append((f"{path}[{i}]", f"absence ends ({end}) before it starts ({start})"))
                continue
            span = clock.window(0, start, end, on=on)
            if span.end > week_start and span.start < week_end:
                result.append((span.start, span.end))
        return tuple(sorted(result))

    seen: dict[str, str] = {}

    def unique(kind: str, ident: str, path: str) -> None:
        if (kind, ident) in seen:
            errors.append((path, f"duplicate {kind} id {ident!r} (first at {seen[(kind, ident)]})"))
        else:
            seen[(kind, ident)] = path

    volunteers = []
    for i, v in enumerate(doc["volunteers"]):
        path = f"$.volunteers[{i}]"
        unique("volunteer", v["id"], f"{path}.id")
        check_languages(f"{path}.languages", v["languages"])
        if v["mode"] not in travel.speed_kmh:
            errors.append(
                (f"{path}.mode", f"{v['mode']!r} is not a travel mode; known: {', '.join(sorted(travel.speed_kmh))}")
            )
        volunteers.append(
            Volunteer(
                index=i,
                id=v["id"],
                home=Place(v["home"]["lat"], v["home"]["lon"]),
                languages=tuple(v["languages"]),
                gender=v["gender"],
                dementia_trained=v["dementia_trained"],
                max_minutes_per_week=v["max_minutes_per_week"],
                max_visits_per_day=v.get("max_visits_per_day", 3),
                max_km=float(v["max_km"]),
                mode=v["mode"],
                speed_kmh=float(travel.speed_kmh.get(v["mode"], 1.0)),
                availability=windows(f"{path}.availability", v["availability"]),
                absences=absences(f"{path}.absences", v.get("absences", [])),
            )
        )

    clients, requests = [], []
    for i, c in enumerate(doc["clients"]):
        path = f"$.clients[{i}]"
        unique("client", c["id"], f"{path}.id")
        check_languages(f"{path}.languages", c["languages"])
        own = []
        for j, r in enumerate(c["requests"]):
            rpath = f"{path}.requests[{j}]"
            unique("request", r["id"], f"{rpath}.id")
            own.append(len(requests))
            requests.append(
                Request(
                    index=len(requests),
                    id=r["id"],
                    client=i,
                    duration=r["duration_min"],
                    priority=r.get("priority", 1),
                    windows=windows(f"{rpath}.windows", r["windows"]),
                )
            )
        clients.append(
            Client(
                index=i,
                id=c["id"],
                home=Place(c["home"]["lat"], c["home"]["lon"]),
                languages=tuple(c["languages"]),
                dementia=c["dementia"],
                gender_preference=c.get("gender_preference"),
                previous_volunteers=frozenset(c.get("previous_volunteers", [])),
                excluded_volunteers=frozenset(c.get("excluded_volunteers", [])),
                requests=tuple(own),
            )
        )

    volunteer_ids = {v.id: v.index for v in volunteers}
    request_ids = {r.id: r.index for r in requests}
    pins = []
    for i, p in enumerate(doc.get("pins", [])):
        path = f"$.pins[{i}]"
        ok = True
        if p["request"] not in request_ids:
            errors.append((f"{path}.request", f"unknown request {p['request']!r}"))
            ok = False
        if p["volunteer"] not in volunteer_ids:
            errors.append((f"{path}.volunteer", f"unknown volunteer {p['volunteer']!r}"))
            ok = False
        start = None
        if "start" in p:
            try:
                start = clock.parse_instant(p["start"])
            except ValueError as exc:
                errors.append((f"{path}.start", f"not an ISO 8601 time with UTC offset: {exc}"))
                ok = False
        if ok:
            pins.append(Pin(i, request_ids[p["request"]], volunteer_ids[p["volunteer"]], start))

    if errors:
        raise InstanceError(errors)
    instance = Instance(
        week=doc["week"],
        timezone=doc["timezone"],
        clock=clock,
        travel=travel,
        volunteers=tuple(volunteers),
        clients=tuple(clients),
        requests=tuple(requests),
        pins=tuple(pins),
        source=doc,
    )
    from solver.pins import pin_errors  # pins need the time rules, which need an Instance

    errors = pin_errors(instance)
    if errors:
        raise InstanceError(errors)
    return instance


def load_roster_document(doc: object, path: str = "$") -> dict:
    """Schema-check a carecal-roster/1 document (previous week's or this week's base)."""
    errors = _schema_errors(doc, "roster.schema.json")
    if errors:
        raise InstanceError([(path + p[1:], reason) for p, reason in errors])
    return doc


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


__all__ = [
    "InstanceError",
    "Instance",
    "Volunteer",
    "Client",
    "Request",
    "Pin",
    "Window",
    "Place",
    "Clock",
    "load_instance",
    "load_roster_document",
    "SCHEMA_DIR",
    "DAYS",
]
