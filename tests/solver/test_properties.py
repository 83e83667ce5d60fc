"""Property tests: on small random instances every roster the solver returns passes the validator."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from solver import InstanceError, solve
from solver.check import check
from solver.generate import generate
from tests.solver.tiny_instances import roster

BERLIN = ZoneInfo("Europe/Berlin")
# Two weeks with a switch of summer time on their Sunday, and an ordinary one.
WEEKS = {"2026-W13": date(2026, 3, 23), "2026-W43": date(2026, 10, 19), "2026-W48": date(2026, 11, 23)}
DAYS = ["fri", "sat", "sun"]  # few days, so visits compete, and the switch day is among them
LANGUAGES = ["ru", "uk", "de"]
CLOCKS = ["00:00", "01:00", "02:00", "02:30", "03:00", "09:00", "10:00", "12:00", "13:00", "15:00", "18:00"]


def home():
    return st.builds(
        lambda dlat, dlon: {"lat": round(50.82 + dlat, 4), "lon": round(12.90 + dlon, 4)},
        st.floats(0, 0.03),
        st.floats(0, 0.05),
    )


@st.composite
def day_window(draw):
    start, end = sorted(draw(st.lists(st.sampled_from(CLOCKS), min_size=2, max_size=2, unique=True)))
    return {"day": draw(st.sampled_from(DAYS)), "from": start, "to": end}


@st.composite
def volunteer(draw, vid: str, monday: date):
    v = {
        "id": vid,
        "home": draw(home()),
        "languages": draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True)),
        "gender": draw(st.sampled_from(["f", "m", "d"])),
        "dementia_trained": draw(st.booleans()),
        "max_minutes_per_week": draw(st.sampled_from([60, 180, 480])),
        "max_visits_per_day": draw(st.integers(1, 3)),
        "max_km": draw(st.sampled_from([1.0, 3.0, 6.0])),
        "mode": draw(st.sampled_from(["walk", "bike", "transit", "car"])),
        "availability": draw(st.lists(day_window(), min_size=1, max_size=3)),
    }
    if draw(st.booleans()):
        absence = {"date": (monday + timedelta(days=draw(st.integers(4, 6)))).isoformat()}
        if draw(st.booleans()):
            absence["from"], absence["to"] = "10:00", "12:00"
        v["absences"] = [absence]
    return v


@st.composite
def client(draw, cid: str, volunteer_ids: list[str]):
    requests = [
        {
            "id": f"{cid}-{k}",
            "duration_min": draw(st.sampled_from([60, 90, 120])),
            "priority": draw(st.integers(1, 3)),
            "windows": draw(st.lists(day_window(), min_size=1, max_size=2)),
        }
        for k in range(1, draw(st.integers(1, 2)) + 1)
    ]
    return {
        "id": cid,
        "home": draw(home()),
        "languages": draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True)),
        "dementia": draw(st.booleans()),
        "care_level": draw(st.integers(1, 5)),
        "gender_preference": draw(st.sampled_from([None, None, "f", "m"])),
        "previous_volunteers": draw(st.lists(st.sampled_from(volunteer_ids), max_size=1)),
        "excluded_volunteers": draw(st.lists(st.sampled_from(volunteer_ids), max_size=1)),
        "max_visits_per_day": draw(st.sampled_from([1, 1, 2])),
        "requests": requests,
    }


@st.composite
def small_instance(draw):
    week = draw(st.sampled_from(sorted(WEEKS)))
    volunteer_ids = [f"v{i}" for i in range(1, draw(st.integers(1, 5)) + 1)]
    volunteers = [draw(volunteer(vid, WEEKS[week])) for vid in volunteer_ids]
    clients = [draw(client(f"c{i}", volunteer_ids)) for i in range(1, draw(st.integers(1, 6)) + 1)]
    pins = []
    if draw(st.integers(0, 3)) == 0:  # now and then a coordinator's pin, which may be impossible
        pin = {"request": clients[0]["requests"][0]["id"], "volunteer": draw(st.sampled_from(volunteer_ids))}
        if draw(st.booleans()):  # at a given time: a wall-clock time of Friday to Sunday, with its offset
            day = WEEKS[week] + timedelta(days=draw(st.integers(4, 6)))
            clock = time.fromisoformat(draw(st.sampled_from(["09:00", "10:00", "13:00", "15:00"])))
            pin["start"] = datetime.combine(day, clock, tzinfo=BERLIN).isoformat()
        pins = [pin]
    return {
        "format": "carecal-instance/1",
        "week": week,
        "timezone": "Europe/Berlin",
        "slot_minutes": draw(st.sampled_from([15, 30])),
        "volunteers": volunteers,
        "clients": clients,
        "pins": pins,
    }


def pin_can_hold(inst: dict, pin: dict) -> bool:
    """Whether the validator accepts some roster with this pin alone assigned, at any start on the grid."""
    owner, request = next((c, r) for c in inst["clients"] for r in c["requests"] if r["id"] == pin["request"])
    if "start" in pin:
        starts = [datetime.fromisoformat(pin["start"])]
    else:
        midnight = datetime.combine(WEEKS[inst["week"]], time(0), tzinfo=BERLIN).astimezone(UTC)
        starts = [midnight + timedelta(minutes=m) for m in range(0, 7 * 24 * 60, inst["slot_minutes"])]
    for start in starts:
        end = start + timedelta(minutes=request["duration_min"])
        only = {
            "request": pin["request"],
            "client": owner["id"],
            "volunteer": pin["volunteer"],
            "start": start.astimezone(BERLIN).isoformat(),
            "end": end.astimezone(BERLIN).isoformat(),
        }
        if check(inst, roster(inst, [only])).ok:
            return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instance())
def test_every_roster_passes_the_validator(inst):
    try:
        result = solve(inst, time_limit=1.0, workers=1, seed=0)
    except InstanceError:
        assert inst["pins"], "only a pin can make these instances invalid"
        assert not any(pin_can_hold(inst, pin) for pin in inst["pins"]), "a pin that could hold was rejected"
        event("pin rejected")
        return
    event("pinned" if inst["pins"] else "no pin")
    report = check(inst, result)
    assert report.ok, [(v.rule, v.message) for v in report.violations]
    assert report.metrics["covered"] == len(result["assignments"])
    for pin in inst["pins"]:  # a valid instance's pins all hold (the validator checks rule 9 too)
        assert any(a["request"] == pin["request"] and a["volunteer"] == pin["volunteer"] for a in result["assignments"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_small_week_passes_the_validator(seed):
    inst = generate("S", seed, "2026-W43")
    # With one worker the limit is CP-SAT's deterministic time, which can run well past the wall clock.
    result = solve(inst, time_limit=1.0, workers=1, seed=0)
    report = check(inst, result)
    assert report.ok, [(v.rule, v.message) for v in report.violations]
    assert report.metrics["covered"] > 0


@pytest.mark.slow
def test_same_seed_and_one_worker_give_the_same_roster():
    inst = generate("S", 4, "2026-W48")
    first, again = (solve(inst, time_limit=0.5, workers=1, seed=5) for _ in range(2))
    assert first["assignments"] == again["assignments"]
    assert first["unassigned"] == again["unassigned"]
