"""What the coordinator's commands show, as data: the library functions behind
`roster show|versions|diff|explain`, `override list`, `volunteer ...`, `client ...` and
`visit history`, tested directly rather than through printed text."""

from datetime import UTC, date, datetime, timedelta

import pytest

from carecal import clock, organisation
from carecal.billing import records
from carecal.errors import CarecalError, NotFound
from carecal.masterdata import views as people
from carecal.models import ClientAway, UnassignedRequest
from carecal.roster import overrides, views
from carecal.roster.diff import diff
from carecal.weeks import IsoWeek
from tests import factories

WEEK = "2026-W48"  # Monday 23 November 2026; the tests run on Friday 20 November
ISO = IsoWeek.parse(WEEK)


@pytest.fixture
def week(session):
    """A published week: Olga visits two clients, Irina one; Boris's request is uncovered."""
    org = factories.organisation(session)
    olga = factories.volunteer(session, first_name="Olga", last_name="Iwanowa")
    irina = factories.volunteer(session, first_name="Irina", last_name="Koval", languages=["uk", "ru"])
    raissa, wera, boris = (factories.client(session, first_name=n) for n in ("Raissa", "Wera", "Boris"))
    requests = {c.first_name: factories.care_request(session, c) for c in (raissa, wera, boris)}
    visits = [
        factories.published_visit(session, WEEK, requests["Raissa"], olga, day="tue", start="14:00"),
        factories.published_visit(session, WEEK, requests["Wera"], olga, day="mon", start="09:30"),
        factories.published_visit(session, WEEK, requests["Wera"], irina, day="thu", start="10:00"),
    ]
    return {
        "org": org,
        "olga": olga,
        "irina": irina,
        "raissa": raissa,
        "wera": wera,
        "boris": boris,
        "visits": visits,
        **requests,
    }


def test_a_version_is_shown_in_time_order_in_local_time(session, week):
    view = views.week_view(session, ISO)
    assert (view["week"], view["version"], view["status"]) == (WEEK, 1, "published")
    assert [(r["day"], r["date"], r["start"], r["end"]) for r in view["visits"]] == [
        ("Mon", "2026-11-23", "09:30", "11:30"),
        ("Tue", "2026-11-24", "14:00", "16:00"),
        ("Thu", "2026-11-26", "10:00", "12:00"),
    ]
    assert [r["volunteer_name"] for r in view["visits"]] == [week["olga"].name, week["olga"].name, week["irina"].name]
    assert view["visits"][0]["request"] == f"{week['Wera'].external_id}#1"
    assert view["visits"][2]["request"] == f"{week['Wera'].external_id}#2"


def test_one_volunteer_or_one_client_is_shown_alone(session, week):
    olga = week["olga"].external_id
    mine = views.week_view(session, ISO, volunteer=olga)
    assert {r["volunteer"] for r in mine["visits"]} == {olga} and len(mine["visits"]) == 2
    wera = week["wera"].external_id
    theirs = views.week_view(session, ISO, client=wera)
    assert [r["volunteer"] for r in theirs["visits"]] == [olga, week["irina"].external_id]


def test_uncovered_requests_show_with_their_reasons_but_not_in_a_volunteers_view(session, week):
    boris = week["boris"]
    week["visits"][0].version.unassigned.append(
        UnassignedRequest(
            request_key=f"{week['Boris'].external_id}#1",
            care_request_id=week["Boris"].id,
            client=boris,
            reasons=["nobody speaks ru"],
        )
    )
    session.flush()
    everyone = views.week_view(session, ISO)
    assert everyone["unassigned"] == [
        {
            "request": f"{week['Boris'].external_id}#1",
            "client": boris.external_id,
            "client_name": boris.name,
            "reasons": ["nobody speaks ru"],
        }
    ]
    assert views.week_view(session, ISO, volunteer=week["olga"].external_id)["unassigned"] == []
    assert views.week_view(session, ISO, client=week["wera"].external_id)["unassigned"] == []
    assert len(views.week_view(session, ISO, client=boris.external_id)["unassigned"]) == 1


def test_the_versions_of_a_week_say_who_made_them_and_what_they_cover(session, week):
    factories.republish(session, WEEK, datetime(2026, 11, 21, 9, 0, tzinfo=UTC), actor="anna")
    factories.published_visit(session, WEEK, week["Raissa"], week["irina"], day="tue", start="15:00", actor="anna")
    listing = views.version_list(session, ISO)
    assert [(v["version"], v["status"], v["based_on"]) for v in listing["versions"]] == [
        (1, "superseded", None),
        (2, "published", 1),
    ]
    assert [(v["covered"], v["requests"]) for v in listing["versions"]] == [(3, 3), (1, 1)]
    second = listing["versions"][1]
    assert second["published_by"] == "anna"
    assert second["published_at"].isoformat() == "2026-11-21T10:00:00+01:00"  # local time, not UTC


