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


def _client(
    rng: random.Random,
    cid: str,
    pool: tuple[District, ...],
    weights: list[float],
    mother_tongues: list[tuple[Any, int]],
    gender_wishes: list[tuple[Any, int]],
) -> dict[str, Any]:
    """A client without requests: languages, health facts, a gender wish (the easy and the
    winter weeks differ only in the mix of mother tongues and wishes)."""
    mother_tongue = _weighted(rng, mother_tongues)
    languages = [mother_tongue] + [lang for lang, p in CLIENT_SECOND_LANGUAGES[mother_tongue] if rng.random() < p]
    client: dict[str, Any] = {
        "id": cid,
        "home": _home(rng, pool, weights),
        "languages": languages,
        "dementia": rng.random() < 0.4,
        "care_level": _weighted(rng, CARE_LEVELS),
    }
    wish = _weighted(rng, gender_wishes)
    if wish is not None:
        client["gender_preference"] = wish
    return client


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
    """Volunteers of an easy week (winter weeks draw volunteers until the supply is reached)."""
    return SIZES[size][1]


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
    if scenario == "easy":
        volunteers, clients = _easy_week(size, seed, monday)
    else:
        volunteers, clients = _winter_week(size, seed, monday, flexible=scenario == "flex")
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


def _easy_week(size: str, seed: int, monday: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n_clients, n_volunteers = SIZES[size]
    # easy weeks keep the stream they always had, so older benchmark figures stay comparable
    rng = random.Random(f"carecal-{size}-{seed}")
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
        client = _client(rng, cid, pool, client_weights, CLIENT_MOTHER_TONGUE, GENDER_WISH)
        if rng.random() < 0.35 and (previous := _previous_volunteers(rng, client, volunteers)):
            client["previous_volunteers"] = previous
        if rng.random() < 0.03:
            known = set(client.get("previous_volunteers", []))
            client["excluded_volunteers"] = [rng.choice([v["id"] for v in volunteers if v["id"] not in known])]
        client["requests"] = _requests(rng, cid)
        clients.append(client)
    return volunteers, clients


# --- winter weeks (scenarios scarce and flex) ---------------------------------------------
#
# What a real association meets in winter, and where a one-pass greedy goes wrong:
# - demand about 1.5 times the minutes the volunteers can give (their weekly minutes, within
#   the hours they are available);
# - fragmented availability: most volunteers give one to four stretches of two to four hours
#   a week, one or two visits a day, often only a few hours a week in all;
# - narrow windows: a request allows one or two weekdays, each only 30-120 minutes longer
#   than the visit itself;
# - volunteers live mostly in the centre, clients in the prefab estates and the outlying
#   villages; walkers and people on buses and trams reach only a few kilometres in winter;
# - scarce languages: Arabic and Vietnamese speakers are few among volunteers and even
#   fewer are dementia-trained, while a client with dementia needs their mother tongue;
# - gender wishes (mostly for a woman), and fewer volunteers trained for dementia;
# - series (flex): a client wants two or three visits a week on different days (rule 10),
#   all of them competing for the same few volunteers who speak the language and live near.
# The tables are the shape of such a week, not statistics; they were set from what the
# domain says, and checked only against what a week looks like before any search (the
# greedy's coverage and the relaxed ceiling, docs/benchmarks.md), never against the solver.

WINTER_DEMAND_OVER_SUPPLY = 1.5
WINTER_CLIENT_MOTHER_TONGUE = [("ru", 48), ("uk", 24), ("de", 9), ("ar", 10), ("vi", 9)]
WINTER_VOLUNTEER_FIRST_LANGUAGE = [("ru", 36), ("de", 34), ("uk", 20), ("ar", 6), ("en", 2), ("vi", 2)]
WINTER_DEMENTIA_TRAINED = 0.4
WINTER_GENDER_WISH = [(None, 70), ("f", 25), ("m", 5)]
WINTER_VOLUNTEER_GENDER = [("f", 72), ("m", 27), ("d", 1)]
WINTER_WEEKLY_MINUTES = [(120, 20), (180, 25), (240, 30), (360, 15), (480, 10)]
WINTER_VISITS_PER_DAY = [(1, 50), (2, 40), (None, 10)]
WINTER_STRETCHES = [(1, 10), (2, 30), (3, 35), (4, 25)]  # stretches of availability a week
WINTER_STRETCH_MINUTES = [(150, 20), (180, 30), (240, 30), (300, 20)]
# mode -> (weight, shortest and longest one-way reach in km)
WINTER_MODES = {"walk": (25, 1.5, 3.0), "bike": (5, 3.0, 6.0), "transit": (55, 3.0, 7.0), "car": (15, 8.0, 15.0)}
WINTER_DURATIONS = [(60, 15), (90, 25), (120, 40), (150, 10), (180, 10)]
WINTER_REQUESTS = [(1, 60), (2, 30), (3, 10)]  # scarce: requests a client has, each on its own days
WINTER_REQUEST_DAYS = [(1, 40), (2, 40), (3, 20)]  # scarce: weekdays one request allows
WINTER_SLACK = [(30, 10), (60, 25), (120, 35), (180, 30)]  # a window's minutes beyond the visit
SERIES_LENGTH = [(1, 30), (2, 45), (3, 25)]  # flex: visits a week
SERIES_DAYS = [(2, 25), (3, 35), (4, 25), (5, 15)]  # flex: weekdays each visit may fall on
DAY_STARTS, DAY_ENDS = 8 * 60, 19 * 60  # visits and availability lie between 08:00 and 19:00


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _stretch(rng: random.Random, length: int) -> tuple[str, str]:
    """`length` minutes starting on a half hour between DAY_STARTS and DAY_ENDS."""
    start = DAY_STARTS + 30 * rng.randrange((DAY_ENDS - DAY_STARTS - length) // 30 + 1)
    return _clock(start), _clock(start + length)


def _winter_client_weight(d: District) -> float:
    weight = 1.0
    if d.name in OLDER_ESTATES:
        weight *= 5
    if d.name in FOREIGN_BORN:
        weight *= 3
    return weight


def _winter_volunteer_weight(d: District) -> float:
    weight = 0.15 if d.name in OUTLYING else 1.0
    if d.name in FOREIGN_BORN:
        weight *= 5
    if d.name in OLDER_ESTATES:
        weight *= 1.5
    return weight


def _winter_volunteer(rng: random.Random, vid: str, monday: date, home: dict[str, float]) -> dict[str, Any]:
    first = _weighted(rng, WINTER_VOLUNTEER_FIRST_LANGUAGE)
    languages = [first] + [lang for lang, p in VOLUNTEER_MORE_LANGUAGES.items() if lang != first and rng.random() < p]
    mode = _weighted(rng, [(m, w) for m, (w, _, _) in WINTER_MODES.items()])
    _, shortest, longest = WINTER_MODES[mode]
    stretches: list[dict[str, str]] = []
    for day in sorted(rng.choices(WEEKDAYS, k=_weighted(rng, WINTER_STRETCHES)), key=DAYS.index):
        start, end = _stretch(rng, _weighted(rng, WINTER_STRETCH_MINUTES))
        if not any(s["day"] == day and s["from"] < end and start < s["to"] for s in stretches):
            stretches.append({"day": day, "from": start, "to": end})
    volunteer: dict[str, Any] = {
        "id": vid,
        "home": home,
        "languages": languages,
        "gender": _weighted(rng, WINTER_VOLUNTEER_GENDER),
        # the rarer languages have fewer trained volunteers still (newer arrivals)
        "dementia_trained": rng.random() < WINTER_DEMENTIA_TRAINED * (0.5 if first in ("ar", "vi") else 1),
        "max_minutes_per_week": _weighted(rng, WINTER_WEEKLY_MINUTES),
        "max_km": round(rng.uniform(shortest, longest) * 2) / 2,
        "mode": mode,
        "availability": stretches,
    }
    per_day = _weighted(rng, WINTER_VISITS_PER_DAY)
    if per_day is not None:
        volunteer["max_visits_per_day"] = per_day
    if rng.random() < 0.1:
        volunteer["absences"] = [{"date": (monday + timedelta(days=rng.randrange(7))).isoformat()}]
    return volunteer


def _giving(volunteer: dict[str, Any]) -> int:
    """The minutes a volunteer can give: their weekly minutes within their hours."""
    available = sum(_minutes(a["to"]) - _minutes(a["from"]) for a in volunteer["availability"])
    return min(int(volunteer["max_minutes_per_week"]), available)


def _narrow_window(rng: random.Random, day: str, duration: int) -> dict[str, str]:
    start, end = _stretch(rng, min(DAY_ENDS - DAY_STARTS, duration + _weighted(rng, WINTER_SLACK)))
    return {"day": day, "from": start, "to": end}


def _winter_requests(rng: random.Random, cid: str) -> list[dict[str, Any]]:
    """scarce: a few requests, each on its own one or two weekdays, in narrow windows."""
    count = _weighted(rng, WINTER_REQUESTS)
    requests = []
    for k in range(count):
        duration = _weighted(rng, WINTER_DURATIONS)
        own = rng.sample(WEEKDAYS, _weighted(rng, WINTER_REQUEST_DAYS))
        requests.append(
            {
                "id": f"{cid}-{k + 1}",
                "duration_min": duration,
                "priority": _weighted(rng, PRIORITIES),
                "windows": [_narrow_window(rng, day, duration) for day in sorted(own, key=DAYS.index)],
            }
        )
    return requests


def _winter_series(rng: random.Random, cid: str) -> list[dict[str, Any]]:
    """flex: a series of visits of one length, each allowed on the same weekdays in the same
    narrow window (rule 10 keeps them on different days)."""
    count = _weighted(rng, SERIES_LENGTH)
    duration = _weighted(rng, WINTER_DURATIONS)
    days = sorted(rng.sample(WEEKDAYS, max(count, _weighted(rng, SERIES_DAYS))), key=DAYS.index)
    first = _narrow_window(rng, days[0], duration)
    windows = [{"day": day, "from": first["from"], "to": first["to"]} for day in days]
    priority = _weighted(rng, PRIORITIES)
    return [
        {"id": f"{cid}-{k + 1}", "duration_min": duration, "priority": priority, "windows": [dict(w) for w in windows]}
        for k in range(count)
    ]


def _could_visit(client: dict[str, Any], volunteer: dict[str, Any]) -> bool:
    """Rules 1-4 roughly, and a stretch of the volunteer's time that holds one of the visits."""
    langs = client["languages"][:1] if client["dementia"] else client["languages"]
    if not (
        set(langs) & set(volunteer["languages"])
        and (volunteer["dementia_trained"] or not client["dementia"])
        and client.get("gender_preference") in (None, volunteer["gender"])
        and _km(client["home"], volunteer["home"]) <= volunteer["max_km"]
    ):
        return False
    return any(
        a["day"] == w["day"]
        and min(_minutes(a["to"]), _minutes(w["to"])) - max(_minutes(a["from"]), _minutes(w["from"]))
        >= r["duration_min"]
        for r in client["requests"]
        for w in r["windows"]
        for a in volunteer["availability"]
    )


def _winter_previous_volunteers(
    rng: random.Random, client: dict[str, Any], volunteers: list[dict[str, Any]], booked: dict[str, int]
) -> list[str]:
    """One or two volunteers who visited this client before: they could do so again, and
    their earlier clients (`booked`: minutes a week) fit into their weekly minutes."""
    need = min(r["duration_min"] for r in client["requests"])
    able = [
        v["id"]
        for v in volunteers
        if booked.get(v["id"], 0) + need <= v["max_minutes_per_week"] and _could_visit(client, v)
    ]
    found = rng.sample(able, min(len(able), 1 if rng.random() < 0.8 else 2))
    for vid in found:
        booked[vid] = booked.get(vid, 0) + need
    return found


def _winter_week(
    size: str, seed: int, monday: date, flexible: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Clients first; then volunteers until they can give 1/WINTER_DEMAND_OVER_SUPPLY of the
    minutes asked; then who knew whom."""
    n_clients = SIZES[size][0]
    rng = random.Random(f"carecal-winter-{'flex' if flexible else 'scarce'}-{size}-{seed}")
    pool = districts()
    client_weights = [_winter_client_weight(d) for d in pool]
    volunteer_weights = [_winter_volunteer_weight(d) for d in pool]
    width = len(str(n_clients))
    clients = []
    for i in range(1, n_clients + 1):
        cid = f"c{i:0{width}d}"
        client = _client(rng, cid, pool, client_weights, WINTER_CLIENT_MOTHER_TONGUE, WINTER_GENDER_WISH)
        client["requests"] = _winter_series(rng, cid) if flexible else _winter_requests(rng, cid)
        clients.append(client)
    wanted = sum(r["duration_min"] for c in clients for r in c["requests"]) / WINTER_DEMAND_OVER_SUPPLY
    volunteers: list[dict[str, Any]] = []
    given = 0
    while given < wanted:
        volunteer = _winter_volunteer(
            rng, f"v{len(volunteers) + 1:0{width}d}", monday, _home(rng, pool, volunteer_weights)
        )
        volunteers.append(volunteer)
        given += _giving(volunteer)
    booked: dict[str, int] = {}
    for client in clients:
        if rng.random() < 0.35 and (previous := _winter_previous_volunteers(rng, client, volunteers, booked)):
            client["previous_volunteers"] = previous
        if rng.random() < 0.03:
            known = set(client.get("previous_volunteers", []))
            client["excluded_volunteers"] = [rng.choice([v["id"] for v in volunteers if v["id"] not in known])]
    return volunteers, clients


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
