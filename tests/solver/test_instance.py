"""Reading carecal-instance/1: defaults, errors with their JSON path, time zones, pins."""

from __future__ import annotations

import copy

import pytest

from solver import InstanceError, load_instance, place_pins
from solver.clock import DAYS
from tests.solver.tiny_instances import client, instance, local, request, volunteer, window


def errors_of(doc: dict) -> list[tuple[str, str]]:
    """What reading the document and then checking its pins (two steps) finds wrong."""
    with pytest.raises(InstanceError) as caught:
        place_pins(load_instance(doc))
    return caught.value.errors


def paths_of(doc: dict) -> list[str]:
    return [path for path, _ in errors_of(doc)]


def test_defaults_are_filled_in_as_format_md_says():
    doc = instance([volunteer()], [client()])
    vol = doc["volunteers"][0]
    del vol["max_visits_per_day"]
    del doc["clients"][0]["requests"][0]["priority"]
    del doc["pins"]
    inst = load_instance(doc)
    assert inst.slot == 15
    assert inst.travel.detour_factor == 1.3 and inst.travel.fixed_minutes == 5
    assert inst.travel.speed_kmh == {"walk": 4.5, "bike": 12, "transit": 15, "car": 25}
    assert inst.volunteers[0].max_visits_per_day == 3
    assert inst.volunteers[0].absences == ()
    assert inst.requests[0].priority == 1
    c = inst.clients[0]
    assert c.gender_preference is None and not c.previous_volunteers and not c.excluded_volunteers
    assert inst.pins == ()


def test_unknown_format_is_rejected_at_its_path():
    doc = instance([volunteer()], [client()])
    doc["format"] = "carecal-instance/2"
    [(path, reason)] = errors_of(doc)
    assert path == "$.format" and "carecal-instance/2" in reason


def test_window_ending_before_it_starts_names_the_window():
    doc = instance([volunteer()], [client(requests=[request("c1-1", windows=[window("tue", "15:00", "13:00")])])])
    [(path, reason)] = errors_of(doc)
    assert path == "$.clients[0].requests[0].windows[0]"
    assert "before it starts" in reason


def test_language_must_be_iso_639_1():
    doc = instance([volunteer(languages=["ru", "xx"])], [client(languages=["zz"])])
    assert paths_of(doc) == ["$.volunteers[0].languages[1]", "$.clients[0].languages[0]"]


def test_mode_must_be_a_key_of_speed_kmh():
    doc = instance([volunteer(mode="scooter")], [client()])
    [(path, reason)] = errors_of(doc)
    assert path == "$.volunteers[0].mode" and "scooter" in reason


def test_schema_errors_carry_json_paths_and_all_are_listed():
    doc = instance([volunteer(max_km="far")], [client(dementia="yes")])
    errors = errors_of(doc)
    assert {p for p, _ in errors} == {"$.volunteers[0].max_km", "$.clients[0].dementia"}
    message = str(InstanceError(errors))
    assert "$.volunteers[0].max_km" in message and "$.clients[0].dementia" in message


def test_duplicate_ids_are_rejected():
    doc = instance([volunteer("v1"), volunteer("v1")], [client("c1"), client("c2", requests=[request("c1-1")])])
    assert paths_of(doc) == ["$.volunteers[1].id", "$.clients[1].requests[0].id"]


def test_pin_naming_unknown_volunteer_or_request():
    doc = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v9"}, {"request": "nope", "volunteer": "v1"}]
    )
    assert paths_of(doc) == ["$.pins[0].volunteer", "$.pins[1].request"]


def test_unknown_optional_fields_are_allowed():
    doc = instance([volunteer(shoe_size=42)], [client()])
    doc["future_field"] = {"x": 1}
    assert load_instance(doc).volunteers[0].id == "v1"


# --- time: wall clock in Europe/Berlin, offsets right in switch weeks ------------------------


def test_winter_week_starts_are_plus_one_hour():
    inst = load_instance(instance([volunteer()], [client()]))
    tue_13 = inst.requests[0].windows[0].start
    assert inst.clock.iso(tue_13) == "2026-11-24T13:00:00+01:00"


