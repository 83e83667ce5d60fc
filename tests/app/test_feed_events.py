"""Which events each calendar holds, and how re-plans change UID, SEQUENCE, DTSTAMP, STATUS."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from carecal import clock
from carecal.billing import records
from carecal.errors import Conflict
from carecal.feeds import tokens
from carecal.feeds.calendars import coordinator_calendar, family_calendar, feed_window, volunteer_calendar
from carecal.feeds.events import Audience, PublishedVersion, RecordedOutcome, track_visits
from carecal.weeks import IsoWeek
from tests import factories as f

WEEK = "2026-W48"
WEEKS = [IsoWeek.parse(WEEK)]


def _events(body: bytes) -> dict[str, dict]:
    """UID → the event's fields as a calendar app reads them."""
    calendar = Calendar.from_ical(body)
    return {
        str(e["uid"]): {
            "summary": str(e["summary"]),
            "status": str(e["status"]),
            "sequence": int(e["sequence"]),
            "start": e.decoded("dtstart").astimezone(UTC),
            "stamp": e.decoded("dtstamp"),
            "description": str(e["description"]),
        }
        for e in calendar.walk("VEVENT")
    }


def _only(body: bytes) -> dict:
    events = _events(body)
    assert len(events) == 1, events
    return next(iter(events.values()))


@pytest.fixture
def people(session):
    f.organisation(session, phone="0371 123456")
    anna = f.volunteer(session, first_name="Anna", ui_language="de")
    olga = f.volunteer(session, first_name="Olga", ui_language="uk")
    raissa = f.client(session, first_name="Raissa", last_name="Petrowa", family_feed_opt_in=True)
    park = f.activity(
        session,
        "park_walk",
        {"de": "Spaziergang im Park", "ru": "Прогулка в парке", "uk": "Прогулянка в парку", "en": "A walk in the park"},
    )
    request = f.care_request(session, raissa, activity_key=park.key)
    return anna, olga, raissa, request


def test_a_volunteer_sees_only_their_own_visits_with_short_label_and_address(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna, day="tue", start="14:00")
    other = f.care_request(session, f.client(session, first_name="Boris"), windows=(("wed", "09:00", "12:00"),))
    f.published_visit(session, WEEK, other, olga, day="wed", start="09:00")

    event = _only(volunteer_calendar(session, anna, WEEKS).body)
    assert event["summary"] == "Besuch bei Raissa P."
    assert event["status"] == "CONFIRMED" and event["sequence"] == 0
    assert event["start"] == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 14:00 CET
    assert "Markersdorfer Str. 1, 09123 Chemnitz (Markersdorf)" in event["description"]
    assert "Spaziergang im Park" in event["description"] and "0371 123456" in event["description"]
    assert "Petrowa" not in volunteer_calendar(session, anna, WEEKS).body.decode()


def test_texts_come_in_the_volunteers_language(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, olga)
    event = _only(volunteer_calendar(session, olga, WEEKS).body)
    assert event["summary"] == "Візит: Raissa P."
    assert "Адреса:" in event["description"]
    assert "NAME:Мої візити" in volunteer_calendar(session, olga, WEEKS).body.decode()


def test_a_visit_moved_to_someone_else_stays_cancelled_in_the_first_feed(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna)
    before = _only(volunteer_calendar(session, anna, WEEKS).body)

    replanned_at = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    f.republish(session, WEEK, replanned_at)
    f.published_visit(session, WEEK, request, olga)

    after = _events(volunteer_calendar(session, anna, WEEKS).body)
    assert list(after) == [_uid_of(volunteer_calendar(session, anna, WEEKS).body)]
    moved = after[next(iter(after))]
    assert moved["status"] == "CANCELLED" and moved["summary"].startswith("Abgesagt: Besuch bei Raissa P.")
    assert moved["start"] == before["start"]
    assert moved["sequence"] == before["sequence"] + 1
    assert moved["stamp"] == replanned_at
    # Olga's feed has the visit as new, under its own UID
    olgas = _only(volunteer_calendar(session, olga, WEEKS).body)
    assert olgas["status"] == "CONFIRMED" and olgas["sequence"] == 0
    assert set(_events(volunteer_calendar(session, olga, WEEKS).body)).isdisjoint(after)


def _uid_of(body: bytes) -> str:
    return next(iter(_events(body)))


