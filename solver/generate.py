"""Synthetic carecal-instance/1 weeks with Chemnitz-like distributions, for tests and benchmarks.

Homes cluster by district: older clients mostly in the south-western prefab estates and in
Gablenz, Yorckgebiet and Sonnenberg; migrants (clients and volunteers alike) densest in
Zentrum, Furth and Bernsdorf; few people in the outlying villages. Clients mostly speak
Russian or Ukrainian first, some German, Arabic or Vietnamese; volunteers Russian, German,
Ukrainian, English, Arabic. The same size, seed, week and scenario always give the same
instance.

Scenarios:
- `easy`: about as many volunteer minutes as visit minutes (the greedy alone covers 80-86 %
  of the weighted demand); each request of a client has its own 1-3 weekdays.
- `scarce`: the same clients and requests, but demand about 1.5 times the weekly minutes
  the volunteers give (a winter week of a real association).
- `flex`: as scarce, but each client wants a series of 1-3 visits a week of one length, each
  visit allowed on the same 2-5 weekdays (rule 10 keeps them on different days).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

DISTRICTS_FILE = Path(__file__).parent / "data" / "chemnitz_districts.json"
TIMEZONE = "Europe/Berlin"
SIZES = {"S": (60, 30), "M": (300, 120), "L": (1000, 350), "XL": (3000, 1000)}  # clients, volunteers (easy)
SCENARIOS = ("easy", "scarce", "flex")
# Volunteers per client for demand = DEMAND_OVER_SUPPLY x supply: a client asks on average
# 1.35 visits (flex: 1.8) of 117 minutes; a volunteer gives on average 432 minutes.
DEMAND_OVER_SUPPLY = 1.5
EXPECTED_CLIENT_MINUTES = {"easy": 1.35 * 117, "scarce": 1.35 * 117, "flex": 1.8 * 117}
EXPECTED_VOLUNTEER_MINUTES = 432
SERIES_LENGTH = [(1, 40), (2, 40), (3, 20)]  # flex: visits a week
SERIES_DAYS = [(2, 25), (3, 35), (4, 25), (5, 15)]  # flex: weekdays each visit may fall on
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = DAYS[:5]

OLDER_ESTATES = {
    "Markersdorf",
    "Hutholz",
    "Morgenleite",
    "Helbersdorf",
    "Kappel",
    "Gablenz",
    "Yorckgebiet",
    "Sonnenberg",
}
FOREIGN_BORN = {"Zentrum", "Furth", "Bernsdorf"}
OUTLYING = {
    "Grüna",
    "Euba",
    "Einsiedel",
    "Klaffenbach",
    "Mittelbach",
    "Kleinolbersdorf-Altenhain",
    "Röhrsdorf",
    "Wittgensdorf",
    "Stelzendorf",
    "Adelsberg",
    "Erfenschlag",
    "Harthau",
}

KM_PER_DEGREE_LAT = 111.2

# (value, weight) tables: the shape of the population, not exact statistics.
CLIENT_MOTHER_TONGUE = [("ru", 50), ("uk", 25), ("de", 10), ("ar", 8), ("vi", 7)]
CLIENT_SECOND_LANGUAGES = {  # mother tongue -> [(other language, probability)]
    "ru": [("de", 0.3)],
    "uk": [("ru", 0.4), ("de", 0.2)],
    "de": [("ru", 0.1)],
    "ar": [("de", 0.3)],
    "vi": [("de", 0.3)],
}
VOLUNTEER_FIRST_LANGUAGE = [("ru", 35), ("de", 30), ("uk", 20), ("ar", 10), ("en", 3), ("vi", 2)]
VOLUNTEER_MORE_LANGUAGES = {"de": 0.6, "en": 0.25, "ru": 0.15, "uk": 0.1}
CARE_LEVELS = [(1, 15), (2, 35), (3, 30), (4, 15), (5, 5)]
DURATIONS = [(60, 10), (90, 20), (120, 50), (150, 10), (180, 10)]
PRIORITIES = [(1, 55), (2, 30), (3, 15)]
GENDER_WISH = [(None, 76), ("f", 20), ("m", 4)]
VOLUNTEER_GENDER = [("f", 68), ("m", 30), ("d", 2)]
WEEKLY_MINUTES = [(240, 20), (360, 30), (480, 30), (600, 15), (840, 5)]
VISITS_PER_DAY = [(1, 10), (2, 50), (None, 40)]  # None: leave the default (3) implicit
# mode -> (weight, shortest and longest one-way reach in km)
MODES = {"walk": (20, 1.5, 3.0), "bike": (15, 4.0, 8.0), "transit": (50, 4.0, 10.0), "car": (15, 8.0, 15.0)}
REQUEST_WINDOWS = [
    ("09:00", "12:00"),
    ("09:00", "13:00"),
    ("10:00", "14:00"),
    ("13:00", "17:00"),
    ("14:00", "18:00"),
    ("09:00", "17:00"),
    ("10:00", "16:00"),
]
AVAILABILITY = [
    ("08:00", "12:00"),
    ("09:00", "13:00"),
    ("09:00", "17:00"),
    ("12:00", "18:00"),
    ("13:00", "19:00"),
    ("10:00", "16:00"),
    ("08:00", "18:00"),
]
PARTIAL_ABSENCES = [("08:00", "12:00"), ("09:00", "12:00"), ("13:00", "18:00")]


@dataclass(frozen=True)
class District:
    name: str
    lat: float
    lon: float
    area_km2: float


@cache
def districts() -> tuple[District, ...]:
    # Beside this module rather than importlib.resources: under an editable install `solver`
    # can be a namespace package, which resources.files() cannot read from.
    raw = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    return tuple(District(d["name"], d["lat"], d["lon"], d["area_km2"]) for d in raw["districts"])


def next_iso_week(today: date) -> str:
    year, week, _ = (today + timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def _weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


def _client_weight(d: District) -> float:
    weight = 0.3 if d.name in OUTLYING else 1.0
    if d.name in OLDER_ESTATES:
        weight *= 5
    if d.name in FOREIGN_BORN:
        weight *= 4
    return weight


def _volunteer_weight(d: District) -> float:
    weight = 0.3 if d.name in OUTLYING else 1.0
    if d.name in FOREIGN_BORN:
        weight *= 5
    if d.name in OLDER_ESTATES:
        weight *= 2
    return weight


def _home(rng: random.Random, pool: tuple[District, ...], weights: list[float]) -> dict[str, float]:
    """A point scattered around a district centroid, within about the district's radius."""
    d = rng.choices(pool, weights=weights)[0]
    radius_km = math.sqrt(d.area_km2 / math.pi)
    north = max(-radius_km, min(radius_km, rng.gauss(0, radius_km / 2)))
    east = max(-radius_km, min(radius_km, rng.gauss(0, radius_km / 2)))
    lat = d.lat + north / KM_PER_DEGREE_LAT
    lon = d.lon + east / (KM_PER_DEGREE_LAT * math.cos(math.radians(d.lat)))
    return {"lat": round(lat, 5), "lon": round(lon, 5)}


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _volunteer(rng: random.Random, vid: str, monday: date, home: dict[str, float]) -> dict[str, Any]:
    first = _weighted(rng, VOLUNTEER_FIRST_LANGUAGE)
    languages = [first] + [lang for lang, p in VOLUNTEER_MORE_LANGUAGES.items() if lang != first and rng.random() < p]
    mode = _weighted(rng, [(m, w) for m, (w, _, _) in MODES.items()])
    _, shortest, longest = MODES[mode]
    days = sorted(rng.sample(WEEKDAYS, rng.choice([2, 3, 3, 4, 5])), key=DAYS.index)
    if rng.random() < 0.15:
        days.append(rng.choice(DAYS[5:]))
    availability = [dict(zip(("day", "from", "to"), (day, *rng.choice(AVAILABILITY)), strict=True)) for day in days]
    volunteer: dict[str, Any] = {
        "id": vid,
        "home": home,
        "languages": languages,
        "gender": _weighted(rng, VOLUNTEER_GENDER),
        "dementia_trained": rng.random() < 0.55,
        "max_minutes_per_week": _weighted(rng, WEEKLY_MINUTES),
        "max_km": round(rng.uniform(shortest, longest) * 2) / 2,
        "mode": mode,
        "availability": availability,
    }
    per_day = _weighted(rng, VISITS_PER_DAY)
    if per_day is not None:
        volunteer["max_visits_per_day"] = per_day
    if rng.random() < 0.1:
        day = monday + timedelta(days=rng.randrange(7))
        absence = {"date": day.isoformat()}
        if rng.random() < 0.4:
            absence["from"], absence["to"] = rng.choice(PARTIAL_ABSENCES)
        volunteer["absences"] = [absence]
    return volunteer


