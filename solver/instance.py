"""Read a carecal-instance/1 document (docs/format.md) into frozen dataclasses.

Checking happens in two passes: the JSON Schema (shapes and types), then the meaning
(ids that must exist, ISO 639-1 codes, travel modes, windows that end after they start,
what pins name). Every problem is collected with its JSON path, so one run names them all.
Whether the pins can all hold is a separate step (`solver.pins.place_pins`): reading a
document never runs a model. Times become week minutes (solver.clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from solver.clock import DAYS, Clock, Window, parse_week

SCHEMA_DIR = Path(__file__).parent / "schemas"
ROSTER_FORMAT = "carecal-roster/1"
DEFAULT_TRAVEL: dict[str, Any] = {
    "detour_factor": 1.3,
    "fixed_minutes": 5,
    "speed_kmh": {"walk": 4.5, "bike": 12, "transit": 15, "car": 25},
}
DEFAULT_SLOT_MINUTES = 15  # docs/format.md's defaults for what an instance may leave out
DEFAULT_VOLUNTEER_VISITS_PER_DAY = 3
DEFAULT_CLIENT_VISITS_PER_DAY = 1  # rule 10


class InstanceError(ValueError):
    """The document is not a valid instance (or roster); `errors` holds (JSON path, reason)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("\n".join(f"{path}: {reason}" for path, reason in self.errors))


