"""Small builders for test data: the fewest facts a test needs, everything else a sane default.

Every builder takes a Session, adds the object, flushes (so ids exist) and returns it.
"""

from datetime import date, datetime, time, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal.models import (
    Absence,
    Activity,
    ActivityCategory,
    AvailabilityWindow,
    CareGrade,
    CareRequest,
    Client,
    Insurer,
    Organisation,
    Rate,
    RosterVersion,
    RosterWeek,
    Training,
    Visit,
    Volunteer,
)
from carecal.weeks import IsoWeek, local

# Numbers for external ids (v001, c002, ...). Restarted before every test (conftest), so a
# test's ids do not depend on which tests ran before it in the same process: a test may
# then rely on an id like c999 being unknown.
_ids = count(1)


def restart_ids() -> None:
    global _ids
    _ids = count(1)


# Zentrum of Chemnitz and a few points within a couple of km of it.
CENTRE = (50.8322, 12.9252)


# What an invoice prints besides the address (the defaults of `organisation`).
INVOICE_DETAILS = {
    "tax_number": "215/140/01234",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "bank_name": "Beispielbank Chemnitz",
    "payment_term_days": 14,
}
# The care insurer clients have unless a test names another, with its postal address.
AOK = {"ik": "107299005", "name": "AOK PLUS", "street": "Sternplatz 7", "postcode": "01067", "city": "Dresden"}


def organisation(session: Session, *, insurers=(AOK,), **fields) -> Organisation:
    """The association, ready to bill: address, invoice details and its clients' insurer."""
    org = Organisation(
        **{
            "name": "Brücke Chemnitz e. V.",
            "ik": "461234567",
            "street": "Straße der Nationen 12",
            "postcode": "09111",
            "city": "Chemnitz",
            "timezone": "Europe/Berlin",
            **INVOICE_DETAILS,
            **fields,
        }
    )
    session.add(org)
    session.add_all(Insurer(**values) for values in insurers)
    session.flush()
    return org


def rate(
    session: Session,
    org: Organisation,
    kind: str,
    amount_cents: int,
    valid_from: date,
    valid_to: date | None = None,
    key: str | None = None,
) -> Rate:
    row = Rate(
        organisation=org, kind=kind, key=key, amount_cents=amount_cents, valid_from=valid_from, valid_to=valid_to
    )
    session.add(row)
    session.flush()
    return row


