"""The activity catalogue: imported with the organisation, checked with clear errors, and
asked for the label of a key in a language."""

import json

import pytest
from sqlalchemy import select

from carecal import catalogue, db
from carecal.catalogue import Catalogue, feed_language
from carecal.errors import InputError, NotFound
from carecal.masterdata import import_file, load_organisation
from carecal.masterdata.organisation import parse_catalogue
from carecal.masterdata.paths import DATA_DIR
from carecal.models import Activity, AuditEvent, CareRequest
from tests import factories

BASE = {"name": "V", "ik": "123456789", "street": "s", "postcode": "09111", "city": "Chemnitz"}
CARE = {"key": "betreuung", "labels": {"de": "Betreuung", "ru": "Общение и присмотр"}}
READING = {"key": "reading", "category": "betreuung", "labels": {"de": "Vorlesen", "ru": "Чтение вслух"}}


def problems_of(doc: dict) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_catalogue(doc, "org.json")
    return caught.value.problems


def test_the_demo_catalogue_has_every_label_in_all_four_languages():
    doc = json.loads((DATA_DIR / "organisation.json").read_text(encoding="utf-8"))
    categories, activities = parse_catalogue(doc, "organisation.json")
    assert {c.key for c in categories} == {"betreuung", "alltagsbegleitung"}
    assert all(set(a.labels) == {"de", "ru", "uk", "en"} and a.category for a in activities)


def test_every_entry_needs_a_german_label_and_only_calendar_languages():
    problems = problems_of({"activities": [{"key": "reading", "labels": {"ru": "Чтение", "pl": "Czytanie"}}]})
    assert any("activities[0] (reading).labels.pl: calendars are written in de, ru, uk, en only" in p for p in problems)
    assert any("activities[0] (reading).labels: a German label (de) is required" in p for p in problems)


def test_every_entry_has_the_same_languages():
    walk = {"key": "walk", "labels": {"de": "Spaziergang"}}
    problems = problems_of({"activity_categories": [CARE], "activities": [READING, walk]})
    assert problems == [
        "org.json: activities[1] (walk): no label in ru (other entries have one: every entry needs a label in each "
        "language the catalogue has)"
    ]


@pytest.mark.parametrize(
    "entry, expected",
    [
        ({"key": "Vorlesen", "labels": {"de": "x"}}, "activities[0].key: 'Vorlesen' is not a key like reading"),
        ({"key": "reading", "labels": {"de": "x"}, "category": "pflege"}, "category: 'pflege' is not one of"),
        ({"key": "reading", "labels": {"de": "zwei\nZeilen"}}, "labels.de: expected one line of text"),
        ({"key": "reading", "labels": {"de": "x" * 101}}, "at most 100 characters"),
        ({"key": "reading", "labels": "Vorlesen"}, "labels: expected an object"),
        ({"key": "reading", "labels": {"de": "x"}, "note": "y"}, "unknown field(s) note"),
    ],
)
def test_a_bad_entry_is_named_with_its_place_in_the_file(entry, expected):
    assert any(expected in p for p in problems_of({"activity_categories": [CARE], "activities": [entry]}))


def test_a_key_may_appear_only_once():
    twice = [{"key": "walk", "labels": {"de": "a"}}, {"key": "walk", "labels": {"de": "b"}}]
    problems = problems_of({"activities": twice})
    assert problems == ["org.json: activities[1] (walk): the key appears twice"]


def test_the_catalogue_loads_with_the_organisation_once_and_updates_by_key(db_url, tmp_path):
    path = tmp_path / "org.json"
    path.write_text(json.dumps({**BASE, "activity_categories": [CARE], "activities": [READING]}), encoding="utf-8")
    for _ in range(2):
        with db.session_scope(db_url) as s:
            load_organisation(s, path, actor="coordinator")
    renamed = {**READING, "labels": {"de": "Vorlesen und Gespräch", "ru": "Чтение вслух"}}
    path.write_text(json.dumps({**BASE, "activity_categories": [CARE], "activities": [renamed]}), encoding="utf-8")
    with db.session_scope(db_url) as s:
        load_organisation(s, path, actor="coordinator")
    with db.session_scope(db_url) as s:
        assert [(a.key, a.category_key) for a in s.scalars(select(Activity))] == [("reading", "betreuung")]
        assert catalogue.label(s, "reading") == "Vorlesen und Gespräch"
        changed = [
            e.payload["catalogue_changed"]
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "masterdata.import.organisation"))
        ]
    assert changed == [["betreuung", "reading"], [], ["reading"]]