def test_sequence_rises_on_time_volunteer_and_status_changes_and_uid_stays(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna, start="14:00")
    office = lambda: _only(coordinator_calendar(session, WEEKS).body)  # noqa: E731
    uid = _uid_of(coordinator_calendar(session, WEEKS).body)
    history = [office()]

    # an identical republication changes nothing
    f.republish(session, WEEK, datetime(2026, 11, 23, 9, tzinfo=UTC))
    f.published_visit(session, WEEK, request, anna, start="14:00")
    history.append(office())
    # time, volunteer, status
    for n, (who, start, status) in enumerate(
        [(anna, "15:00", "planned"), (olga, "15:00", "planned"), (olga, "15:00", "cancelled")]
    ):
        f.republish(session, WEEK, datetime(2026, 11, 24, 8 + n, tzinfo=UTC))
        f.published_visit(session, WEEK, request, who, start=start, status=status)
        history.append(office())

    assert _uid_of(coordinator_calendar(session, WEEKS).body) == uid
    assert [e["sequence"] for e in history] == [0, 0, 1, 2, 3]
    assert history[1]["stamp"] == history[0]["stamp"]
    assert [e["stamp"].hour for e in history[2:]] == [8, 9, 10]
    assert [e["status"] for e in history] == ["CONFIRMED"] * 4 + ["CANCELLED"]
    assert "Olga" in history[3]["summary"] and "Anna" in history[2]["summary"]


def test_a_visit_dropped_from_the_roster_is_cancelled_for_volunteer_family_and_office(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna)
    f.republish(session, WEEK, datetime(2026, 11, 24, 8, tzinfo=UTC))  # the visit is unassigned now
    for body in (
        volunteer_calendar(session, anna, WEEKS).body,
        family_calendar(session, raissa, WEEKS).body,
        coordinator_calendar(session, WEEKS).body,
    ):
        event = _only(body)
        assert (event["status"], event["sequence"]) == ("CANCELLED", 1)


def test_the_family_feed_shows_the_clients_visits_by_volunteer_first_name(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna)
    other = f.care_request(session, f.client(session, first_name="Boris"))
    f.published_visit(session, WEEK, other, olga)
    body = family_calendar(session, raissa, WEEKS).body
    assert _only(body)["summary"] == "Besuch von Anna"
    assert anna.last_name not in body.decode() and "Boris" not in body.decode()
    assert len(_events(coordinator_calendar(session, WEEKS).body)) == 2


def test_the_same_data_renders_to_the_same_bytes(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna)
    first = volunteer_calendar(session, anna, WEEKS)
    session.expire_all()
    second = volunteer_calendar(session, anna, WEEKS)
    assert first.body == second.body and first.last_modified == second.last_modified


def test_calendar_properties_for_subscriptions(session, people):
    anna, olga, raissa, request = people
    f.published_visit(session, WEEK, request, anna)
    text = volunteer_calendar(session, anna, WEEKS).body.decode()
    assert "\r\nNAME:Meine Besuche – Brücke Chemnitz e. V.\r\n" in text
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    assert "METHOD" not in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin" in text
    assert "DTSTART;TZID=Europe/Berlin:20261124T140000" in text


def test_the_feed_window_is_four_weeks_back_to_eight_ahead():
    weeks = feed_window(date(2026, 11, 21))  # a Saturday in 2026-W47
    assert (str(weeks[0]), str(weeks[-1]), len(weeks)) == ("2026-W43", "2027-W02", 13)  # 2026 has 53 weeks


def test_a_recorded_cancellation_cancels_the_event_in_every_feed_in_the_readers_language(session, people):
    anna, olga, raissa, request = people
    visit = f.published_visit(session, WEEK, request, olga)  # Olga reads Ukrainian
    before = {
        "volunteer": _only(volunteer_calendar(session, olga, WEEKS).body),
        "family": _only(family_calendar(session, raissa, WEEKS).body),
        "office": _only(coordinator_calendar(session, WEEKS).body),
    }
    # published on Monday 08:00; the client calls at 10:15 to cancel Tuesday's visit
    cancelled_at = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    with clock.frozen(cancelled_at):
        records.record_visit(session, visit.id, "coordinator", status="cancelled-by-client", reason="Arzttermin")
    after = {
        "volunteer": _only(volunteer_calendar(session, olga, WEEKS).body),
        "family": _only(family_calendar(session, raissa, WEEKS).body),
        "office": _only(coordinator_calendar(session, WEEKS).body),
    }
    for who, event in after.items():
        assert event["status"] == "CANCELLED", who
        assert event["sequence"] == before[who]["sequence"] + 1 and event["stamp"] == cancelled_at
        assert event["start"] == before[who]["start"]
    assert after["volunteer"]["summary"].startswith("Скасовано:")  # Ukrainian, as Olga reads it
    assert after["family"]["summary"].startswith("Abgesagt:")

    # the office corrects it (she was home after all): confirmed again, one step further
    with clock.frozen(datetime(2026, 11, 24, 17, tzinfo=UTC)):
        records.record_visit(session, visit.id, "coordinator", status="delivered", reason="she was home after all")
    again = _only(volunteer_calendar(session, olga, WEEKS).body)
    assert (again["status"], again["sequence"]) == ("CONFIRMED", before["volunteer"]["sequence"] + 2)