def _requests(rng: random.Random, cid: str) -> list[dict[str, Any]]:
    count = 1 if rng.random() < 0.65 else 2
    days = rng.sample(WEEKDAYS, min(5, count * 3))  # each request gets its own days
    requests = []
    for k in range(count):
        duration = _weighted(rng, DURATIONS)
        fitting = [w for w in REQUEST_WINDOWS if _minutes(w[1]) - _minutes(w[0]) >= duration]
        own_days = days[k * 3 : k * 3 + 3][: _weighted(rng, [(1, 50), (2, 35), (3, 15)])]
        windows = [
            dict(zip(("day", "from", "to"), (day, *rng.choice(fitting)), strict=True))
            for day in sorted(own_days, key=DAYS.index)
        ]
        requests.append(
            {
                "id": f"{cid}-{k + 1}",
                "duration_min": duration,
                "priority": _weighted(rng, PRIORITIES),
                "windows": windows,
            }
        )
    return requests


def _series(rng: random.Random, cid: str) -> list[dict[str, Any]]:
    """flex: a series of visits of one length, each allowed on the same weekdays."""
    count = _weighted(rng, SERIES_LENGTH)
    duration = _weighted(rng, DURATIONS)
    fitting = [w for w in REQUEST_WINDOWS if _minutes(w[1]) - _minutes(w[0]) >= duration]
    days = sorted(rng.sample(WEEKDAYS, max(count, _weighted(rng, SERIES_DAYS))), key=DAYS.index)
    start, end = rng.choice(fitting)
    windows = [{"day": day, "from": start, "to": end} for day in days]
    priority = _weighted(rng, PRIORITIES)
    return [
        {"id": f"{cid}-{k + 1}", "duration_min": duration, "priority": priority, "windows": [dict(w) for w in windows]}
        for k in range(count)
    ]