def test_a_bad_catalogue_loads_nothing_at_all(db_url, tmp_path):
    path = tmp_path / "org.json"
    path.write_text(json.dumps({**BASE, "activities": [{"key": "walk", "labels": {"ru": "x"}}]}), encoding="utf-8")
    with pytest.raises(InputError, match="nothing was loaded"), db.session_scope(db_url) as s:
        load_organisation(s, path, actor="coordinator")
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Activity)).all() == []


def test_a_label_is_in_the_language_asked_else_german(session):
    factories.activity(session, "reading", {"de": "Vorlesen", "ru": "Чтение вслух"})
    assert catalogue.label(session, "reading", "ru") == "Чтение вслух"
    assert catalogue.label(session, "reading", "uk") == "Vorlesen"
    assert catalogue.label(session, "reading") == "Vorlesen"
    with pytest.raises(NotFound, match="activity 'knitting' is not in the catalogue"):
        catalogue.label(session, "knitting", "de")


def test_the_catalogues_languages_are_those_every_entry_has():
    two = Catalogue(
        activities={"a": {"de": "A", "ru": "А", "en": "A"}, "b": {"de": "B", "ru": "Б"}},
        category_of={"a": "care", "b": None},
        categories={"care": {"de": "Betreuung", "ru": "Присмотр", "uk": "Догляд"}},
    )
    assert two.languages == ("de", "ru")
    assert two.category_label("care", "ru") == "Присмотр" and two.category_label("care", "en") == "Betreuung"
    assert two.category_label("alltagsbegleitung") == "alltagsbegleitung"  # not in the catalogue: its key


@pytest.mark.parametrize(
    "chosen, spoken, expected",
    [
        (None, ["ru"], "ru"),  # a Russian-only volunteer reads Russian
        (None, ["ar", "uk", "de"], "uk"),  # the first language the catalogue has
        (None, ["ar", "vi"], "de"),  # none of theirs: German
        ("en", ["ru"], "en"),  # a choice wins
        (None, ["pl", "de"], "de"),
    ],
)
def test_a_volunteers_calendar_language(chosen, spoken, expected):
    assert feed_language(chosen, spoken, ("de", "ru", "uk")) == expected


@pytest.fixture
def import_requests(db_url, tmp_path):
    """The demo organisation (with its catalogue) and client c001; imports request rows."""
    with db.session_scope(db_url) as s:
        load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")
        factories.client(s, external_id="c001")

    def run(*rows: str):
        header = "external_id,client_id,activity,category,duration_min,windows,valid_from,note\n"
        (tmp_path / "r.csv").write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
        with db.session_scope(db_url) as s:
            import_file(s, "requests", tmp_path / "r.csv", actor="coordinator")

    return run


def test_a_request_names_a_catalogue_key_and_takes_its_category(db_url, import_requests):
    import_requests(
        "c001-1,c001,shopping,,90,tue 09:00-12:00,2026-01-01,Klingel defekt: bitte anrufen",
        "c001-2,c001,reading,,90,wed 09:00-12:00,2026-01-01,",
    )
    with db.session_scope(db_url) as s:
        got = {r.external_id: (r.activity_key, r.category, r.note) for r in s.scalars(select(CareRequest))}
    assert got == {
        "c001-1": ("shopping", "alltagsbegleitung", "Klingel defekt: bitte anrufen"),
        "c001-2": ("reading", "betreuung", None),
    }


def test_free_text_or_a_clashing_category_in_a_request_is_refused(import_requests):
    with pytest.raises(InputError) as caught:
        import_requests(
            "c001-1,c001,Группа по деменции,,90,tue 09:00-12:00,2026-01-01,",
            "c001-2,c001,reading,alltagsbegleitung,90,wed 09:00-12:00,2026-01-01,",
        )
    assert caught.value.problems[0] == (
        "r.csv row 2, column activity, value (hidden: not a catalogue key): not an activity key like reading"
    )
    assert caught.value.problems[1] == (
        "r.csv row 3, column category, value 'alltagsbegleitung': the activity 'reading' belongs to 'betreuung': "
        "leave the cell empty or write that"
    )
