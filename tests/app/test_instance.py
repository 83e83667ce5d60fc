"""The week's carecal-instance/1 document, built from the database."""

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import solver
from carecal.instance import absence_entries, build_instance
from carecal.models import ClientAway, Exclusion
from carecal.weeks import IsoWeek, local
from tests import factories
from tests.app.roster_world import WEEK, small_association

BERLIN = ZoneInfo("Europe/Berlin")
W48 = IsoWeek.parse(WEEK)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Day `day` (23 = Mon 23 Nov 2026) at hour:minute in Berlin."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def doc_of(build, kind: str, ident: str) -> dict:
    return next(x for x in build.document[kind] if x["id"] == ident)


def test_the_document_is_a_valid_instance_with_expanded_requests(session):
    world = small_association(session)
    factories.care_request(
        session,
        world.clients["Boris"],
        visits_per_week=2,
        windows=(("fri", "09:00", "15:00"),),
        valid_from=date(2026, 1, 1),
    )
    build = build_instance(session, W48)

    loaded = solver.load_instance(build.document)  # raises on anything the solver would reject
    assert build.document["format"] == "carecal-instance/1" and build.document["week"] == WEEK
    assert len(loaded.volunteers) == 6
    boris = doc_of(build, "clients", world.clients["Boris"].external_id)
    second = world.clients["Boris"].requests[1].external_id
    assert [r["id"] for r in boris["requests"]] == [
        f"{world.requests['Boris'].external_id}#1",
        f"{second}#1",
        f"{second}#2",
    ]
    assert boris["requests"][1]["windows"] == [{"day": "fri", "from": "09:00", "to": "15:00"}]
    assert boris["care_level"] == 3


def test_a_lapsed_basic_training_leaves_the_volunteer_out_and_says_so(session):
    factories.organisation(session)
    lapsed = factories.volunteer(session, trainings=(("basic", date(2022, 1, 1), date(2026, 11, 25)),))
    valid = factories.volunteer(session)
    build = build_instance(session, W48)

    ids = [v["id"] for v in build.document["volunteers"]]
    assert valid.external_id in ids and lapsed.external_id not in ids
    assert any(lapsed.external_id in note and "lapsed on 2026-11-25" in note for note in build.notes)


def test_dementia_trained_means_valid_on_every_day_of_the_week(session):
    factories.organisation(session)
    all_week = factories.volunteer(session)
    expires_midweek = factories.volunteer(
        session, trainings=(("basic", date(2024, 1, 1), None), ("dementia", date(2024, 1, 1), date(2026, 11, 26)))
    )
    starts_midweek = factories.volunteer(
        session, trainings=(("basic", date(2024, 1, 1), None), ("dementia", date(2026, 11, 25), None))
    )
    build = build_instance(session, W48)
    assert doc_of(build, "volunteers", all_week.external_id)["dementia_trained"] is True
    assert doc_of(build, "volunteers", expires_midweek.external_id)["dementia_trained"] is False
    assert doc_of(build, "volunteers", starts_midweek.external_id)["dementia_trained"] is False


def test_absences_become_whole_and_partial_days_in_local_time(session):
    factories.organisation(session)
    v = factories.volunteer(session)
    factories.absence(session, v, at(24, 14), at(26, 10, 30))  # Tue 14:00 .. Thu 10:30
    factories.absence(session, v, at(20, 0), at(23, 9))  # before the week .. Mon 09:00
    factories.absence(session, v, at(30, 8), at(30, 12))  # next week: not in this one
    build = build_instance(session, W48)
    assert doc_of(build, "volunteers", v.external_id)["absences"] == [
        {"date": "2026-11-23", "from": "00:00", "to": "09:00"},
        {"date": "2026-11-24", "from": "14:00", "to": "24:00"},
        {"date": "2026-11-25"},
        {"date": "2026-11-26", "from": "00:00", "to": "10:30"},
    ]


def test_absence_days_follow_the_switch_from_summer_time():
    # Sunday 25 October 2026 has 25 hours; an absence of that whole local day is one entry.
    week = IsoWeek.parse("2026-W43")
    start = local(date(2026, 10, 25), datetime.min.time())
    entries = absence_entries([(start, start + timedelta(hours=25))], week, "Europe/Berlin")
    assert entries == [{"date": "2026-10-25"}]


