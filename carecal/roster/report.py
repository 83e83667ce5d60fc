"""The week as a picture: one self-contained HTML page (inline CSS and SVG, no scripts, no
network), for the coordinator's eyes and the office wall.

Privacy: clients appear by first name and initial and homes only at district level (rounded
positions); nothing about health (no care grade, no dementia flag, no insurance number, no
date of birth) is ever read here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import cos, radians, sqrt

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import clock, lifecycle, organisation, privacy
from carecal.errors import NotFound
from carecal.masterdata import districts
from carecal.models import Client, RosterVersion, Volunteer
from carecal.roster.versions import find_week, get_version
from carecal.weeks import DAY_CODES, IsoWeek, to_local

# A solver reason that would reveal a health fact (e.g. "needs a dementia-trained volunteer")
# is replaced on the page by a neutral one; `roster explain` gives the details in the office.
NEUTRAL_REASON = "no volunteer within reach meets this client's particular needs (see `carecal roster explain`)"

# Rounding homes to this grid (about 1 km) shows the district, not the house.
GRID_LAT, GRID_LON = 0.01, 0.015
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640, 480, 24
KM_PER_DEGREE_LAT = 111.32
SCALE_STEPS_KM = (0.5, 1, 2, 5, 10, 20)


@dataclass
class Row:
    volunteer: str
    label: str
    minutes: int
    max_minutes: int
    days: list[list[dict]] = field(default_factory=lambda: [[] for _ in DAY_CODES])

    @property
    def load_percent(self) -> int:
        return round(100 * self.minutes / self.max_minutes) if self.max_minutes else 0


def without_health_data(reasons: list[str]) -> list[str]:
    safe = [NEUTRAL_REASON if privacy.reveals_health(r) else r for r in reasons]
    return list(dict.fromkeys(safe))  # once each, in order


def _short(first: str, last: str) -> str:
    return f"{first} {last[:1]}."


def _district_point(lat: float, lon: float) -> tuple[float, float]:
    return round(lat / GRID_LAT) * GRID_LAT, round(lon / GRID_LON) * GRID_LON


def choose_version(session: Session, week: IsoWeek, number: int | None) -> RosterVersion:
    """Version `number`, else the published one, else the latest draft."""
    if number is not None:
        return get_version(session, week, number)
    roster_week = find_week(session, week)
    if roster_week is None or not roster_week.versions:
        raise NotFound(f"week {week} has no roster yet: run `carecal roster plan --week {week}`")
    return roster_week.published or roster_week.versions[-1]


def week_report_context(session: Session, version: RosterVersion) -> dict:
    instance = version.instance or {}
    tz = organisation.timezone(session)
    week = IsoWeek.parse(version.roster_week.week)
    scheduled = {v["id"]: v for v in instance.get("volunteers", [])}
    # what history a plan kept outside the solve took off each volunteer's maximum
    kept_minutes = (version.stats or {}).get("kept_minutes", {})
    visits = [v for v in version.visits if v.status == "planned"]
    stages = lifecycle.stages(session, version)
    people = {
        v.external_id: v
        for v in session.scalars(
            select(Volunteer).where(
                Volunteer.external_id.in_(scheduled.keys() | {x.volunteer.external_id for x in visits})
            )
        )
    }

    rows: dict[str, Row] = {}
    for vid in sorted(people):
        person = people[vid]
        rows[vid] = Row(
            vid,
            _short(person.first_name, person.last_name),
            0,
            scheduled[vid]["max_minutes_per_week"] + kept_minutes.get(vid, 0)
            if vid in scheduled
            else person.max_minutes_per_week,
        )
    for visit in sorted(visits, key=lambda x: x.starts_at):
        row = rows[visit.volunteer.external_id]
        start, end = to_local(visit.starts_at, tz), to_local(visit.ends_at, tz)
        stage = stages[visit.id]
        if stage.outcome not in lifecycle.CANCELLATIONS:
            row.minutes += int((visit.ends_at - visit.starts_at).total_seconds() // 60)
        row.days[start.weekday()].append(
            {
                "time": f"{start:%H:%M}–{end:%H:%M}",
                "client": _short(visit.client.first_name, visit.client.last_name),
                "request": visit.request_key,
                "pinned": visit.pinned,
                "stage": str(stage),
                "outcome": "cancelled" if stage.outcome in lifecycle.CANCELLATIONS else stage.outcome,
            }
        )

    solved = sum(len(c["requests"]) for c in instance.get("clients", []))
    kept = len((version.stats or {}).get("kept", []))
    requests = (solved + kept) or (len(visits) + len(version.unassigned))
    unassigned = [
        {
            "request": u.request_key,
            "client": _short(u.client.first_name, u.client.last_name),
            "district": u.client.district or "",
            "reasons": without_health_data(u.reasons),
        }
        for u in version.unassigned
    ]
    org = organisation.find(session)
    loads = [r.load_percent for r in rows.values() if r.max_minutes]
    return {
        "organisation": org.name if org else "carecal",
        "week": str(week),
        "version": version,
        "tz": tz,
        "published_at": to_local(version.published_at, tz) if version.published_at else None,
        "days": [{"code": code, "date": d} for code, d in zip(DAY_CODES, week.days(), strict=True)],
        "rows": [r for r in rows.values() if r.minutes or r.volunteer in scheduled],
        "unassigned": unassigned,
        "figures": {
            "requests": requests,
            "covered": len(visits),
            "coverage_percent": round(100 * len(visits) / requests, 1) if requests else 0.0,
            "volunteers_busy": sum(1 for r in rows.values() if r.minutes),
            "volunteers": len(rows),
            "hours": round(sum(r.minutes for r in rows.values()) / 60, 1),
            "mean_load": round(sum(loads) / len(loads)) if loads else 0,
            "max_load": max(loads) if loads else 0,
        },
        "map": _map(session, visits, version, people),
        "generated": to_local(clock.now(), tz),
    }


def _map(session: Session, visits, version: RosterVersion, people: dict[str, Volunteer]) -> dict:
    """Homes (volunteers, clients) and assignment lines on a district-level sketch: positions
    are rounded to about a kilometre, so several people share a point; its size says how many."""
    client_ids = {v.client_id for v in visits} | {u.client_id for u in version.unassigned}
    clients = session.scalars(select(Client).where(Client.id.in_(client_ids))).all() if client_ids else []
    uncovered = {u.client_id for u in version.unassigned} - {v.client_id for v in visits}
    volunteer_at = {p.external_id: _district_point(p.lat, p.lon) for p in people.values()}
    client_at = {c.id: _district_point(c.lat, c.lon) for c in clients}
    points = [*volunteer_at.values(), *client_at.values()]
    empty = {
        "width": MAP_WIDTH,
        "height": MAP_HEIGHT,
        "volunteers": [],
        "clients": [],
        "lines": [],
        "districts": [],
        "scale": None,
    }
    if not points:
        return empty
    # A margin of one grid cell, and kilometres the same length across and down.
    lat_lo, lat_hi = min(p[0] for p in points) - GRID_LAT, max(p[0] for p in points) + GRID_LAT
    lon_lo, lon_hi = min(p[1] for p in points) - GRID_LON, max(p[1] for p in points) + GRID_LON
    squash = cos(radians((lat_lo + lat_hi) / 2))
    scale = min(
        (MAP_WIDTH - 2 * MAP_MARGIN) / ((lon_hi - lon_lo) * squash), (MAP_HEIGHT - 2 * MAP_MARGIN) / (lat_hi - lat_lo)
    )
    x0 = (MAP_WIDTH - (lon_hi - lon_lo) * squash * scale) / 2
    y0 = (MAP_HEIGHT - (lat_hi - lat_lo) * scale) / 2

    def xy(point: tuple[float, float]) -> tuple[int, int]:
        return round(x0 + (point[1] - lon_lo) * squash * scale), round(y0 + (lat_hi - point[0]) * scale)

    # District names where people live, at the district's centre; a scale bar of a round length.
    lived_in = {p.district for p in people.values()} | {c.district for c in clients}
    names = [
        {"name": name, "x": xy(point)[0], "y": xy(point)[1]}
        for name, point in sorted(districts.districts().items())
        if name in lived_in and lat_lo <= point[0] <= lat_hi and lon_lo <= point[1] <= lon_hi
    ]
    px_per_km = scale / KM_PER_DEGREE_LAT
    bar_km = max((km for km in SCALE_STEPS_KM if km * px_per_km <= MAP_WIDTH / 4), default=SCALE_STEPS_KM[0])
    pairs = sorted({(xy(volunteer_at[v.volunteer.external_id]), xy(client_at[v.client_id])) for v in visits})
    volunteers = Counter(xy(p) for p in volunteer_at.values())
    clients_here = Counter((xy(client_at[c.id]), c.id in uncovered) for c in clients)
    return {
        "width": MAP_WIDTH,
        "height": MAP_HEIGHT,
        "lines": [{"from": a, "to": b} for a, b in pairs],
        "districts": names,
        "scale": {"km": bar_km, "px": round(bar_km * px_per_km), "x": MAP_MARGIN, "y": MAP_HEIGHT - 14},
        "volunteers": [
            {"x": x, "y": y, "n": n, "size": round(9 + 3 * sqrt(n), 1)} for (x, y), n in sorted(volunteers.items())
        ],
        "clients": [
            {"x": x, "y": y, "n": n, "uncovered": u, "r": round(3 + 1.8 * sqrt(n), 1)}
            for ((x, y), u), n in sorted(clients_here.items())
        ],
    }


def render_week_report(session: Session, week: IsoWeek, number: int | None = None) -> str:
    version = choose_version(session, week, number)
    env = Environment(
        loader=PackageLoader("carecal", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("week_report.html").render(**week_report_context(session, version))
