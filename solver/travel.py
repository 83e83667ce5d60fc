"""Distances and travel times exactly as docs/format.md defines them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from solver.instance import Instance, Place, Travel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

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


def distances_km(
    travel: Travel, a: Place, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """distance_km from a to many places at once (their latitudes and longitudes in radians).
    The same formula over NumPy arrays, whose sines may differ from the math module's in the
    last bits: a caller deciding a limit with it leaves a margin and asks distance_km there."""
    import numpy as np  # (here, not above: the application imports this module for distance_km alone)

    lat, lon = math.radians(a.lat), math.radians(a.lon)
    h = np.sin((lats - lat) / 2) ** 2 + math.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    km: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))) * travel.detour_factor
    return km


def travel_minutes(travel: Travel, speed_kmh: float, a: Place, b: Place) -> int:
    """Minutes a volunteer moving at `speed_kmh` needs from a to b (0 for the same place)."""
    if a == b:
        return 0
    return math.ceil(distance_km(travel, a, b) / speed_kmh * 60) + travel.fixed_minutes


class TravelTimes:
    """travel_minutes(volunteer, from client's home, to client's home) for an instance, kept
    once computed: rule 6 asks for the same pairs again and again. Called as
    `times(v, a, b)` with indices of a volunteer and two clients."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self._minutes: dict[tuple[float, int, int], int] = {}

    def __call__(self, v: int, a: int, b: int) -> int:
        speed = self.inst.volunteers[v].speed_kmh
        key = (speed, a, b) if a <= b else (speed, b, a)
        found = self._minutes.get(key)
        if found is None:
            clients = self.inst.clients
            found = self._minutes[key] = (
                0 if a == b else travel_minutes(self.inst.travel, speed, clients[a].home, clients[b].home)
            )
        return found
