"""The demo association: deterministic, valid for the import, and shaped as data/README.md says."""

import json
from collections import Counter
from datetime import timedelta

import pytest

from carecal import demo_data
from carecal.masterdata.entities import Known
from carecal.masterdata.files import read_table
from carecal.masterdata.importer import parse_rows
from carecal.masterdata.layout import LAYOUTS
from carecal.masterdata.organisation import parse_catalogue
from carecal.masterdata.paths import DATA_DIR
from carecal.weeks import IsoWeek

WEEK = IsoWeek.parse(demo_data.DEFAULT_WEEK)


@pytest.fixture(scope="module")
def data():
    return demo_data.generate()


def test_the_same_seed_gives_the_same_association_and_another_seed_another():
    assert demo_data.generate(seed=7, volunteers=10, clients=20) == demo_data.generate(
        seed=7, volunteers=10, clients=20
    )
    assert demo_data.generate(seed=8, volunteers=10, clients=20) != demo_data.generate(
        seed=7, volunteers=10, clients=20
    )


def test_the_committed_files_are_what_the_generator_writes(tmp_path):
    assert demo_data.main(["--out", str(tmp_path)]) == 0
    for name, _, _ in demo_data.FILES:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), f"regenerate data/{name}"


@pytest.mark.parametrize("volunteers, clients", [(45, 120), (300, 1000)])
def test_every_generated_row_passes_the_import_validation(tmp_path, volunteers, clients):
    demo_data.write(demo_data.generate(volunteers=volunteers, clients=clients), tmp_path)
    _, activities = parse_catalogue(json.loads((DATA_DIR / "organisation.json").read_text()), "organisation.json")
    known = Known(activities={a.key: a.category for a in activities})
    for name, layout, _ in demo_data.FILES:
        header, rows = read_table(tmp_path / name)
        records, _, problems = parse_rows(LAYOUTS[layout.kind], name, header, rows, known)
        assert problems == []
        if layout.kind == "clients":
            known = Known(frozenset(r["external_id"] for _, r in records), known.activities)
    assert len(known.clients) == clients


def test_sizes_and_weekly_visits(data):
    assert (len(data.volunteers), len(data.clients)) == (45, 120)
    visits = sum(r["visits_per_week"] for r in data.requests)
    assert 180 <= visits <= 230


def test_languages_follow_the_community(data):
    mother_tongues = Counter(c["languages"][0] for c in data.clients)
    assert mother_tongues["ru"] + mother_tongues["uk"] > 0.6 * len(data.clients)
    assert {"de", "ar", "vi"} <= set(mother_tongues)
    spoken = Counter(lang for v in data.volunteers for lang in v["languages"])
    assert {"ru", "de", "uk", "en", "ar"} <= set(spoken)
    assert {v["ui_language"] for v in data.volunteers} <= {"de", "ru", "uk", "en", None}
    # a calendar language is one the volunteer speaks; the others read their first one the catalogue has
    assert all(v["ui_language"] in v["languages"] for v in data.volunteers if v["ui_language"])
    assert any(v["ui_language"] is None for v in data.volunteers)


def test_homes_cluster_where_older_and_foreign_born_people_live(data):
    clustered = demo_data.OLDER_ESTATES | demo_data.FOREIGN_BORN
    share = sum(c["district"] in clustered for c in data.clients) / len(data.clients)
    assert share > 0.5  # 11 of 39 districts
    approximate = [c for c in data.clients if c["lat"] is None]
    assert approximate and all(c["district"] for c in approximate)


def test_trainings_lapse_around_the_demo_week(data):
    first, last = WEEK.monday, WEEK.shift(2).sunday
    lapsing = [
        (kind, expires)
        for v in data.volunteers
        for kind, _, expires in v["trainings"]
        if expires and first <= expires <= last
    ]
    assert Counter(kind for kind, _ in lapsing)["basic"] >= 3
    assert any(kind == "dementia" and expires <= WEEK.sunday for kind, expires in lapsing)


def test_absences_and_times_away_fall_in_the_demo_week(data):
    start, end = WEEK.bounds()
    absent = [v for v in data.volunteers if any(a < end and b > start for a, b in v["absences"])]
    assert len(absent) >= 3
    away = [c for c in data.clients if any(a < end and b > start for a, b in c["away"])]
    assert len(away) >= 1


def test_clients_carry_the_facts_matching_and_billing_need(data):
    n = len(data.clients)
    assert 0.2 * n <= sum(c["dementia"] for c in data.clients) <= 0.5 * n
    assert sum(c["gender_preference"] is not None for c in data.clients) >= 10
    assert 0.35 * n <= sum(c["benefits_assigned_on"] is not None for c in data.clients) <= 0.65 * n
    opted_in = [c for c in data.clients if c["conversion_budget_opt_in"]]
    assert opted_in and all(c["care_grades"][-1][0] >= 2 for c in opted_in)
    assert 1 <= sum(c["family_feed_opt_in"] for c in data.clients) <= 10
    kinds = Counter(kind for v in data.volunteers for _, kind in v["must_not_visit"])
    assert kinds["relative"] >= 2 and kinds["household"] >= 1
    assert all(r["valid_from"] <= WEEK.monday + timedelta(days=7) for r in data.requests)