def _load_json(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return loaded


ISO_639_1 = frozenset(_load_json("iso639-1.json")["codes"])


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float


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
    max_visits_per_day: int  # rule 10
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
    speed_kmh: dict[str, float]


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


def _inline_refs(node: object, defs: dict[str, Any]) -> object:
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


MAX_ERRORS = 50  # reported at once; a hostile document must not flood the screen
MAX_MESSAGE = 200  # characters of one message: schema messages repeat the offending value


def _schema_errors(doc: object, schema_name: str) -> list[tuple[str, str]]:
    validator = _validator(schema_name)
    found = sorted(validator.iter_errors(doc), key=lambda e: (e.json_path, e.message))
    errors: list[tuple[str, str]] = []
    for error in found[:MAX_ERRORS]:
        message = error.message
        if error.validator == "const" and error.json_path == "$.format":
            message = f"unknown format {str(error.instance)[:40]!r}; expected {error.validator_value!r}"
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        errors.append((error.json_path, message))
    if len(found) > MAX_ERRORS:
        errors.append(("$", f"... and {len(found) - MAX_ERRORS} more problems"))
    return errors


def load_instance(doc: dict[str, Any]) -> Instance:
    """Validate a carecal-instance/1 document and return it as an Instance.

    Raises InstanceError listing every problem found, each with its JSON path. Whether the
    pins can hold together is not checked here: that is `solver.pins.place_pins`.
    """
    schema_errors = _schema_errors(doc, "instance.schema.json")
    if schema_errors:
        raise InstanceError(schema_errors)
    try:
        monday = parse_week(doc["week"])
    except ValueError:
        raise InstanceError([("$.week", f"{doc['week']!r} is not a week of that year")]) from None
    try:
        tz = ZoneInfo(doc["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise InstanceError([("$.timezone", f"unknown time zone {doc['timezone']!r}")]) from None
    travel_doc = doc.get("travel", DEFAULT_TRAVEL)
    travel = Travel(
        float(travel_doc["detour_factor"]),
        int(travel_doc["fixed_minutes"]),
        {mode: float(speed) for mode, speed in travel_doc["speed_kmh"].items()},
    )
    reader = _Reader(Clock(monday, tz, doc.get("slot_minutes", DEFAULT_SLOT_MINUTES)), travel)
    volunteers = [reader.volunteer(i, v) for i, v in enumerate(doc["volunteers"])]
    requests: list[Request] = []
    clients = [reader.client(i, c, requests) for i, c in enumerate(doc["clients"])]
    pins = reader.pins(doc.get("pins", []), volunteers, requests)
    if reader.errors:
        raise InstanceError(reader.errors)
    return Instance(
        week=doc["week"],
        timezone=doc["timezone"],
        clock=reader.clock,
        travel=travel,
        volunteers=tuple(volunteers),
        clients=tuple(clients),
        requests=tuple(requests),
        pins=tuple(pins),
    )


class _Reader:
    """The meaning of a schema-valid document, part by part; every problem is collected in
    `errors` with its JSON path, so that one run names them all."""

    def __init__(self, clock: Clock, travel: Travel):
        self.clock, self.travel = clock, travel
        self.errors: list[tuple[str, str]] = []
        self._seen: dict[tuple[str, str], str] = {}  # (kind, id) -> the path where it first came

    def unique(self, kind: str, ident: str, path: str) -> None:
        if (kind, ident) in self._seen:
            self.errors.append((path, f"duplicate {kind} id {ident!r} (first at {self._seen[(kind, ident)]})"))
        else:
            self._seen[(kind, ident)] = path

    def languages(self, path: str, codes: list[str]) -> tuple[str, ...]:
        for i, code in enumerate(codes):
            if code not in ISO_639_1:
                self.errors.append((f"{path}[{i}]", f"{code!r} is not an ISO 639-1 language code"))
        return tuple(codes)

    def windows(self, path: str, items: list[dict[str, str]]) -> tuple[Window, ...]:
        result = []
        for i, w in enumerate(items):
            if w["to"] <= w["from"]:
                self.errors.append((f"{path}[{i}]", f"window ends ({w['to']}) before it starts ({w['from']})"))
                continue
            result.append(self.clock.window(DAYS.index(w["day"]), w["from"], w["to"]))
        return tuple(result)

    def absences(self, path: str, items: list[dict[str, str]]) -> tuple[tuple[int, int], ...]:
        clock = self.clock
        week_start, week_end = clock.day_starts[0], clock.day_starts[7]
        result = []
        for i, a in enumerate(items):
            try:
                on = date.fromisoformat(a["date"])
            except ValueError:
                self.errors.append((f"{path}[{i}].date", f"{a['date']!r} is not a date"))
                continue
            if not -1 <= (on - clock.monday).days <= 7:
                continue  # cannot touch the week (and a date at the end of time must not be converted)
            start, end = a.get("from", "00:00"), a.get("to", "24:00")
            if end <= start:
                self.errors.append((f"{path}[{i}]", f"absence ends ({end}) before it starts ({start})"))
                continue
            span = clock.window(0, start, end, on=on)
            if span.end > week_start and span.start < week_end:
                result.append((span.start, span.end))
        return tuple(sorted(result))

    def volunteer(self, i: int, v: dict[str, Any]) -> Volunteer:
        path = f"$.volunteers[{i}]"
        self.unique("volunteer", v["id"], f"{path}.id")
        languages = self.languages(f"{path}.languages", v["languages"])
        speeds = self.travel.speed_kmh
        if v["mode"] not in speeds:
            known = ", ".join(sorted(speeds))
            self.errors.append((f"{path}.mode", f"{v['mode']!r} is not a travel mode; known: {known}"))
        return Volunteer(
            index=i,
            id=v["id"],
            home=Place(v["home"]["lat"], v["home"]["lon"]),
            languages=languages,
            gender=v["gender"],
            dementia_trained=v["dementia_trained"],
            max_minutes_per_week=v["max_minutes_per_week"],
            max_visits_per_day=v.get("max_visits_per_day", DEFAULT_VOLUNTEER_VISITS_PER_DAY),
            max_km=float(v["max_km"]),
            mode=v["mode"],
            speed_kmh=float(speeds.get(v["mode"], 1.0)),
            availability=self.windows(f"{path}.availability", v["availability"]),
            absences=self.absences(f"{path}.absences", v.get("absences", [])),
        )

    def client(self, i: int, c: dict[str, Any], requests: list[Request]) -> Client:
        """Client i; its requests are appended to `requests` (their index is their place there)."""
        path = f"$.clients[{i}]"
        self.unique("client", c["id"], f"{path}.id")
        languages = self.languages(f"{path}.languages", c["languages"])
        own: list[int] = []
        for j, r in enumerate(c["requests"]):
            rpath = f"{path}.requests[{j}]"
            self.unique("request", r["id"], f"{rpath}.id")
            own.append(len(requests))
            requests.append(
                Request(
                    index=len(requests),
                    id=r["id"],
                    client=i,
                    duration=r["duration_min"],
                    priority=r.get("priority", 1),
                    windows=self.windows(f"{rpath}.windows", r["windows"]),
                )
            )
        return Client(
            index=i,
            id=c["id"],
            home=Place(c["home"]["lat"], c["home"]["lon"]),
            languages=languages,
            dementia=c["dementia"],
            gender_preference=c.get("gender_preference"),
            previous_volunteers=frozenset(c.get("previous_volunteers", [])),
            excluded_volunteers=frozenset(c.get("excluded_volunteers", [])),
            max_visits_per_day=c.get("max_visits_per_day", DEFAULT_CLIENT_VISITS_PER_DAY),
            requests=tuple(own),
        )

    def pins(self, items: list[dict[str, Any]], volunteers: list[Volunteer], requests: list[Request]) -> list[Pin]:
        volunteer_ids = {v.id: v.index for v in volunteers}
        request_ids = {r.id: r.index for r in requests}
        pins: list[Pin] = []
        for i, p in enumerate(items):
            path = f"$.pins[{i}]"
            ok = True
            if p["request"] not in request_ids:
                self.errors.append((f"{path}.request", f"unknown request {p['request']!r}"))
                ok = False
            if p["volunteer"] not in volunteer_ids:
                self.errors.append((f"{path}.volunteer", f"unknown volunteer {p['volunteer']!r}"))
                ok = False
            start = None
            if "start" in p:
                try:
                    start = self.clock.parse_instant(p["start"])
                except ValueError as exc:
                    self.errors.append((f"{path}.start", f"not an ISO 8601 time with UTC offset: {exc}"))
                    ok = False
            if ok:
                pins.append(Pin(i, request_ids[p["request"]], volunteer_ids[p["volunteer"]], start))
        return pins


def load_roster_document(doc: object, path: str = "$") -> dict[str, Any]:
    """Schema-check a carecal-roster/1 document (previous week's or this week's base)."""
    errors = _schema_errors(doc, "roster.schema.json")
    if errors or not isinstance(doc, dict):
        raise InstanceError([(path + p[1:], reason) for p, reason in errors] or [(path, "not a JSON object")])
    return doc


__all__ = [
    "InstanceError",
    "Instance",
    "Volunteer",
    "Client",
    "Request",
    "Pin",
    "Place",
    "load_instance",
    "load_roster_document",
    "SCHEMA_DIR",
]
