"""`roster diff`: every change with the decision behind it."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from carecal import clock
from carecal.errors import InputError
from carecal.models import Visit
from carecal.roster import overrides, planning, versions
from carecal.roster.diff import diff
from carecal.weeks import IsoWeek
from tests.app.roster_world import WEEK, small_association

W48 = IsoWeek.parse(WEEK)
SUNDAY_BEFORE = datetime.fromisoformat("2026-11-22T12:00:00+01:00")


def plan(session) -> None:
    prepared = planning.solve_week(planning.prepare_plan(session, W48), time_limit=3, workers=1)
    versions.store_version(session, prepared, "anna")


def replan(session) -> None:
    with clock.frozen(SUNDAY_BEFORE):
        prepared = planning.prepare_replan(session, W48)
    versions.store_version(session, planning.solve_week(prepared, time_limit=3, workers=1), "anna")


def volunteer_of(session, request_key: str, number: int) -> str | None:
    for visit in session.scalars(select(Visit).where(Visit.request_key == request_key)):
        if visit.version.number == number:
            return visit.volunteer.external_id
    return None


def test_forbid_client_away_and_lapsed_training_are_named_as_causes(session):
    world = small_association(session)
    plan(session)
    raissa, wera = (f"{world.requests[n].external_id}#1" for n in ("Raissa", "Wera"))
    forbidden = volunteer_of(session, raissa, 1)
    # someone else with a visit (not Raissa's, not Wera's) lets their basic training lapse
    first = {v.request_key: v.volunteer for v in session.scalars(select(Visit)) if v.version.number == 1}
    lapsing = next(v for key, v in sorted(first.items()) if key not in (raissa, wera) and v.external_id != forbidden)
    lapsing.trainings[0].expires_on = date(2026, 11, 20)
    overrides.forbid(
        session,
        world.clients["Raissa"].external_id,
        forbidden,
        until=date(2026, 12, 31),
        reason="family asked",
        actor="maria",
    )
    overrides.client_away(
        session, world.clients["Wera"].external_id, "2026-11-23", "2026-11-29", reason="in hospital", actor="maria"
    )
    session.flush()
    replan(session)

    changes = {c.request: c for c in diff(session, W48).changes}
    assert changes[raissa].kind in ("moved", "dropped") and changes[raissa].before.volunteer == forbidden
    assert any("forbid" in why and "family asked" in why for why in changes[raissa].why)
    assert changes[wera].kind == "dropped"
    assert any("away" in why and "in hospital" in why for why in changes[wera].why)
    lapsed_visits = {key for key, v in first.items() if v is lapsing}
    assert lapsed_visits and lapsed_visits <= changes.keys()
    for key in lapsed_visits:
        assert any("basic training lapsed on 2026-11-20" in why for why in changes[key].why)
    # nothing else changed: every change is one of these three causes
    assert changes.keys() == {raissa, wera} | lapsed_visits


def test_a_removed_override_is_named_when_things_move_back(session):
    world = small_association(session)
    amal = f"{world.requests['Amal'].external_id}#1"
    samir = world.volunteers["Samir"].external_id  # the only one who speaks Arabic
    away = overrides.absence(session, samir, "2026-11-23", "2026-11-29", reason="holiday", actor="maria").override
    plan(session)
    assert volunteer_of(session, amal, 1) is None
    overrides.remove(session, away.id, actor="maria", reason="holiday cancelled")
    session.flush()
    replan(session)
    change = next(c for c in diff(session, W48).changes if c.request == amal)
    assert change.kind == "added" and change.after.volunteer == samir
    assert any(f"override #{away.id}" in why and "removed by maria" in why for why in change.why)


def test_one_version_has_nothing_to_compare(session):
    small_association(session)
    plan(session)
    with pytest.raises(InputError, match="only one version"):
        diff(session, W48)