def test_week_43_summer_time_ends_on_sunday():
    # Sunday 25 October 2026: 03:00 summer time becomes 02:00 winter time.
    doc = instance(
        [volunteer(availability=[window("sat", "08:00", "18:00"), window("sun", "00:00", "12:00")])],
        [
            client(
                requests=[
                    request("c1-1", windows=[window("sat", "10:00", "12:00")]),
                    request("c1-2", windows=[window("sun", "00:00", "04:00")]),
                    request("c1-3", windows=[window("sun", "10:00", "12:00")]),
                ]
            )
        ],
        week="2026-W43",
    )
    inst = load_instance(doc)
    sat, night, sun = (r.windows[0] for r in inst.requests)
    assert inst.clock.iso(sat.start) == "2026-10-24T10:00:00+02:00"
    assert inst.clock.iso(sun.start) == "2026-10-25T10:00:00+01:00"
    assert night.end - night.start == 5 * 60  # the hour 02:00-03:00 happens twice
    grid = inst.clock.grid_between(night.start, night.end)
    readings = [inst.clock.local_time(t) for t in grid]
    assert readings.count("02:15") == 2  # a repeated reading offers both starts


def test_week_13_summer_time_begins_on_sunday():
    # Sunday 29 March 2026: 02:00 winter time becomes 03:00 summer time.
    doc = instance(
        [volunteer()],
        [
            client(
                requests=[
                    request("c1-1", windows=[window("sun", "01:00", "05:00")]),
                    request("c1-2", windows=[window("sun", "02:30", "04:00")]),
                ]
            )
        ],
        week="2026-W13",
    )
    inst = load_instance(doc)
    night, from_gap = (r.windows[0] for r in inst.requests)
    assert night.end - night.start == 3 * 60
    readings = [inst.clock.local_time(t) for t in inst.clock.grid_between(night.start, night.end)]
    assert "02:30" not in readings and "01:45" in readings and "03:00" in readings
    # a window opening at a reading that never happens opens when the clock jumps
    assert inst.clock.iso(from_gap.start) == "2026-03-29T03:00:00+02:00"
    assert inst.clock.iso(inst.clock.day_starts[6]) == "2026-03-29T00:00:00+01:00"


def test_days_are_the_iso_week():
    inst = load_instance(instance([volunteer()], [client()], week="2026-W53"))
    assert inst.clock.iso(inst.clock.day_starts[0]).startswith("2026-12-28")
    assert DAYS[0] == "mon"
    assert paths_of(instance([volunteer()], [client()], week="2025-W53")) == ["$.week"]


def test_partial_absence_is_converted_in_local_time():
    vol = volunteer(absences=[{"date": "2026-11-24", "from": "13:00", "to": "15:00"}, {"date": "2026-12-24"}])
    inst = load_instance(instance([vol], [client()]))
    [(start, end)] = inst.volunteers[0].absences  # the December one lies outside the week
    assert inst.clock.iso(start) == "2026-11-24T13:00:00+01:00" and end - start == 120


# --- pins: rules 1-4 may be broken, 5-8 never -------------------------------------------------


def test_pin_may_break_rules_1_to_4():
    far_away = volunteer("v2", languages=["en"], gender="m", dementia_trained=False, max_km=0.1)
    doc = instance(
        [volunteer(), far_away],
        [client(dementia=True, gender_preference="f", excluded_volunteers=["v2"])],
        pins=[{"request": "c1-1", "volunteer": "v2"}],
    )
    assert load_instance(doc).pins[0].volunteer == 1


def test_pin_outside_the_request_window_breaks_rule_5():
    doc = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 10:00")}]
    )
    [(path, reason)] = errors_of(doc)
    assert path == "$.pins[0]" and "rule 5" in reason


def test_pin_during_an_absence_breaks_rule_5():
    vol = volunteer(absences=[{"date": "2026-11-24"}])
    doc = instance([vol], [client()], pins=[{"request": "c1-1", "volunteer": "v1"}])
    [(path, reason)] = errors_of(doc)
    assert path == "$.pins[0]" and "rule 5" in reason


