"""Overrides: each needs a reason, names its actor, leaves an audit event, and shapes the instance."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import solver
from carecal.errors import InputError, NotFound
from carecal.instance import build_instance
from carecal.models import Absence, AuditEvent, ClientAway, Exclusion, Override
from carecal.roster import overrides
from carecal.weeks import IsoWeek
from tests import factories
from tests.app.roster_world import WEEK, small_association

W48 = IsoWeek.parse(WEEK)
BERLIN = ZoneInfo("Europe/Berlin")


def key(world, name: str) -> str:
    return f"{world.requests[name].external_id}#1"


def client_doc(build, client):
    return next(c for c in build.document["clients"] if c["id"] == client.external_id)


def volunteer_doc(build, volunteer):
    return next(v for v in build.document["volunteers"] if v["id"] == volunteer.external_id)


def test_a_pin_that_breaks_a_matching_rule_is_allowed_with_a_warning(session):
    world = small_association(session)
    # Boris speaks only Russian; Anna speaks German and English.
    created = overrides.pin(
        session,
        W48,
        key(world, "Boris"),
        world.volunteers["Anna"].external_id,
        start="mon 10:00",
        reason="only one free",
        actor="maria",
    )
    assert created.warnings == ["speaks none of the client's languages (ru)"]
    pins = build_instance(session, W48).document["pins"]
    assert pins == [
        {
            "request": key(world, "Boris"),
            "volunteer": world.volunteers["Anna"].external_id,
            "start": "2026-11-23T10:00:00+01:00",
        }
    ]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.override.pin")).one()
    assert (event.actor, event.payload["reason"]) == ("maria", "only one free")


def test_a_pin_impossible_in_time_is_refused_with_the_reason(session):
    world = small_association(session)
    olga = world.volunteers["Olga"].external_id
    with pytest.raises(InputError) as outside:  # Raissa's window is Tuesday 13-17
        overrides.pin(session, W48, key(world, "Raissa"), olga, start="tue 16:00", reason="r", actor="a")
    assert "cannot pin" in str(outside.value) and len(outside.value.problems) >= 1

    factories.absence(
        session,
        world.volunteers["Olga"],
        datetime(2026, 11, 24, 0, tzinfo=BERLIN),
        datetime(2026, 11, 25, 0, tzinfo=BERLIN),
    )
    with pytest.raises(InputError):  # absent all Tuesday
        overrides.pin(session, W48, key(world, "Raissa"), olga, reason="r", actor="a")

    assert session.scalars(select(Override)).all() == []


def test_two_pins_for_one_volunteer_that_overlap_are_refused(session):
    world = small_association(session)
    olga = world.volunteers["Olga"].external_id
    overrides.pin(session, W48, key(world, "Gerhard"), olga, start="tue 09:00", reason="r", actor="a")
    with pytest.raises(InputError):
        overrides.pin(session, W48, key(world, "Wera"), olga, start="tue 10:00", reason="r", actor="a")
    overrides.pin(session, W48, key(world, "Wera"), olga, start="thu 09:00", reason="r", actor="a")
    assert len(build_instance(session, W48).document["pins"]) == 2


def test_pinning_a_volunteer_whose_training_lapsed_is_refused(session):
    world = small_association(session)
    lapsed = factories.volunteer(session, trainings=(("basic", date(2020, 1, 1), date(2026, 1, 1)),))
    with pytest.raises(InputError, match="may not be scheduled"):
        overrides.pin(session, W48, key(world, "Raissa"), lapsed.external_id, reason="r", actor="a")
    with pytest.raises(NotFound):
        overrides.pin(session, W48, "c999-1#1", world.volunteers["Olga"].external_id, reason="r", actor="a")


def test_forbid_absence_and_client_away_create_linked_rows(session):
    world = small_association(session)
    raissa, olga = world.clients["Raissa"], world.volunteers["Olga"]
    forbid = overrides.forbid(
        session,
        raissa.external_id,
        olga.external_id,
        until=date(2026, 12, 31),
        reason="conflict last week",
        actor="maria",
    ).override
    absent = overrides.absence(
        session, olga.external_id, "2026-11-24", "2026-11-24", reason="doctor", actor="maria"
    ).override
    away = overrides.client_away(
        session, raissa.external_id, "2026-11-26 08:00", "2026-11-28", reason="hospital", actor="maria"
    ).override
    session.flush()
    exclusion = session.scalars(select(Exclusion).where(Exclusion.override_id == forbid.id)).one()
    assert (exclusion.kind, exclusion.until) == ("coordinator", date(2026, 12, 31))
    absence = session.scalars(select(Absence).where(Absence.override_id == absent.id)).one()
    # a bare date as --to means through the end of that day
    assert (absence.starts_at, absence.ends_at) == (
        datetime(2026, 11, 23, 23, tzinfo=UTC),
        datetime(2026, 11, 24, 23, tzinfo=UTC),
    )
    assert session.scalars(select(ClientAway).where(ClientAway.override_id == away.id)).one().starts_at == datetime(
        2026, 11, 26, 7, tzinfo=UTC
    )

    build = build_instance(session, W48)
    assert olga.external_id in client_doc(build, raissa)["excluded_volunteers"]
    assert volunteer_doc(build, olga)["absences"] == [{"date": "2026-11-24"}]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["roster.override.forbid", "roster.override.absence", "roster.override.client_away"]


def test_remove_keeps_the_history_and_undoes_the_effect(session):
    world = small_association(session)
    olga = world.volunteers["Olga"]
    created = overrides.absence(session, olga.external_id, "2026-11-23", "2026-11-29", reason="ill", actor="maria")
    assert len(volunteer_doc(build_instance(session, W48), olga)["absences"]) == 7
    overrides.remove(session, created.override.id, actor="anna", reason="recovered")
    session.flush()
    assert volunteer_doc(build_instance(session, W48), olga)["absences"] == []
    row = session.get(Override, created.override.id)
    assert row.removed_by == "anna" and row.removed_at is not None and row.reason == "ill"
    assert overrides.list_overrides(session, W48) == []
    assert overrides.list_overrides(session, W48, include_removed=True) == [row]
    with pytest.raises(InputError, match="already removed"):
        overrides.remove(session, row.id, actor="anna")


def test_list_shows_what_touches_the_week(session):
    world = small_association(session)
    olga = world.volunteers["Olga"].external_id
    overrides.absence(session, olga, "2026-12-07", "2026-12-08", reason="later", actor="a")
    here = overrides.absence(session, olga, "2026-11-27", "2026-11-27", reason="friday", actor="a").override
    old_forbid = overrides.forbid(
        session, world.clients["Boris"].external_id, olga, until=date(2026, 11, 1), reason="over", actor="a"
    ).override
    unassign = overrides.unassign(session, W48, key(world, "Erika"), reason="cancelled", actor="a").override
    assert overrides.list_overrides(session, W48) == [here, unassign]
    assert old_forbid in overrides.list_overrides(session)


def test_a_reason_is_required(session):
    world = small_association(session)
    with pytest.raises(InputError, match="reason"):
        overrides.unassign(session, W48, key(world, "Erika"), reason="  ", actor="a")


def test_cli_override_commands(cli, db_url):
    from carecal import db

    with db.session_scope(db_url) as s:
        world = small_association(s)
        boris, anna, olga = (
            key(world, "Boris"),
            world.volunteers["Anna"].external_id,
            world.volunteers["Olga"].external_id,
        )
        raissa = world.clients["Raissa"].external_id
    missing_reason = cli("override", "forbid", raissa, olga)
    assert missing_reason.exit_code != 0 and "--reason" in missing_reason.stderr

    pinned = cli("override", "pin", "--week", WEEK, boris, anna, "--start", "mon 10:00", "--reason", "only one free")
    assert pinned.exit_code == 0 and "warning" in pinned.stderr and "speaks none" in pinned.stderr
    refused = cli("override", "pin", "--week", WEEK, boris, olga, "--start", "sun 10:00", "--reason", "x")
    assert refused.exit_code == 2 and "cannot pin" in refused.stderr and "Traceback" not in refused.stderr
    assert cli("override", "forbid", raissa, olga, "--until", "2026-12-31", "--reason", "wish").exit_code == 0
    assert (
        cli(
            "override", "absence", olga, "--from", "2026-11-23 09:00", "--to", "2026-11-23 12:00", "--reason", "dentist"
        ).exit_code
        == 0
    )
    assert (
        cli(
            "override", "client-away", raissa, "--from", "2026-11-24", "--to", "2026-11-25", "--reason", "hospital"
        ).exit_code
        == 0
    )
    assert cli("override", "unassign", "--week", WEEK, boris, "--reason", "cancelled").exit_code == 0
    bad = cli("override", "absence", olga, "--from", "2026-11-25", "--to", "2026-11-24", "--reason", "x")
    assert bad.exit_code == 2 and "before it starts" in bad.stderr

    listed = cli("override", "list", "--week", WEEK)
    for kind in ("pin", "forbid", "absence", "client_away", "unassign"):
        assert kind in listed.stdout
    assert cli("override", "remove", "1", "--reason", "changed my mind").exit_code == 0
    assert "removed" in cli("override", "list", "--all").stdout and "removed" not in cli("override", "list").stdout
    assert cli("override", "remove", "99").exit_code == 3


def test_a_pin_beyond_reach_is_warned_with_the_instances_travel_distance():
    """Reach (rule 4 of docs/format.md) uses great-circle km times the instance's detour factor:
    the warning is the solver's own check on the parsed instance."""

    def warnings(detour_factor: float, max_km: float) -> list[str]:
        document = {
            "format": "carecal-instance/1",
            "week": "2026-W48",
            "timezone": "Europe/Berlin",
            "travel": {"detour_factor": detour_factor, "fixed_minutes": 5, "speed_kmh": {"transit": 15}},
            "volunteers": [
                {
                    "id": "v1",
                    "home": {"lat": 50.8322, "lon": 12.9252},  # 0.1° of latitude south: 11.1 km as the crow flies
                    "languages": ["ru"],
                    "gender": "f",
                    "dementia_trained": True,
                    "max_minutes_per_week": 600,
                    "max_km": max_km,
                    "mode": "transit",
                    "availability": [],
                }
            ],
            "clients": [
                {
                    "id": "c1",
                    "home": {"lat": 50.9322, "lon": 12.9252},
                    "languages": ["ru"],
                    "dementia": False,
                    "requests": [],
                }
            ],
        }
        return solver.pairing_breaks(solver.load_instance(document), "c1", "v1")

    assert warnings(1.3, 5.0) == ["lives 14.5 km away, beyond their reach of 5 km"]
    assert warnings(1.0, 5.0) == ["lives 11.1 km away, beyond their reach of 5 km"]
    assert warnings(1.3, 20.0) == []


