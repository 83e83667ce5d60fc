"""Offline geocoding: the Chemnitz districts and their approximate centres.

The district table has one home, the solver package (`solver/data/chemnitz_districts.json`,
read by `solver.generate.districts()`): the solver must work without carecal, and carecal
may use the solver. Distances are the solver's great-circle distance, the same the
interchange format defines (docs/format.md).
"""

from functools import cache

from solver.generate import districts as district_table
from solver.instance import Place
from solver.travel import great_circle_km

# A home farther than this from the city's centre is almost surely a typo or swapped lat/lon.
MAX_KM_FROM_CITY = 60.0


@cache
def districts() -> dict[str, tuple[float, float]]:
    """Each district's name and approximate centre (lat, lon)."""
    return {d.name: (d.lat, d.lon) for d in district_table()}


@cache
def areas_km2() -> dict[str, float]:
    return {d.name: d.area_km2 for d in district_table()}


def find(name: str) -> str | None:
    """The district's official spelling, matching case-insensitively."""
    lowered = name.casefold()
    return next((known for known in districts() if known.casefold() == lowered), None)


def centroid(name: str) -> tuple[float, float]:
    return districts()[name]


def city_centre() -> tuple[float, float]:
    points = districts().values()
    return (sum(lat for lat, _ in points) / len(points), sum(lon for _, lon in points) / len(points))


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, as the solver computes it (docs/format.md, "Travel")."""
    return great_circle_km(Place(*a), Place(*b))
