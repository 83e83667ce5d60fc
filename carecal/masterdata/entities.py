"""Records (one row's canonical values, keyed by column name) to and from the models.

`record_of(obj)` reads what the database holds in the same shape that parsing a row gives,
so "unchanged" is plain equality and an export is `format(record_of(obj))`. `apply(obj,
record, columns, refs)` writes the named columns onto a model object.

Rows created elsewhere (an override's absence or exclusion) are not part of a record and an
import never touches them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carecal.masterdata.districts import centroid
from carecal.models import (
    WEEKDAYS,
    Absence,
    Activity,
    AvailabilityWindow,
    CareGrade,
    CareRequest,
    Client,
    ClientAway,
    Exclusion,
    Training,
    Volunteer,
)

FILE_EXCLUSION_KINDS = ("relative", "household", "client_wish")


def _scalar_names(layout_names: list[str], special: set[str]) -> list[str]:
    return [name for name in layout_names if name not in special]


def _home_record(obj) -> dict:
    """lat/lon are empty in a record when they were only the district's centre."""
    if obj.location_approximate:
        return {"lat": None, "lon": None}
    return {"lat": obj.lat, "lon": obj.lon}


def _apply_home(obj, record: dict) -> None:
    if record["lat"] is None:
        obj.lat, obj.lon = centroid(record["district"])
        obj.location_approximate = True
    else:
        obj.lat, obj.lon = record["lat"], record["lon"]
        obj.location_approximate = False


# --- volunteers ------------------------------------------------------------------------------

VOLUNTEER_SPECIAL = {"lat", "lon", "languages", "reminders", "availability", "trainings", "absences", "must_not_visit"}


def volunteer_record(v: Volunteer, names: list[str]) -> dict:
    record = {name: getattr(v, name) for name in _scalar_names(names, VOLUNTEER_SPECIAL)}
    record.update(_home_record(v))
    record["languages"] = tuple(v.languages)
    record["reminders"] = None if v.reminders is None else tuple(v.reminders)
    record["availability"] = tuple(
        (WEEKDAYS[w.weekday], w.start, w.end) for w in sorted(v.availability, key=lambda w: (w.weekday, w.start))
    )
    record["trainings"] = tuple(
        sorted(
            ((t.kind, t.completed_on, t.expires_on) for t in v.trainings), key=lambda t: (t[1], t[0], t[2] or t[1].max)
        )
    )
    record["absences"] = tuple(sorted((a.starts_at, a.ends_at) for a in v.absences if a.override_id is None))
    record["must_not_visit"] = tuple(sorted((e.client.external_id, e.kind) for e in v.exclusions if _from_file(e)))
    return record


def _from_file(e: Exclusion) -> bool:
    return e.override_id is None and e.kind in FILE_EXCLUSION_KINDS and e.until is None


def apply_volunteer(v: Volunteer, record: dict, columns: list[str], refs: "References") -> None:
    for name in columns:
        value = record[name]
        if name in ("lat", "lon", "district"):
            _apply_home(v, record)
            if name == "district":
                v.district = value
        elif name == "languages":
            v.languages = list(value)
        elif name == "reminders":
            v.reminders = None if value is None else list(value)
        elif name == "availability":
            v.availability = [
                AvailabilityWindow(weekday=WEEKDAYS.index(day), start=start, end=end) for day, start, end in value
            ]
        elif name == "trainings":
            v.trainings = [Training(kind=kind, completed_on=done, expires_on=expires) for kind, done, expires in value]
        elif name == "absences":
            kept = [a for a in v.absences if a.override_id is not None]
            v.absences = kept + [Absence(starts_at=start, ends_at=end) for start, end in value]
        elif name == "must_not_visit":
            kept_exclusions = [e for e in v.exclusions if not _from_file(e)]
            v.exclusions = kept_exclusions + [
                Exclusion(client=refs.client(client_id), kind=kind) for client_id, kind in value
            ]
        else:
            setattr(v, name, value)


# --- clients ---------------------------------------------------------------------------------

CLIENT_SPECIAL = {"lat", "lon", "languages", "care_grades", "away"}


