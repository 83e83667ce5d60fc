"""Synthetic Chemnitz weeks: the sizes, determinism, validity and the shape of the population."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import jsonschema
import pytest

import solver
from solver.check import check
from solver.generate import OLDER_ESTATES, OUTLYING, SIZES, districts, generate, next_iso_week
from solver.instance import load_instance
from tests.solver.tiny_instances import roster

WEEK = "2026-W48"
SCHEMA = json.loads((Path(solver.__file__).parent / "schemas" / "instance.schema.json").read_text())


@pytest.fixture(scope="module")
def medium() -> dict:
    return generate("M", 1, WEEK)


def requests_of(inst: dict) -> list[dict]:
    return [r for c in inst["clients"] for r in c["requests"]]


@pytest.mark.parametrize("size", list(SIZES))
def test_size_gives_the_agreed_numbers_of_clients_and_volunteers(size):
    inst = generate(size, 1, WEEK)
    assert (len(inst["clients"]), len(inst["volunteers"])) == SIZES[size]
    assert len({c["id"] for c in inst["clients"]}) == len(inst["clients"])
    assert len({v["id"] for v in inst["volunteers"]}) == len(inst["volunteers"])
    assert len({r["id"] for r in requests_of(inst)}) == len(requests_of(inst))


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="expected one of S, M, L, XL"):
        generate("XXL", 1, WEEK)


def test_same_seed_same_instance_other_seed_other_instance():
    assert generate("S", 7, WEEK) == generate("S", 7, WEEK)
    assert generate("S", 7, WEEK) != generate("S", 8, WEEK)


def test_week_is_the_one_asked_for_and_next_week_crosses_the_year():
    assert generate("S", 1, "2026-W43")["week"] == "2026-W43"
    assert next_iso_week(date(2026, 11, 20)) == "2026-W48"
    assert next_iso_week(date(2026, 12, 28)) == "2027-W01"


def test_instance_is_valid_for_schema_model_and_validator(medium):
    jsonschema.validate(medium, SCHEMA)
    parsed = load_instance(medium)  # the model's reader: ids, languages, modes, windows
    assert len(parsed.requests) == len(requests_of(medium))
    assert check(medium, roster(medium, [])).ok  # the validator reads it too


def test_visits_are_one_to_three_hours_and_fit_their_windows(medium):
    per_client = Counter(len(c["requests"]) for c in medium["clients"])
    assert set(per_client) == {1, 2}
    for r in requests_of(medium):
        assert 60 <= r["duration_min"] <= 180 and 1 <= r["priority"] <= 3
        for w in r["windows"]:
            (h1, m1), (h2, m2) = (map(int, w["from"].split(":")), map(int, w["to"].split(":")))
            assert (h2 * 60 + m2) - (h1 * 60 + m1) >= r["duration_min"]
    durations = Counter(r["duration_min"] for r in requests_of(medium))
    assert durations.most_common(1)[0][0] == 120


def test_languages_follow_the_migrant_population(medium):
    mother_tongues = Counter(c["languages"][0] for c in medium["clients"])
    assert set(mother_tongues) <= {"ru", "uk", "de", "ar", "vi"}
    assert (mother_tongues["ru"] + mother_tongues["uk"]) / len(medium["clients"]) > 0.6
    spoken = Counter(lang for v in medium["volunteers"] for lang in v["languages"])
    assert {"ru", "de", "uk", "en", "ar"} <= set(spoken)


def test_health_and_wishes_are_spread_like_the_domain_says(medium):
    clients = medium["clients"]
    assert 0.3 < sum(c["dementia"] for c in clients) / len(clients) < 0.5
    assert {c["care_level"] for c in clients} == {1, 2, 3, 4, 5}
    assert any(c.get("gender_preference") for c in clients)
    assert any(c.get("previous_volunteers") for c in clients)
    volunteers = medium["volunteers"]
    assert {v["mode"] for v in volunteers} == {"walk", "bike", "transit", "car"}
    assert any(v.get("absences") for v in volunteers)
    walkers = [v["max_km"] for v in volunteers if v["mode"] == "walk"]
    drivers = [v["max_km"] for v in volunteers if v["mode"] == "car"]
    assert max(walkers) < min(drivers)


def test_previous_volunteers_could_have_visited(medium):
    volunteers = {v["id"]: v for v in medium["volunteers"]}
    for c in medium["clients"]:
        for vid in c.get("previous_volunteers", []):
            v = volunteers[vid]
            assert c["languages"][0] in v["languages"]
            assert v["dementia_trained"] or not c["dementia"]


def nearest_district(home: dict) -> str:
    def km(d):
        return math.hypot(d.lat - home["lat"], (d.lon - home["lon"]) * math.cos(math.radians(d.lat)))

    return min(districts(), key=km).name


def test_clients_cluster_in_the_older_estates():
    inst = generate("L", 1, WEEK)
    homes = Counter(nearest_district(c["home"]) for c in inst["clients"])
    total = len(inst["clients"])
    older_share = sum(homes[d] for d in OLDER_ESTATES) / total
    outlying_share = sum(homes[d] for d in OUTLYING) / total
    # 8 of 39 districts hold the older estates, 12 are outlying villages.
    assert older_share > 0.4
    assert outlying_share < 0.1


def test_bad_week_is_refused_with_the_expected_form():
    with pytest.raises(ValueError, match="expected an ISO week like 2026-W48"):
        generate("S", 1, "2026-48")


def test_command_line_works_outside_the_project_directory(tmp_path):
    """`python -m solver generate` from anywhere: the district data must be found beside the code."""
    done = subprocess.run(
        [sys.executable, "-m", "solver", "generate", "--size", "S", "--seed", "3", "--week", WEEK],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == generate("S", 3, WEEK)


# --- winter weeks (scarce, flex) ------------------------------------------------------------


@pytest.fixture(scope="module", params=["scarce", "flex"])
def winter(request) -> dict:
    return generate("M", 1, WEEK, request.param)


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def test_winter_weeks_ask_about_one_and_a_half_times_what_volunteers_can_give(winter):
    asked = sum(r["duration_min"] for r in requests_of(winter))
    given = sum(
        min(v["max_minutes_per_week"], sum(minutes_of(a["to"]) - minutes_of(a["from"]) for a in v["availability"]))
        for v in winter["volunteers"]
    )
    assert 1.45 < asked / given < 1.55
    assert check(winter, roster(winter, [])).ok and load_instance(winter)


def test_winter_availability_is_fragmented_and_windows_narrow(winter):
    stretches = [minutes_of(a["to"]) - minutes_of(a["from"]) for v in winter["volunteers"] for a in v["availability"]]
    assert max(stretches) <= 300 and sum(stretches) / len(stretches) < 240
    assert sum(v["max_minutes_per_week"] <= 240 for v in winter["volunteers"]) / len(winter["volunteers"]) > 0.6
    slack = [
        minutes_of(w["to"]) - minutes_of(w["from"]) - r["duration_min"]
        for r in requests_of(winter)
        for w in r["windows"]
    ]
    assert min(slack) > 0 and max(slack) <= 180


def test_winter_languages_are_scarce_where_clients_need_their_mother_tongue(winter):
    """Arabic and Vietnamese: more clients than volunteers, and fewer of those trained for dementia."""
    for lang in ("ar", "vi"):
        clients = sum(c["languages"][0] == lang for c in winter["clients"])
        speakers = [v for v in winter["volunteers"] if lang in v["languages"]]
        assert len(speakers) < clients
        assert sum(v["dementia_trained"] for v in speakers) < 0.4 * max(1, len(speakers))


def test_winter_clients_live_farther_out_than_volunteers():
    inst = generate("L", 1, WEEK, "scarce")
    outlying = {
        "clients": sum(nearest_district(c["home"]) in OUTLYING for c in inst["clients"]) / len(inst["clients"]),
        "volunteers": sum(nearest_district(v["home"]) in OUTLYING for v in inst["volunteers"])
        / len(inst["volunteers"]),
    }
    assert outlying["clients"] > 1.5 * outlying["volunteers"]


def test_winter_previous_volunteers_could_visit_again(winter):
    volunteers = {v["id"]: v for v in winter["volunteers"]}
    known = [(c, volunteers[vid]) for c in winter["clients"] for vid in c.get("previous_volunteers", [])]
    assert len(known) > 0.2 * len(winter["clients"])
    for c, v in known:
        assert c["languages"][0] in v["languages"] or not c["dementia"]
        assert v["dementia_trained"] or not c["dementia"]
        assert any(a["day"] == w["day"] for r in c["requests"] for w in r["windows"] for a in v["availability"])


def test_flex_series_share_their_windows_and_scarce_requests_do_not_need_to():
    flex = generate("M", 1, WEEK, "flex")
    for c in flex["clients"]:
        windows = [r["windows"] for r in c["requests"]]
        assert all(w == windows[0] for w in windows) and len(windows[0]) >= len(windows)
    assert Counter(len(c["requests"]) for c in flex["clients"]).keys() == {1, 2, 3}


def test_easy_weeks_are_what_they_were():
    """The easy weeks keep their random stream: the earlier benchmark figures stay comparable."""
    inst = generate("S", 1, WEEK)
    assert len(inst["volunteers"]) == 30
    assert inst["volunteers"][0]["availability"] == generate("S", 1, WEEK, "easy")["volunteers"][0]["availability"]