def test_client_away_removes_the_windows_it_covers(session):
    world = small_association(session)
    wera = world.clients["Wera"]  # tue 09-12, thu 09-12
    session.add(ClientAway(client=wera, starts_at=at(24, 0), ends_at=at(26, 10)))
    session.flush()
    build = build_instance(session, W48)
    request = doc_of(build, "clients", wera.external_id)["requests"][0]
    # Tuesday gone; Thursday keeps 10:00-12:00 (still long enough for 120 minutes)
    assert request["windows"] == [{"day": "thu", "from": "10:00", "to": "12:00"}]

    session.add(ClientAway(client=wera, starts_at=at(26, 10), ends_at=at(27, 0)))
    session.flush()
    build = build_instance(session, W48)
    request = doc_of(build, "clients", wera.external_id)["requests"][0]
    assert request["windows"] == []
    assert build.blocked[request["id"]] == ["the client is away during every window of this request"]


def test_previous_volunteers_come_from_the_last_published_week(session):
    world = small_association(session)
    olga, irina = world.volunteers["Olga"], world.volunteers["Irina"]
    factories.published_visit(session, "2026-W47", world.requests["Raissa"], olga)
    factories.published_visit(session, "2026-W46", world.requests["Raissa"], irina)  # older: not used
    build = build_instance(session, W48)
    raissa = doc_of(build, "clients", world.clients["Raissa"].external_id)
    assert raissa["previous_volunteers"] == [olga.external_id]
    assert build.previous["week"] == "2026-W47"
    assert build.previous["assignments"][0]["volunteer"] == olga.external_id


def test_exclusions_that_apply_this_week_are_excluded(session):
    world = small_association(session)
    raissa = world.clients["Raissa"]
    relative, ended, until_tuesday = world.volunteers["Olga"], world.volunteers["Irina"], world.volunteers["Tatjana"]
    session.add_all(
        [
            Exclusion(client=raissa, volunteer=relative, kind="relative"),
            Exclusion(client=raissa, volunteer=ended, kind="coordinator", until=date(2026, 11, 22)),
            Exclusion(client=raissa, volunteer=until_tuesday, kind="client_wish", until=date(2026, 11, 24)),
        ]
    )
    session.flush()
    build = build_instance(session, W48)
    assert doc_of(build, "clients", raissa.external_id)["excluded_volunteers"] == sorted(
        [relative.external_id, until_tuesday.external_id]
    )


def test_requests_outside_their_validity_and_inactive_clients_are_left_out(session):
    world = small_association(session)
    world.requests["Erika"].valid_to = date(2026, 11, 1)
    world.clients["Amal"].active = False
    session.flush()
    ids = {c["id"] for c in build_instance(session, W48).document["clients"]}
    assert world.clients["Erika"].external_id not in ids and world.clients["Amal"].external_id not in ids
    assert world.clients["Raissa"].external_id in ids


def test_cli_writes_the_instance_file(cli, db_url, tmp_path):
    from carecal import db

    with db.session_scope(db_url) as s:
        small_association(s)
    out = tmp_path / "instance.json"
    result = cli("instance", "export", "--week", WEEK, "-o", out)
    assert result.exit_code == 0, result.stderr
    document = json.loads(out.read_text())
    assert len(document["clients"]) == 8
    solver.load_instance(document)


def test_cli_names_a_week_that_does_not_exist(cli):
    result = cli("instance", "export", "--week", "2026-W54")
    assert result.exit_code == 2 and "2026 has no week 54" in result.stderr and "Traceback" not in result.stderr


def test_each_client_carries_their_visits_per_day_rule_10(session):
    world = small_association(session)
    world.clients["Boris"].max_visits_per_day = 2
    session.flush()
    build = build_instance(session, W48)
    per_day = {c["id"]: c["max_visits_per_day"] for c in build.document["clients"]}
    assert per_day.pop(world.clients["Boris"].external_id) == 2
    assert set(per_day.values()) == {1}
    assert solver.load_instance(build.document).clients  # the solver reads the field
