"""Rendering and translations, without a database."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from carecal.feeds import FeedEvent, render_calendar
from carecal.feeds.i18n import LANGUAGES, LOCALE_DIR, gettext_for, language_or_default

BERLIN = ZoneInfo("Europe/Berlin")
FEEDS_SOURCE = Path(__file__).resolve().parents[2] / "carecal" / "feeds"


def _event(uid="a@carecal", start=datetime(2026, 10, 25, 10, tzinfo=BERLIN), **fields) -> FeedEvent:
    return FeedEvent(
        **{
            "uid": uid,
            "sequence": 0,
            "stamp": datetime(2026, 10, 1, 8, tzinfo=UTC),
            "start": start,
            "end": start.replace(hour=12),
            "cancelled": False,
            "summary": "Besuch bei Raissa P.",
            "description": "Adresse: Markt 1",
            **fields,
        }
    )


def test_rendering_is_deterministic_and_independent_of_input_order():
    events = [_event("b@carecal"), _event("a@carecal", start=datetime(2026, 10, 24, 9, tzinfo=BERLIN))]
    first = render_calendar(events, name="Meine Besuche", language="de")
    assert first == render_calendar(list(reversed(events)), name="Meine Besuche", language="de")
    assert first.index(b"UID:a@carecal") < first.index(b"UID:b@carecal")


def test_the_second_half_past_two_of_the_autumn_night_is_written_in_utc():
    # 02:30 happens twice on 25 Oct 2026; RFC 5545 reads a TZID time as the first one.
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)
    second = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1)
    body = render_calendar(
        [
            _event("x@c", start=first, end=datetime(2026, 10, 25, 4, tzinfo=BERLIN)),
            _event("y@c", start=second, end=datetime(2026, 10, 25, 4, tzinfo=BERLIN)),
        ],
        name="n",
        language="de",
    ).decode()
    assert "DTSTART;TZID=Europe/Berlin:20261025T023000" in body
    assert "DTSTART:20261025T013000Z" in body  # 02:30 CET = 01:30 UTC


def test_a_cancelled_event_is_transparent_and_an_empty_calendar_is_still_valid():
    body = render_calendar([_event(cancelled=True)], name="n", language="uk").decode()
    assert "STATUS:CANCELLED" in body and "TRANSP:TRANSPARENT" in body and "SUMMARY;LANGUAGE=uk:" in body
    empty = render_calendar([], name="n", language="de").decode()
    assert empty.startswith("BEGIN:VCALENDAR") and "VEVENT" not in empty and "VTIMEZONE" not in empty


def test_every_message_of_the_feeds_is_translated_in_every_language():
    used = {message for _, _, message, *_ in extract_from_dir(str(FEEDS_SOURCE)) if isinstance(message, str)}
    assert len(used) >= 10
    for language in LANGUAGES:
        with open(LOCALE_DIR / language / "LC_MESSAGES" / "carecal.po", "rb") as po:
            catalog = read_po(po)
        translated = {m.id: m.string for m in catalog if m.id}
        assert set(translated) == used, f"{language}.po differs from the code's messages: run pybabel extract/update"
        assert all(translated.values()), f"{language}.po has untranslated messages"
        for message_id, text in translated.items():  # the same placeholders, or .format() breaks
            assert sorted(_placeholders(message_id)) == sorted(_placeholders(text)), (language, message_id)


def _placeholders(text: str) -> list[str]:
    import string

    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


def test_the_compiled_catalogs_are_current():
    for language in LANGUAGES:
        messages = LOCALE_DIR / language / "LC_MESSAGES"
        with open(messages / "carecal.po", "rb") as po, open(messages / "carecal.mo", "rb") as mo:
            source, compiled = read_po(po), read_mo(mo)
        assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}, (
            f"{language}: carecal.mo is stale: pybabel compile -D carecal -d carecal/locale"
        )


def test_languages_fall_back_to_german():
    assert language_or_default("ru") == "ru" and language_or_default("pl") == "de" and language_or_default(None) == "de"
    assert gettext_for("en")("Visit to {client}") == "Visit to {client}"
    assert gettext_for("de")("Visit to {client}") == "Besuch bei {client}"
    assert gettext_for("ru")("Cancelled: {title}") == "Отменено: {title}"
