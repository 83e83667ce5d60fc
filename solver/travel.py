"""Distances and travel times exactly as docs/format.md defines them."""

from __future__ import annotations

import math

from solver.instance import Place, Travel

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(a: Place, b: Place) -> float:
    """Haversine distance between two places, in km."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(travel: Travel, a: Place, b: Place) -> float:
    return great_circle_km(a, b) * travel.detour_factor


def travel_minutes(travel: Travel, speed_kmh: float, a: Place, b: Place) -> int:
    """Minutes a volunteer moving at `speed_kmh` needs from a to b (0 for the same place)."""
    if a == b:
        return 0
    return math.ceil(distance_km(travel, a, b) / speed_kmh * 60) + travel.fixed_minutes
