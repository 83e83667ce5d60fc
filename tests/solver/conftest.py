"""Tiny instance builders for the solver tests (QA's tests may use them too).

`week()` returns a valid carecal-instance/1 document; `volunteer()`, `client()` and
`request()` build its parts with defaults that make every pair match, so a test changes
only the one fact it is about.
"""

from __future__ import annotations

import copy

import pytest

CENTRE = (50.8322, 12.9252)   # Chemnitz, Markt


def place(dlat: float = 0.0, dlon: float = 0.0) -> dict:
    return {"lat": round(CENTRE[0] + dlat, 6), "lon": round(CENTRE[1] + dlon, 6)}


def volunteer(id: str = "v1", **fields) -> dict:
    doc = {"id": id, "home": place(), "languages": ["de", "ru"], "gender": "f",
           "dementia_trained": True, "max_minutes_per_week": 600, "max_visits_per_day": 3,
           "max_km": 10.0, "mode": "transit",
           "availability": [{"day": d, "from": "08:00", "to": "18:00"} for d in ("mon", "tue", "wed", "thu", "fri")]}
    doc.update(fields)
    return doc


def request(id: str = "c1-1", day: str = "tue", start: str = "09:00", end: str = "12:00",
            duration: int = 60, priority: int = 1) -> dict:
    return {"id": id, "duration_min": duration, "priority": priority,
            "windows": [{"day": day, "from": start, "to": end}]}


def client(id: str = "c1", requests: list[dict] | None = None, **fields) -> dict:
    doc = {"id": id, "home": place(0.01, 0.0), "languages": ["ru", "de"], "dementia": False,
           "care_level": 2, "requests": requests if requests is not None else [request(f"{id}-1")]}
    doc.update(fields)
    return doc


def week(volunteers: list[dict] | None = None, clients: list[dict] | None = None,
         pins: list[dict] | None = None, week: str = "2026-W48", **fields) -> dict:
    doc = {"format": "carecal-instance/1", "week": week, "timezone": "Europe/Berlin",
           "volunteers": volunteers if volunteers is not None else [volunteer()],
           "clients": clients if clients is not None else [client()]}
    if pins is not None:
        doc["pins"] = pins
    doc.update(fields)
    return copy.deepcopy(doc)


@pytest.fixture
def tiny() -> dict:
    return week()