def _km(a: dict[str, float], b: dict[str, float]) -> float:
    """Rough planar distance, good enough to pick a plausible previous volunteer."""
    north = (a["lat"] - b["lat"]) * KM_PER_DEGREE_LAT
    east = (a["lon"] - b["lon"]) * KM_PER_DEGREE_LAT * math.cos(math.radians(a["lat"]))
    return math.hypot(north, east) * 1.3


def _previous_volunteers(rng: random.Random, client: dict[str, Any], volunteers: list[dict[str, Any]]) -> list[str]:
    """One or two volunteers who could plausibly have visited this client before."""
    wanted = 1 if rng.random() < 0.8 else 2
    found = []
    for v in rng.sample(volunteers, len(volunteers)):
        if (
            client["languages"][0] in v["languages"]
            and (v["dementia_trained"] or not client["dementia"])
            and client.get("gender_preference") in (None, v["gender"])
            and _km(client["home"], v["home"]) <= v["max_km"]
        ):
            found.append(v["id"])
            if len(found) == wanted:
                break
    return found


def volunteer_count(size: str, scenario: str) -> int:
    clients, volunteers = SIZES[size]
    if scenario == "easy":
        return volunteers
    minutes = clients * EXPECTED_CLIENT_MINUTES[scenario] / DEMAND_OVER_SUPPLY
    return max(2, round(minutes / EXPECTED_VOLUNTEER_MINUTES))


def generate(size: str, seed: int, week: str, scenario: str = "easy") -> dict[str, Any]:
    """A valid carecal-instance/1 of the named size (S, M, L, XL) and scenario (easy, scarce,
    flex), the same for the same arguments."""
    if size not in SIZES:
        raise ValueError(f"size {size!r}: expected one of {', '.join(SIZES)}")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
    try:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"week {week!r}: expected an ISO week like 2026-W48") from None
    n_clients, n_volunteers = SIZES[size][0], volunteer_count(size, scenario)
    # easy weeks keep the stream they always had, so older benchmark figures stay comparable
    rng = random.Random(f"carecal-{size}-{seed}" if scenario == "easy" else f"carecal-{scenario}-{size}-{seed}")
    pool = districts()
    client_weights = [_client_weight(d) for d in pool]
    volunteer_weights = [_volunteer_weight(d) for d in pool]

    width = len(str(max(n_clients, n_volunteers)))
    volunteers = [
        _volunteer(rng, f"v{i:0{width}d}", monday, _home(rng, pool, volunteer_weights))
        for i in range(1, n_volunteers + 1)
    ]
    clients = []
    for i in range(1, n_clients + 1):
        cid = f"c{i:0{width}d}"
        mother_tongue = _weighted(rng, CLIENT_MOTHER_TONGUE)
        languages = [mother_tongue] + [lang for lang, p in CLIENT_SECOND_LANGUAGES[mother_tongue] if rng.random() < p]
        client: dict[str, Any] = {
            "id": cid,
            "home": _home(rng, pool, client_weights),
            "languages": languages,
            "dementia": rng.random() < 0.4,
            "care_level": _weighted(rng, CARE_LEVELS),
        }
        wish = _weighted(rng, GENDER_WISH)
        if wish is not None:
            client["gender_preference"] = wish
        if rng.random() < 0.35 and (previous := _previous_volunteers(rng, client, volunteers)):
            client["previous_volunteers"] = previous
        if rng.random() < 0.03:
            known = set(client.get("previous_volunteers", []))
            client["excluded_volunteers"] = [rng.choice([v["id"] for v in volunteers if v["id"] not in known])]
        client["requests"] = _series(rng, cid) if scenario == "flex" else _requests(rng, cid)
        clients.append(client)

    return {
        "format": "carecal-instance/1",
        "week": week,
        "timezone": TIMEZONE,
        "slot_minutes": 15,
        "travel": {
            "detour_factor": 1.3,
            "fixed_minutes": 5,
            "speed_kmh": {"walk": 4.5, "bike": 12, "transit": 15, "car": 25},
        },
        "volunteers": volunteers,
        "clients": clients,
        "pins": [],
    }


def main_generate(size: str, seed: int, week: str, out: str | None = None, scenario: str = "easy") -> int:
    """CLI edge: the instance as JSON on stdout, or into `out`."""
    import sys

    try:
        document = json.dumps(generate(size, seed, week, scenario), ensure_ascii=False, indent=1)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if out:
        Path(out).write_text(document + "\n", encoding="utf-8")
    else:
        sys.stdout.write(document + "\n")
    return 0