def test_a_week_without_roster_has_no_versions(session, week):
    with pytest.raises(NotFound, match="roster plan --week 2026-W49"):
        views.version_list(session, ISO.shift(1))


def test_a_diff_document_gives_each_changed_slot_in_local_time(session, week):
    factories.republish(session, WEEK, datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    factories.published_visit(session, WEEK, week["Raissa"], week["irina"], day="tue", start="15:00")
    factories.published_visit(session, WEEK, week["Wera"], week["olga"], day="mon", start="09:30")
    factories.published_visit(session, WEEK, week["Wera"], week["irina"], day="thu", start="10:00")
    document = views.diff_document(diff(session, ISO, 1, 2), organisation.timezone(session))
    assert (document["week"], document["from"], document["to"], document["unchanged"]) == (WEEK, 1, 2, 2)
    [change] = document["changes"]
    assert change["request"] == f"{week['Raissa'].external_id}#1" and change["kind"] == "moved"
    assert change["before"] == {
        "volunteer": week["olga"].external_id,
        "start": "2026-11-24T14:00:00+01:00",
        "end": "2026-11-24T16:00:00+01:00",
    }
    assert change["after"]["volunteer"] == week["irina"].external_id
    assert change["after"]["start"] == "2026-11-24T15:00:00+01:00"


def test_overrides_are_listed_in_words_and_removed_ones_only_on_request(session, week):
    kept = overrides.forbid(
        session, week["wera"].external_id, week["irina"].external_id, until=None, reason="asked", actor="anna"
    )
    gone = overrides.forbid(
        session, week["raissa"].external_id, week["olga"].external_id, until=None, reason="moved", actor="anna"
    )
    overrides.remove(session, gone.override.id, actor="boris", reason="moved back")
    active = views.override_rows(session, None)
    assert [(o["id"], o["kind"], o["removed"]) for o in active] == [(kept.override.id, "forbid", False)]
    assert active[0]["what"] == f"forbid {week['irina'].external_id} for {week['wera'].external_id}"
    every = views.override_rows(session, ISO, include_removed=True)
    assert [(o["removed"], o["removed_by"]) for o in every] == [(False, None), (True, "boris")]


# --- volunteers and clients -------------------------------------------------------------------


def test_volunteers_are_listed_by_language_and_activity_with_their_training_state(session):
    factories.organisation(session)
    ru = factories.volunteer(session, languages=["ru", "de"], trainings=(("basic", date(2024, 1, 1), None),))
    uk = factories.volunteer(
        session,
        languages=["uk"],
        trainings=(("basic", date(2023, 1, 1), date(2026, 11, 30)), ("dementia", date(2022, 1, 1), date(2025, 1, 1))),
    )
    gone = factories.volunteer(session, languages=["ru"], active=False)
    day = date(2026, 11, 25)
    assert [v["id"] for v in people.volunteer_rows(session, day)] == [ru.external_id, uk.external_id]
    assert [v["id"] for v in people.volunteer_rows(session, day, include_inactive=True, language="RU")] == [
        ru.external_id,
        gone.external_id,
    ]
    states = {v["id"]: v["trainings"] for v in people.volunteer_rows(session, day)}
    assert states[ru.external_id] == {"basic": "no expiry", "dementia": "none"}
    assert states[uk.external_id] == {"basic": "to 2026-11-30", "dementia": "lapsed"}
    assert people.volunteer_rows(session, date(2026, 12, 1), language="uk")[0]["trainings"]["basic"] == "lapsed"


def test_a_volunteers_card_shows_only_absences_still_ahead(session):
    factories.organisation(session)
    v = factories.volunteer(session)
    now = clock.now()
    factories.absence(session, v, now - timedelta(days=10), now - timedelta(days=3))
    factories.absence(session, v, now + timedelta(days=3), now + timedelta(days=10))
    card = people.volunteer_card(session, v.external_id, date(2026, 11, 25))
    [ahead] = card["absences_ahead"]
    assert ahead["period"][0] == (now + timedelta(days=3)).astimezone(ahead["period"][0].tzinfo)
    assert str(ahead["period"][0].tzinfo) == "Europe/Berlin"
    assert len(card["availability"]) == 5 and card["availability"][0].endswith(" 08:00-20:00")
    assert [t["kind"] for t in card["trainings"]] == ["basic", "dementia"]
    with pytest.raises(NotFound, match="no volunteer with id 'v999'"):
        people.volunteer_card(session, "v999", date(2026, 11, 25))


def test_the_client_list_counts_todays_requests_and_carries_no_health_data(session):
    factories.organisation(session)
    c = factories.client(session, district="Zentrum", dementia=True)
    factories.care_request(session, c, visits_per_week=2)
    factories.care_request(session, c, visits_per_week=1, valid_to=date(2026, 11, 19))  # ended yesterday
    factories.client(session, district="Kaßberg")
    [row] = people.client_rows(session, district="zentrum")
    assert row["id"] == c.external_id and row["visits_per_week"] == 2
    assert not {"dementia", "care_grade", "insurance_number", "date_of_birth"} & set(row)
    with clock.frozen(datetime(2026, 11, 18, 12, 0, tzinfo=UTC)):
        assert people.client_rows(session, district="Zentrum")[0]["visits_per_week"] == 3


def test_a_clients_card_has_the_health_data_and_the_requests(session):
    factories.organisation(session)
    c = factories.client(session, dementia=True, care_grade=3)
    factories.care_request(session, c, windows=(("tue", "13:00", "18:00"), ("thu", "09:00", "12:00")))
    c.away.append(ClientAway(starts_at=clock.now() + timedelta(days=1), ends_at=clock.now() + timedelta(days=5)))
    session.flush()
    card = people.client_card(session, c.external_id)
    assert (card["dementia"], card["care_grade_today"], card["date_of_birth"]) == (True, 3, date(1941, 5, 9))
    assert card["insurance_number"] == c.insurance_number
    assert card["requests"][0]["windows"] == ["tue 13:00-18:00", "thu 09:00-12:00"]
    assert len(card["away_ahead"]) == 1


# --- visit history ---------------------------------------------------------------------------


def test_a_visits_history_lists_every_change_in_local_time(session, week):
    factories.billing_rates(session, week["org"])
    visit = week["visits"][0]
    after = visit.ends_at + timedelta(hours=1)
    with clock.frozen(after, tick=timedelta(seconds=1)):
        records.record_visit(session, visit.id, "olga", status="delivered")
        records.record_visit(session, visit.id, "anna", status="cancelled-by-client", reason="she called on Monday")
    changes = records.history(session, visit.id)
    assert [(c["actor"], c["reason"], c["state"]["status"]) for c in changes] == [
        ("olga", None, "delivered"),
        ("anna", "she called on Monday", "cancelled-by-client"),
    ]
    assert str(changes[0]["at"].tzinfo) == "Europe/Berlin"
    with pytest.raises(CarecalError, match="has no record yet"):
        records.history(session, week["visits"][1].id)


def test_a_volunteers_card_says_which_language_their_calendar_is_in(session):
    factories.organisation(session)
    factories.activity(session, *factories.WALK)  # labelled in de, ru, uk and en
    chose = factories.volunteer(session, languages=["ru"], ui_language="de")
    left_open = factories.volunteer(session, languages=["ar", "uk"], ui_language=None)
    day = date(2026, 11, 25)
    assert people.volunteer_card(session, chose.external_id, day)["calendar_language"] == "de"
    card = people.volunteer_card(session, left_open.external_id, day)
    assert (card["ui_language"], card["calendar_language"]) == (None, "uk")


def test_each_visit_shows_its_id_and_where_it_stands_and_an_unknown_person_is_an_error(session, week):
    planned, cancelled = week["visits"][1], week["visits"][0]  # Monday 09:30, Tuesday 14:00
    with clock.frozen(datetime(2026, 11, 23, 12, tzinfo=UTC)):  # Monday noon
        records.confirm_week(session, ISO, "anna")
        records.record_visit(session, cancelled.id, "anna", status="cancelled-by-client", reason="ill")
        rows = {r["visit"]: r for r in views.week_view(session, ISO)["visits"]}
    assert set(rows) == {v.id for v in week["visits"]}
    assert (rows[planned.id]["stage"], rows[planned.id]["outcome"]) == ("delivered", "delivered")
    assert rows[cancelled.id]["stage"] == "cancelled-by-client"
    assert rows[week["visits"][2].id]["stage"] == "published"
    with pytest.raises(NotFound, match="no volunteer with id 'v999'"):
        views.week_view(session, ISO, volunteer="v999")
    with pytest.raises(NotFound, match="no client with id 'c999'"):
        views.week_view(session, ISO, client="c999")


def test_an_unknown_district_or_language_in_a_filter_is_an_error_with_a_hint(session, week):
    from carecal.errors import InputError

    assert [r["id"] for r in people.client_rows(session, district="markersdorf")] == [
        week[n].external_id for n in ("raissa", "wera", "boris")
    ]
    with pytest.raises(InputError, match="'Markersdorff' is not a district .*did you mean Markersdorf"):
        people.client_rows(session, district="Markersdorff")
    with pytest.raises(InputError, match="--language 'xx' is not an ISO 639-1 code"):
        people.volunteer_rows(session, date(2026, 11, 20), language="xx")
