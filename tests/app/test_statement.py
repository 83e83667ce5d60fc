"""The volunteer's allowance statement: one page in their language, what was paid for which
visits, to which (masked) account, and the year against the tax-free limit."""

from datetime import date, time
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from pypdf import PdfReader

from carecal.billing import payouts, records, statement
from carecal.feeds.i18n import LANGUAGES, LOCALE_DIR
from tests import factories as f
from tests.app.test_payouts import IBAN, after_the_visits, month_of_visits  # noqa: F401 (fixture)

SOURCE = Path(statement.__file__)


def pdf_text(data: bytes) -> tuple[int, str]:
    import io

    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_view_holds_the_paid_visits_the_transfer_and_the_year(session):
    anna, _ = month_of_visits(session, limit_cents=4000, weeks=("2026-W43", "2026-W45", "2026-W46", "2026-W47"))
    payouts.run(session, "2026-10", "treasurer")  # 18 € tax-free in October
    payouts.run(session, "2026-11", "treasurer")
    view = statement.statement_view(session, anna, "2026-11")
    assert (view.language, view.volunteer_id, view.file_name) == ("de", anna.external_id, "statement_2026-11_v001.pdf")
    assert [(v.day, v.time, v.minutes, v.rate_cents, v.amount_cents) for v in view.visits] == [
        (date(2026, 11, 3), "14:00–16:00", 120, 900, 1800),
        (date(2026, 11, 10), "14:00–16:00", 120, 900, 1800),
        (date(2026, 11, 17), "14:00–16:00", 120, 1000, 2000),
    ]
    assert view.visits[0].client.endswith(".") and view.visits[0].activity == "Gespräch und Spaziergang"
    # 40 € limit, 18 € used in October: 22 € of November's 56 € tax-free, 34 € held back
    assert (view.earned_cents, view.tax_free_cents, view.held_cents, view.year_tax_free_cents) == (
        5600,
        2200,
        3400,
        4000,
    )
    assert [(p.paid_cents, p.account) for p in view.payments] == [(2200, "DE89 **** 3000")]


def test_a_russian_speaker_reads_it_in_russian_on_one_page_without_the_whole_iban(session):
    anna, _ = month_of_visits(session)
    anna.ui_language = "ru"
    payouts.run(session, "2026-11", "treasurer")
    pages, text = pdf_text(statement.render(statement.statement_view(session, anna, "2026-11")))
    assert pages == 1
    assert "Компенсация расходов за ноябрь 2026" in text and "Переведено" in text and "DE89 **** 3000" in text
    assert IBAN not in text and "3704" not in text
    assert "56,00" in text and "§ 3 Nr. 26 EStG" in text


def test_a_busy_month_still_fits_one_page_and_a_correction_shows(session, tmp_path):
    anna, boris = month_of_visits(session, weeks=("2026-W45", "2026-W46", "2026-W47", "2026-W48"))
    anna.ui_language, boris.ui_language = "uk", "en"
    request = anna.request
    for week in ("2026-W45", "2026-W46", "2026-W47", "2026-W48"):  # eight more visits a week
        for day in ("mon", "wed", "thu", "fri"):
            for start in ("09:00", "16:30"):
                visit = f.published_visit(session, week, request, anna, day=day, start=start)
                records.record_visit(session, visit.id, "coordinator", status="delivered")
    first = payouts.run(session, "2026-11", "treasurer").payouts
    assert len(first[0].lines) == 36
    records.record_visit(
        session, first[1].lines[0].visit_id, "coordinator", status="delivered", end=time(15), reason="early"
    )
    payouts.correct(session, "2026-11", "treasurer", "ended early")
    written = statement.write_statements(session, "2026-11", tmp_path)
    assert [p.name for p in written] == ["statement_2026-11_v001.pdf", "statement_2026-11_v002.pdf"]
    pages, text = pdf_text(written[0].read_bytes())
    assert pages == 1 and "Компенсація витрат за листопад 2026" in text
    pages, text = pdf_text(written[1].read_bytes())
    assert pages == 1 and "Expense allowance for November 2026" in text
    assert "Overpaid, to be settled with the treasurer: €9.00" in text and "(correction)" in text


def test_every_message_of_the_statement_is_translated_in_every_language():
    used = {message for _, message, _, _ in extract_from_file("python", str(SOURCE)) if isinstance(message, str)}
    assert len(used) >= 15
    for language in LANGUAGES:
        messages = LOCALE_DIR / language / "LC_MESSAGES"
        with open(messages / "statements.po", "rb") as po, open(messages / "statements.mo", "rb") as mo:
            source, compiled = read_po(po), read_mo(mo)
        translated = {m.id: m.string for m in source if m.id}
        assert set(translated) == used, f"{language}: statements.po differs from the code's messages"
        assert all(translated.values()), f"{language}: untranslated messages"
        assert translated == {m.id: m.string for m in compiled if m.id}, f"{language}: statements.mo is stale"
        for message_id, text in translated.items():
            assert sorted(_placeholders(message_id)) == sorted(_placeholders(text)), (language, message_id)


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_cli_writes_the_statements(cli, db_url, tmp_path):
    from carecal import db

    with db.session_scope(db_url) as s:
        anna, _ = month_of_visits(s)
        anna_id = anna.external_id
    assert cli("payout", "run", "--month", "2026-11").exit_code == 0
    written = cli("export", "statements", "--month", "2026-11", "--out", tmp_path, "--volunteer", anna_id)
    assert written.exit_code == 0, written.stderr
    assert (tmp_path / f"statement_2026-11_{anna_id}.pdf").exists() and "1 statement(s)" in written.stdout
    assert cli("export", "statements", "--month", "2026-10", "--out", tmp_path).exit_code == 3