def test_an_absence_that_overlaps_one_on_file_is_refused_naming_it(session):
    world = small_association(session)
    olga = world.volunteers["Olga"].external_id
    first = overrides.absence(session, olga, "2026-W48-1", "2026-W48-3", reason="ill", actor="anna").override
    with pytest.raises(InputError, match=rf"already absent Mon 23 Nov 2026 00:00 .*\(override #{first.id}\).*remove"):
        overrides.absence(session, olga, "2026-11-25 14:00", "2026-11-27", reason="still ill", actor="anna")
    # the days after it are fine, and so is a client's own stay away at the same time
    overrides.absence(session, olga, "2026-W48-4", "2026-W48-5", reason="still ill", actor="anna")
    raissa = world.clients["Raissa"].external_id
    overrides.client_away(session, raissa, "2026-11-23", "2026-11-24", reason="hospital", actor="anna")
    with pytest.raises(InputError, match="already away"):
        overrides.client_away(session, raissa, "2026-11-24", "2026-11-25", reason="rehab", actor="anna")
    assert len(session.scalars(select(Absence)).all()) == 2


def test_a_forbid_that_contradicts_a_pin_is_warned_and_explain_names_both(session):
    from carecal.roster import advice, planning, versions

    world = small_association(session)
    raissa_key, olga = key(world, "Raissa"), world.volunteers["Olga"].external_id
    pin = overrides.pin(session, W48, raissa_key, olga, reason="knows her", actor="anna").override
    created = overrides.forbid(
        session, world.clients["Raissa"].external_id, olga, reason="the family asked", actor="bea"
    )
    assert len(created.warnings) == 1
    assert f"pin override #{pin.id}" in created.warnings[0] and f"override remove {pin.id}" in created.warnings[0]
    prepared = planning.solve_week(planning.prepare_plan(session, W48), time_limit=3, workers=1)
    versions.store_version(session, prepared, "anna")
    answer = advice.explain(session, W48, raissa_key)
    assert answer["pinned_by_override"] == pin.id and answer["assigned_to"]["volunteer"] == olga
    assert [f"override #{created.override.id} forbids {olga}" in c for c in answer["conflicts"]] == [True]
    # a forbid that ends before the pinned week contradicts nothing
    other = overrides.forbid(
        session, world.clients["Raissa"].external_id, olga, reason="old", actor="bea", until=date(2026, 11, 1)
    )
    assert other.warnings == []
