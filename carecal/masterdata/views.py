"""Volunteers and clients as the coordinator looks them up: lists and one person's card.

Plain data (dicts, lists, dates; times in the organisation's wall clock) that
`carecal volunteer ...` and `carecal client ...` print. The client lists carry no health
data; a client's card does (it is the coordinator's own screen, never a file or feed).
"""

import difflib
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carecal import catalogue, clock, lookup, organisation
from carecal.billing.allowance import LIMITS
from carecal.errors import InputError
from carecal.masterdata import districts
from carecal.masterdata.codecs import ISO_639_1
from carecal.models import WEEKDAYS, CareRequest, Client, Exclusion, Volunteer
from carecal.privacy import mask_iban
from carecal.weeks import to_local

TRAINING_KINDS = ("basic", "dementia")


def training_state(volunteer: Volunteer, kind: str, day: date) -> str:
    """'to 2027-10-03', 'no expiry', 'lapsed' or 'none' on `day`."""
    valid = [t for t in volunteer.trainings if t.kind == kind and t.valid_on(day)]
    if valid:
        ends = max((t.expires_on for t in valid), key=lambda e: e or date.max)
        return f"to {ends}" if ends else "no expiry"
    if any(t.kind == kind for t in volunteer.trainings):
        return "lapsed"
    return "none"


def _home(person: Volunteer | Client) -> str:
    return ", ".join(x for x in (person.street, f"{person.postcode or ''} {person.district or ''}".strip()) if x)


def _location(person: Volunteer | Client) -> str:
    return f"{person.lat:.5f}, {person.lon:.5f}" + (
        " (district centre: approximate)" if person.location_approximate else ""
    )


def _period(start: datetime, end: datetime, tz: str) -> tuple[datetime, datetime]:
    return to_local(start, tz), to_local(end, tz)


def volunteer_rows(
    session: Session, day: date, *, include_inactive: bool = False, language: str | None = None
) -> list[dict]:
    """Volunteers (active ones unless `include_inactive`; only speakers of `language` if
    given) with languages, travel, weekly cap and their trainings' state on `day`."""
    if language is not None and language.lower() not in ISO_639_1:
        raise InputError(f"--language {language!r} is not an ISO 639-1 code like ru, uk, de or ar")
    query = select(Volunteer).options(selectinload(Volunteer.trainings)).order_by(Volunteer.external_id)
    if not include_inactive:
        query = query.where(Volunteer.active.is_(True))
    return [
        {
            "id": v.external_id,
            "name": v.name,
            "active": v.active,
            "district": v.district or "",
            "languages": list(v.languages),
            "gender": v.gender,
            "travel_mode": v.travel_mode,
            "max_km": v.max_km,
            "hours_per_week": v.max_minutes_per_week / 60,
            "trainings": {kind: training_state(v, kind, day) for kind in TRAINING_KINDS},
        }
        for v in session.scalars(query)
        if language is None or language.lower() in v.languages
    ]


def volunteer_card(session: Session, external_id: str, day: date) -> dict:
    """Everything about one volunteer: contact, home, languages, limits, availability,
    trainings (valid on `day`?), absences still ahead and whom they must not visit."""
    v = lookup.volunteer(session, external_id)
    tz = organisation.timezone(session)
    now = clock.now()
    exclusions = session.scalars(select(Exclusion).where(Exclusion.volunteer_id == v.id)).all()
    return {
        "id": v.external_id,
        "name": v.name,
        "active": v.active,
        "gender": v.gender,
        "phone": v.phone or "",
        "email": v.email or "",
        "home": _home(v),
        "location": _location(v),
        "languages": list(v.languages),
        "ui_language": v.ui_language,  # None: not chosen
        "calendar_language": catalogue.feed_language(v.ui_language, v.languages, catalogue.load(session).languages),
        "travel_mode": v.travel_mode,
        "max_km": v.max_km,
        "max_minutes_per_week": v.max_minutes_per_week,
        "max_visits_per_day": v.max_visits_per_day,
        "availability": [f"{WEEKDAYS[w.weekday]} {w.start:%H:%M}-{w.end:%H:%M}" for w in v.availability],
        "allowance_account": f"{mask_iban(v.iban)} ({v.payee})" if v.iban else "no IBAN on file",
        "allowance_limit": LIMITS[v.allowance_limit],
        "trainings": [
            {"kind": t.kind, "completed_on": t.completed_on, "expires_on": t.expires_on, "valid": t.valid_on(day)}
            for t in v.trainings
        ],
        "absences_ahead": [
            {"period": _period(a.starts_at, a.ends_at, tz), "override": a.override_id is not None}
            for a in v.absences
            if a.ends_at > now
        ],
        "must_not_visit": [
            {"client": e.client.external_id, "label": e.client.short_label, "kind": e.kind, "until": e.until}
            for e in exclusions
        ],
    }


