"""Builders for the smallest instances and hand-made rosters the solver tests need.

Week 2026-W48: Monday 23 November 2026, winter time (+01:00) all week. By default one
volunteer and one client live 0.29 km apart (0.37 km with the detour factor).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = "2026-W48"
TUESDAY = "2026-11-24"
VOLUNTEER_HOME = {"lat": 50.8322, "lon": 12.9252}
CLIENT_HOME = {"lat": 50.8348, "lon": 12.9252}


def volunteer(vid: str = "v1", **fields) -> dict:
    return {
        "id": vid,
        "home": dict(VOLUNTEER_HOME),
        "languages": ["ru", "de"],
        "gender": "f",
        "dementia_trained": True,
        "max_minutes_per_week": 600,
        "max_visits_per_day": 3,
        "max_km": 5.0,
        "mode": "transit",
        "availability": [{"day": "tue", "from": "09:00", "to": "18:00"}],
        **fields,
    }


def request(rid: str, duration_min: int = 120, priority: int = 1, windows: list | None = None) -> dict:
    return {
        "id": rid,
        "duration_min": duration_min,
        "priority": priority,
        "windows": windows or [window("tue", "13:00", "18:00")],
    }


def client(cid: str = "c1", requests: list | None = None, **fields) -> dict:
    return {
        "id": cid,
        "home": dict(CLIENT_HOME),
        "languages": ["ru"],
        "dementia": False,
        "care_level": 2,
        "requests": requests if requests is not None else [request(f"{cid}-1")],
        **fields,
    }


def window(day: str, start: str, end: str) -> dict:
    return {"day": day, "from": start, "to": end}


def instance(volunteers: list[dict], clients: list[dict], pins: list | None = None, week: str = WEEK, **fields) -> dict:
    return {
        "format": "carecal-instance/1",
        "week": week,
        "timezone": "Europe/Berlin",
        "volunteers": volunteers,
        "clients": clients,
        "pins": pins or [],
        **fields,
    }


def local(stamp: str) -> str:
    """'2026-11-24 14:00' (Berlin wall clock) -> ISO 8601 with the offset in force then."""
    return datetime.fromisoformat(stamp).replace(tzinfo=BERLIN).isoformat()


def visit(inst: dict, request_id: str, volunteer_id: str, start: str, minutes: int | None = None) -> dict:
    """An assignment starting at a Berlin wall-clock time, lasting the request's duration."""
    owner, req = next((c, r) for c in inst["clients"] for r in c["requests"] if r["id"] == request_id)
    begin = datetime.fromisoformat(start).replace(tzinfo=BERLIN)
    end = (begin.astimezone(UTC) + timedelta(minutes=minutes or req["duration_min"])).astimezone(BERLIN)
    return {
        "request": request_id,
        "client": owner["id"],
        "volunteer": volunteer_id,
        "start": begin.isoformat(),
        "end": end.isoformat(),
    }


def roster(inst: dict, assignments: list[dict]) -> dict:
    """A roster with these assignments; every other request unassigned with a reason."""
    assigned = {a["request"] for a in assignments}
    return {
        "format": "carecal-roster/1",
        "week": inst["week"],
        "status": "FEASIBLE",
        "assignments": assignments,
        "unassigned": [
            {"request": r["id"], "client": c["id"], "reasons": ["left open by hand"]}
            for c in inst["clients"]
            for r in c["requests"]
            if r["id"] not in assigned
        ],
        "stats": {"objective": 0, "best_bound": 0, "solve_seconds": 0.0},
    }


def assignment_of(result: dict, request_id: str) -> dict | None:
    return next((a for a in result["assignments"] if a["request"] == request_id), None)


def unassigned_of(result: dict, request_id: str) -> dict | None:
    return next((u for u in result["unassigned"] if u["request"] == request_id), None)


def local_start(a: dict) -> datetime:
    return datetime.fromisoformat(a["start"]).astimezone(BERLIN)


def local_end(a: dict) -> datetime:
    return datetime.fromisoformat(a["end"]).astimezone(BERLIN)