def client_record(c: Client, names: list[str]) -> dict:
    record = {name: getattr(c, name) for name in _scalar_names(names, CLIENT_SPECIAL)}
    record.update(_home_record(c))
    record["languages"] = tuple(c.languages)
    record["care_grades"] = tuple(sorted(((g.grade, g.valid_from) for g in c.care_grades), key=lambda g: g[1]))
    record["away"] = tuple(sorted((a.starts_at, a.ends_at) for a in c.away if a.override_id is None))
    return record


def apply_client(c: Client, record: dict, columns: list[str], refs: "References") -> None:
    for name in columns:
        value = record[name]
        if name in ("lat", "lon", "district"):
            _apply_home(c, record)
            if name == "district":
                c.district = value
        elif name == "languages":
            c.languages = list(value)
        elif name == "care_grades":
            c.care_grades = [CareGrade(grade=grade, valid_from=since) for grade, since in value]
        elif name == "away":
            kept = [a for a in c.away if a.override_id is not None]
            c.away = kept + [ClientAway(starts_at=start, ends_at=end) for start, end in value]
        else:
            setattr(c, name, value)


# --- care requests ---------------------------------------------------------------------------


def request_record(r: CareRequest, names: list[str]) -> dict:
    record = {name: getattr(r, name) for name in _scalar_names(names, {"client_id", "windows", "activity"})}
    record["client_id"] = r.client.external_id
    record["activity"] = r.activity_key
    record["windows"] = tuple((w["day"], time.fromisoformat(w["from"]), time.fromisoformat(w["to"])) for w in r.windows)
    return record


def apply_request(r: CareRequest, record: dict, columns: list[str], refs: "References") -> None:
    for name in columns:
        value = record[name]
        if name == "client_id":
            r.client = refs.client(value)
        elif name == "activity":
            r.activity_key = value
        elif name == "windows":
            r.windows = [
                {"day": day, "from": start.strftime("%H:%M"), "to": end.strftime("%H:%M")} for day, start, end in value
            ]
        else:
            setattr(r, name, value)


# --- lookups ---------------------------------------------------------------------------------

Entity = Volunteer | Client | CareRequest
MODELS: dict[str, type[Volunteer] | type[Client] | type[CareRequest]] = {
    "volunteers": Volunteer,
    "clients": Client,
    "requests": CareRequest,
}
# What record_of reads, loaded in a few queries instead of one per object.
EAGER = {
    "volunteers": (
        selectinload(Volunteer.availability),
        selectinload(Volunteer.trainings),
        selectinload(Volunteer.absences),
        selectinload(Volunteer.exclusions).selectinload(Exclusion.client),
    ),
    "clients": (selectinload(Client.care_grades), selectinload(Client.away)),
    "requests": (selectinload(CareRequest.client),),
}
RECORD_OF: dict[str, Callable[[Any, list[str]], dict]] = {
    "volunteers": volunteer_record,
    "clients": client_record,
    "requests": request_record,
}
APPLY: dict[str, Callable[[Any, dict, list[str], "References"], None]] = {
    "volunteers": apply_volunteer,
    "clients": apply_client,
    "requests": apply_request,
}


@dataclass(frozen=True)
class Known:
    """What a row may name: client ids, and the activity catalogue (key -> its category);
    and the volunteers' IBANs on file (external id -> IBAN), which a masked cell stands for."""

    clients: frozenset[str] = frozenset()
    activities: Mapping[str, str | None] = field(default_factory=dict)
    ibans: Mapping[str, str] = field(default_factory=dict)


def load_all(session: Session, kind: str, *, ordered: bool = False) -> list[Entity]:
    """Every object of `kind`, with what its record reads loaded in a few queries."""
    model = MODELS[kind]
    query = select(model).options(*EAGER[kind])
    if ordered:
        query = query.order_by(model.external_id)
    return cast(list[Entity], list(session.scalars(query)))


class References:
    """Clients by external id and the activity catalogue, loaded once per import."""

    def __init__(self, session: Session):
        self._clients = {c.external_id: c for c in session.scalars(select(Client))}
        self._activities = {a.key: a.category_key for a in session.scalars(select(Activity))}
        on_file = select(Volunteer.external_id, Volunteer.iban).where(Volunteer.iban.is_not(None))
        self._ibans = {external_id: iban for external_id, iban in session.execute(on_file) if iban}

    def known(self) -> Known:
        return Known(frozenset(self._clients), dict(self._activities), dict(self._ibans))

    def client(self, external_id: str) -> Client:
        return self._clients[external_id]