def test_family_feed_tokens_need_the_clients_consent(session, people):
    anna, olga, raissa, request = people
    boris = f.client(session, first_name="Boris", family_feed_opt_in=False)
    with pytest.raises(Conflict, match="has not agreed"):
        tokens.issue(session, boris, "coordinator")
    assert tokens.find(session, tokens.issue(session, raissa, "coordinator")).client_id == raissa.id


# --- the history walk itself, on arbitrary re-plans (no database) ----------------------------

# one published version: request key → (volunteer id, start hour, cancelled) or absent
_versions = st.lists(
    st.dictionaries(
        st.sampled_from(["r#1", "r#2", "s#1"]),
        st.tuples(st.sampled_from([1, 2]), st.sampled_from([9, 14]), st.booleans()),
    ),
    min_size=1,
    max_size=6,
)


def _history(plans) -> list[PublishedVersion]:
    versions = []
    for n, plan in enumerate(plans):
        visits = [
            SimpleNamespace(
                request_key=key,
                volunteer_id=who,
                client_id=7,
                starts_at=datetime(2026, 11, 24, hour, tzinfo=UTC),
                ends_at=datetime(2026, 11, 24, hour + 2, tzinfo=UTC),
                status="cancelled" if cancelled else "planned",
            )
            for key, (who, hour, cancelled) in plan.items()
        ]
        versions.append(PublishedVersion(WEEK, datetime(2026, 11, 20 + n, tzinfo=UTC), visits))
    return versions


@settings(max_examples=200, deadline=None)
@given(_versions, st.lists(st.tuples(st.sampled_from(["r#1", "r#2"]), st.booleans()), max_size=4))
def test_recorded_outcomes_only_ever_raise_sequences_and_the_last_one_counts(plans, outcomes):
    volunteer = Audience("volunteer", "v001", volunteer_id=1)
    history = _history(plans)
    # each outcome is recorded half a day after a publication
    recorded = [
        RecordedOutcome(WEEK, key, datetime(2026, 11, 20 + n % len(history), 12, tzinfo=UTC), cancelled)
        for n, (key, cancelled) in enumerate(outcomes)
    ]
    # as time goes by, sequences only rise and nothing vanishes
    moments = sorted({v.published_at for v in history} | {o.at for o in recorded})
    before: dict = {}
    for moment in moments:
        tracks = track_visits(
            [v for v in history if v.published_at <= moment], volunteer, [o for o in recorded if o.at <= moment]
        )
        assert before.keys() <= tracks.keys()
        assert all(tracks[key].sequence >= sequence for key, sequence in before.items())
        before = {key: t.sequence for key, t in tracks.items()}
    roster_only = track_visits(history, volunteer)
    assert tracks.keys() == roster_only.keys()  # an outcome never adds an event
    last = {}
    for outcome in sorted(recorded, key=lambda o: o.at):
        last[outcome.request_key] = outcome.cancelled
    for (_, key), track in tracks.items():
        assert track.view.cancelled == (roster_only[(WEEK, key)].view.cancelled or last.get(key, False))


@settings(max_examples=200, deadline=None)
@given(_versions)
def test_replans_only_ever_add_events_and_raise_sequences(plans):
    volunteer = Audience("volunteer", "v001", volunteer_id=1)
    history = _history(plans)
    before: dict = {}
    for n in range(1, len(history) + 1):
        tracks = track_visits(history[:n], volunteer)
        assert before.keys() <= tracks.keys()  # nothing ever vanishes from a feed
        for key, (sequence, stamp, view) in before.items():
            now = tracks[key]
            assert now.sequence == sequence + (now.view != view)
            assert now.changed_at == (history[n - 1].published_at if now.view != view else stamp)
        before = {key: (t.sequence, t.changed_at, t.view) for key, t in tracks.items()}

    final = plans[-1]
    for (_, key), track in track_visits(history, volunteer).items():
        mine_now = key in final and final[key][0] == 1
        assert track.view.cancelled == (not mine_now or final[key][2])
        if mine_now:
            assert track.view.starts_at.hour == final[key][1]
