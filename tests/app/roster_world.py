"""A small association for the roster workflow tests: enough people for real choices,
few enough for a solve of well under a second.

Six volunteers and eight clients around Chemnitz-Zentrum in week 2026-W48. Every request
has at least two volunteers who could take it, so an absence forces a move, not a gap.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from carecal.models import CareRequest, Client, Organisation, Volunteer
from tests import factories

WEEK = "2026-W48"  # Monday 23 November 2026

WEEKDAYS_9_TO_17 = tuple((d, "09:00", "17:00") for d in ("mon", "tue", "wed", "thu", "fri"))


@dataclass
class World:
    organisation: Organisation
    volunteers: dict[str, Volunteer] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    requests: dict[str, CareRequest] = field(default_factory=dict)


def small_association(session: Session) -> World:
    world = World(factories.organisation(session))
    people = [
        # name, languages, gender, offset (lat, lon) from the centre
        ("Olga", ["ru", "de"], "f", (0.000, 0.000)),
        ("Irina", ["ru", "uk"], "f", (0.004, -0.006)),
        ("Mykola", ["uk", "ru"], "m", (-0.005, 0.004)),
        ("Anna", ["de", "en"], "f", (0.006, 0.006)),
        ("Samir", ["ar", "de"], "m", (-0.004, -0.004)),
        ("Tatjana", ["ru", "de"], "f", (0.002, 0.008)),
    ]
    for first, languages, gender, (dlat, dlon) in people:
        v = factories.volunteer(
            session,
            first_name=first,
            languages=languages,
            gender=gender,
            lat=factories.CENTRE[0] + dlat,
            lon=factories.CENTRE[1] + dlon,
            availability=WEEKDAYS_9_TO_17,
            max_minutes_per_week=480,
            max_km=10.0,
        )
        world.volunteers[first] = v
    clients = [
        # first name, languages, windows
        ("Raissa", ["ru", "de"], (("tue", "13:00", "17:00"),)),
        ("Boris", ["ru"], (("mon", "09:00", "13:00"), ("wed", "09:00", "13:00"))),
        ("Halyna", ["uk", "ru"], (("thu", "10:00", "16:00"),)),
        ("Erika", ["de"], (("fri", "09:00", "12:00"),)),
        ("Amal", ["ar"], (("wed", "13:00", "17:00"),)),
        ("Wera", ["ru", "de"], (("tue", "09:00", "12:00"), ("thu", "09:00", "12:00"))),
        ("Lidia", ["ru"], (("mon", "13:00", "17:00"),)),
        ("Gerhard", ["de"], (("tue", "09:00", "17:00"),)),
    ]
    for i, (first, languages, windows) in enumerate(clients):
        c = factories.client(
            session,
            first_name=first,
            languages=languages,
            district="Zentrum",
            lat=factories.CENTRE[0] + 0.003 * ((i % 3) - 1),
            lon=factories.CENTRE[1] + 0.003 * ((i % 4) - 1.5),
        )
        world.clients[first] = c
        world.requests[first] = factories.care_request(session, c, windows=windows, valid_from=date(2026, 1, 1))
    return world