def volunteer(
    session: Session,
    *,
    availability=(
        ("mon", "08:00", "20:00"),
        ("tue", "08:00", "20:00"),
        ("wed", "08:00", "20:00"),
        ("thu", "08:00", "20:00"),
        ("fri", "08:00", "20:00"),
    ),
    trainings=(("basic", date(2024, 1, 15), None), ("dementia", date(2024, 3, 1), None)),
    **fields,
) -> Volunteer:
    n = next(_ids)
    v = Volunteer(
        **{
            "external_id": f"v{n:03d}",
            "first_name": "Natalia",
            "last_name": f"Volkova{n}",
            "email": f"v{n}@example.org",
            "lat": CENTRE[0],
            "lon": CENTRE[1],
            "languages": ["ru", "de"],
            "gender": "f",
            "travel_mode": "transit",
            "max_km": 8.0,
            "max_minutes_per_week": 600,
            "max_visits_per_day": 3,
            "ui_language": "de",
            **fields,
        }
    )
    for day, start, end in availability:
        v.availability.append(
            AvailabilityWindow(
                weekday=("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(day),
                start=time.fromisoformat(start),
                end=time.fromisoformat(end),
            )
        )
    for kind, completed, expires in trainings:
        v.trainings.append(Training(kind=kind, completed_on=completed, expires_on=expires))
    session.add(v)
    session.flush()
    return v


def absence(session: Session, v: Volunteer, starts_at: datetime, ends_at: datetime) -> Absence:
    row = Absence(volunteer=v, starts_at=starts_at, ends_at=ends_at)
    session.add(row)
    session.flush()
    return row


def client(session: Session, *, care_grade: int | None = 3, grade_from: date = date(2024, 1, 1), **fields) -> Client:
    n = next(_ids)
    c = Client(
        **{
            "external_id": f"c{n:03d}",
            "first_name": "Raissa",
            "last_name": f"Petrowa{n}",
            "date_of_birth": date(1941, 5, 9),
            "street": "Markersdorfer Str. 1",
            "postcode": "09123",
            "district": "Markersdorf",
            "lat": CENTRE[0] + 0.005,
            "lon": CENTRE[1] + 0.005,
            "languages": ["ru", "de"],
            "dementia": False,
            "insurer_name": "AOK PLUS",
            "insurer_ik": "107299005",
            "insurance_number": f"A{n:09d}",
            **fields,
        }
    )
    if care_grade is not None:
        c.care_grades.append(CareGrade(grade=care_grade, valid_from=grade_from))
    session.add(c)
    session.flush()
    return c


# The activity a request gets unless a test names another (created on first use).
WALK = (
    "conversation_walk",
    {
        "de": "Gespräch und Spaziergang",
        "ru": "Беседа и прогулка",
        "uk": "Розмова і прогулянка",
        "en": "Conversation and a walk",
    },
)


# The service category requests have unless a test names another (created on first use).
CARE = (
    "betreuung",
    {"de": "Betreuung", "ru": "Общение и присмотр", "uk": "Спілкування та догляд", "en": "Company and care"},
)


def category(session: Session, key: str, labels: dict[str, str]) -> ActivityCategory:
    """The catalogue's service category `key` (made with these labels if it does not exist yet)."""
    found = session.scalars(select(ActivityCategory).where(ActivityCategory.key == key)).one_or_none()
    if found is not None:
        return found
    row = ActivityCategory(key=key, labels=labels)
    session.add(row)
    session.flush()
    return row


def activity(session: Session, key: str, labels: dict[str, str], category_key: str | None = None) -> Activity:
    """The catalogue entry `key` (made with these labels if it does not exist yet)."""
    found = session.scalars(select(Activity).where(Activity.key == key)).one_or_none()
    if found is not None:
        return found
    row = Activity(key=key, labels=labels, category_key=category_key)
    session.add(row)
    session.flush()
    return row


def care_request(session: Session, c: Client, *, windows=(("tue", "13:00", "18:00"),), **fields) -> CareRequest:
    category(session, *CARE)
    if "activity_key" not in fields:
        fields["activity_key"] = activity(session, *WALK, category_key=CARE[0]).key
    n = len(c.requests) + 1
    r = CareRequest(
        **{
            "external_id": f"{c.external_id}-{n}",
            "client": c,
            "duration_min": 120,
            "visits_per_week": 1,
            "windows": [{"day": d, "from": f, "to": t} for d, f, t in windows],
            "priority": 1,
            "category": "betreuung",
            "valid_from": date(2024, 1, 1),
            **fields,
        }
    )
    session.add(r)
    session.flush()
    return r


def published_visit(
    session: Session,
    week: str,
    request: CareRequest,
    v: Volunteer,
    *,
    day: str = "tue",
    start: str = "14:00",
    status: str = "planned",
    actor: str = "coordinator",
) -> Visit:
    """A visit in the week's published version (created on first use)."""
    iso = IsoWeek.parse(week)
    roster_week = session.query(RosterWeek).filter_by(week=week).one_or_none()
    if roster_week is None:
        roster_week = RosterWeek(week=week)
        session.add(roster_week)
    version = roster_week.published
    if version is None:
        version = RosterVersion(
            roster_week=roster_week,
            number=len(roster_week.versions) + 1,
            status="published",
            created_by=actor,
            published_by=actor,
            published_at=local(iso.monday, time(8)),
        )
        session.add(version)
    starts_at = local(iso.day(day), time.fromisoformat(start))
    key = f"{request.external_id}#{sum(1 for x in version.visits if x.care_request_id == request.id) + 1}"
    visit = Visit(
        version=version,
        request_key=key,
        care_request=request,
        client=request.client,
        volunteer=v,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=request.duration_min),
        status=status,
    )
    session.add(visit)
    session.flush()
    return visit


def republish(session: Session, week: str, published_at: datetime, *, actor: str = "coordinator") -> RosterVersion:
    """A new published version of the week (empty; add visits with published_visit): the
    one published so far becomes superseded and keeps its visits, as after a replan."""
    roster_week = session.query(RosterWeek).filter_by(week=week).one()
    previous = roster_week.published
    if previous is not None:
        previous.status = "superseded"
    version = RosterVersion(
        roster_week=roster_week,
        number=len(roster_week.versions) + 1,
        status="published",
        based_on=previous.number if previous else None,
        created_by=actor,
        published_by=actor,
        published_at=published_at,
    )
    session.add(version)
    session.flush()
    return version


def billing_rates(session: Session, org: Organisation, *, price_cents: int = 1800) -> list[Rate]:
    """The rates billing needs: the hourly price, the volunteer allowance and the legal
    amounts (§45b relief 125 € to 2024, 131 € from 2025; §45a(4) maxima; §3 Nr. 26 limits)."""
    rows = [
        ("price_per_hour", "betreuung", price_cents, date(2024, 1, 1), None),
        ("allowance_per_hour", None, 900, date(2024, 1, 1), None),
        ("relief_amount_month", None, 12500, date(2017, 1, 1), date(2024, 12, 31)),
        ("relief_amount_month", None, 13100, date(2025, 1, 1), None),
        ("conversion_max_month", "2", 31840, date(2025, 1, 1), None),
        ("conversion_max_month", "3", 59880, date(2025, 1, 1), None),
        ("conversion_max_month", "4", 74360, date(2025, 1, 1), None),
        ("conversion_max_month", "5", 91960, date(2025, 1, 1), None),
        ("tax_free_limit_year", "3_26", 300000, date(2021, 1, 1), date(2025, 12, 31)),
        ("tax_free_limit_year", "3_26", 330000, date(2026, 1, 1), None),
        ("tax_free_limit_year", "3_26a", 84000, date(2021, 1, 1), date(2025, 12, 31)),
        ("tax_free_limit_year", "3_26a", 96000, date(2026, 1, 1), None),
    ]
    return [rate(session, org, kind, cents, start, end, key=key) for kind, key, cents, start, end in rows]