def _known_district(session: Session, name: str) -> str:
    """`name` as a district of the city (or of a client on file), else an error that says
    which are known: a typo must not look like an empty district."""
    on_file = {d for d in session.scalars(select(Client.district).where(Client.district.is_not(None))) if d}
    known = {d.casefold(): d for d in (*districts.districts(), *on_file)}
    if name.casefold() in known:
        return known[name.casefold()]
    close = difflib.get_close_matches(name, sorted(set(known.values())), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(sorted(set(known.values())))}"
    raise InputError(f"--district {name!r} is not a district of the city or of any client ({hint})")


def client_rows(session: Session, *, include_inactive: bool = False, district: str | None = None) -> list[dict]:
    """Clients (active ones unless `include_inactive`; only those living in `district`)
    with languages, gender wish, visits a week today and who is billed. No health data."""
    query = select(Client).options(selectinload(Client.requests)).order_by(Client.external_id)
    if not include_inactive:
        query = query.where(Client.active.is_(True))
    if district:
        query = query.where(Client.district.ilike(_known_district(session, district)))
    today = organisation.today(session)
    return [
        {
            "id": c.external_id,
            "name": c.name,
            "active": c.active,
            "district": c.district or "",
            "languages": list(c.languages),
            "gender_preference": c.gender_preference or "",
            "visits_per_week": sum(r.visits_per_week for r in c.requests if r.valid_to is None or r.valid_to >= today),
            "billed_to": "insurer" if c.benefits_assigned_on else "client",
        }
        for c in session.scalars(query)
    ]


def client_card(session: Session, external_id: str) -> dict:
    """Everything about one client, health data included: contact, home, languages, care
    grade today and its history, insurer, representative, consent, billing, care
    requests, who must not visit and when the client is away (still ahead)."""
    c = lookup.client(session, external_id)
    tz = organisation.timezone(session)
    today, now = clock.today(tz), clock.now()
    requests = session.scalars(
        select(CareRequest).where(CareRequest.client_id == c.id).order_by(CareRequest.external_id)
    ).all()
    activities = catalogue.load(session)
    return {
        "id": c.external_id,
        "name": c.name,
        "active": c.active,
        "date_of_birth": c.date_of_birth,
        "phone": c.phone or "",
        "home": _home(c),
        "location": _location(c),
        "languages": list(c.languages),
        "dementia": c.dementia,
        "care_grade_today": c.care_grade_on(today),
        "care_grades": [(g.grade, g.valid_from) for g in c.care_grades],
        "gender_preference": c.gender_preference,
        "insurer_name": c.insurer_name,
        "insurer_ik": c.insurer_ik,
        "insurance_number": c.insurance_number or "",
        "representative": [x for x in (c.representative_name, c.representative_contact) if x],
        "consent_recorded_on": c.consent_recorded_on,
        "benefits_assigned_on": c.benefits_assigned_on,
        "conversion_budget_opt_in": c.conversion_budget_opt_in,
        "family_feed_opt_in": c.family_feed_opt_in,
        "requests": [
            {
                "id": r.external_id,
                "activity": activities.label(r.activity_key),
                "category": activities.category_label(r.category),
                "note": r.note or "",
                "visits_per_week": r.visits_per_week,
                "duration_min": r.duration_min,
                "windows": [f"{w['day']} {w['from']}-{w['to']}" for w in r.windows],
                "priority": r.priority,
                "valid_from": r.valid_from,
                "valid_to": r.valid_to,
            }
            for r in requests
        ],
        "must_not_be_visited_by": [
            {"volunteer": e.volunteer.external_id, "name": e.volunteer.name, "kind": e.kind, "until": e.until}
            for e in c.exclusions
        ],
        "away_ahead": [_period(a.starts_at, a.ends_at, tz) for a in c.away if a.ends_at > now],
    }