def test_pin_off_the_slot_grid_breaks_rule_5():
    doc = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 14:05")}]
    )
    assert "rule 5" in errors_of(doc)[0][1]


def test_request_pinned_twice_names_both_pins():
    doc = instance(
        [volunteer("v1"), volunteer("v2")],
        [client()],
        pins=[{"request": "c1-1", "volunteer": "v1"}, {"request": "c1-1", "volunteer": "v2"}],
    )
    [(path, reason)] = errors_of(doc)
    assert path == "$.pins[1]" and "$.pins[0]" in reason and "rule 8" in reason


def test_pins_overlapping_for_one_volunteer_name_both_pins():
    doc = instance(
        [volunteer()],
        [client("c1"), client("c2", home={"lat": 50.8400, "lon": 12.9300})],
        pins=[
            {"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 14:00")},
            {"request": "c2-1", "volunteer": "v1", "start": local("2026-11-24 15:00")},
        ],
    )
    [(path, reason)] = errors_of(doc)
    assert "$.pins[0]" in reason and "$.pins[1]" in reason and "rule" in reason


def test_pins_without_start_that_cannot_both_fit_are_invalid():
    # two 3-hour visits in one 13:00-18:00 window for the same volunteer
    doc = instance(
        [volunteer()],
        [client("c1", requests=[request("c1-1", 180)]), client("c2", requests=[request("c2-1", 180)])],
        pins=[{"request": "c1-1", "volunteer": "v1"}, {"request": "c2-1", "volunteer": "v1"}],
    )
    [(path, reason)] = errors_of(doc)
    assert "$.pins[0]" in reason and "$.pins[1]" in reason


def test_pins_beyond_weekly_minutes_break_rule_7():
    doc = instance(
        [
            volunteer(
                max_minutes_per_week=200,
                availability=[window("tue", "09:00", "18:00"), window("wed", "09:00", "18:00")],
            )
        ],
        [
            client(
                "c1",
                requests=[
                    request("c1-1", 120, windows=[window("tue", "09:00", "18:00")]),
                    request("c1-2", 120, windows=[window("wed", "09:00", "18:00")]),
                ],
            )
        ],
        pins=[{"request": "c1-1", "volunteer": "v1"}, {"request": "c1-2", "volunteer": "v1"}],
    )
    [(_, reason)] = errors_of(doc)
    assert "rule 7" in reason and "$.pins[0]" in reason and "$.pins[1]" in reason


def test_pin_start_without_offset_is_rejected():
    doc = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v1", "start": "2026-11-24T14:00:00"}]
    )
    assert paths_of(doc) == ["$.pins[0].start"]


def test_loading_does_not_change_the_document():
    doc = instance([volunteer()], [client()])
    before = copy.deepcopy(doc)
    load_instance(doc)
    assert doc == before


def test_defaults_give_a_client_one_visit_a_day_rule_10():
    doc = instance([volunteer()], [client(), client("c2", max_visits_per_day=2)])
    assert [c.max_visits_per_day for c in load_instance(doc).clients] == [1, 2]


def test_pins_putting_two_visits_of_a_client_on_one_day_break_rule_10():
    doc = instance(
        [volunteer("v1"), volunteer("v2")],
        [client(requests=[request("c1-1", 60), request("c1-2", 60)])],
        pins=[
            {"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 13:00")},
            {"request": "c1-2", "volunteer": "v2", "start": local("2026-11-24 16:00")},
        ],
    )
    [(path, reason)] = errors_of(doc)
    assert "$.pins[0]" in reason and "$.pins[1]" in reason and "rule 10" in reason
    doc["clients"][0]["max_visits_per_day"] = 2
    assert len(place_pins(load_instance(doc))) == 2


def test_reading_an_instance_runs_no_model_pins_are_a_step_of_their_own():
    doc = instance(
        [volunteer()], [client()], pins=[{"request": "c1-1", "volunteer": "v1", "start": local("2026-11-24 10:00")}]
    )
    inst = load_instance(doc)  # the pin lies outside the request's window, yet reading succeeds
    assert inst.pins[0].start is not None
    with pytest.raises(InstanceError):
        place_pins(inst)
