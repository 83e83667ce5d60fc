"""`carecal feed url|rotate|revoke` and `carecal export ical`."""

import re
from datetime import date

from carecal import db
from carecal.feeds import tokens
from carecal.models import AuditEvent, FeedToken
from tests import factories as f

LINK = re.compile(r"https://feeds\.example\.net/feeds/([A-Za-z0-9_-]{43})\.ics")
ANY_LINK = re.compile(r"https://\S+/feeds/([A-Za-z0-9_-]{43})\.ics")


def _setup(db_url, **client_fields):
    with db.session_scope(db_url) as s:
        f.organisation(s)
        anna = f.volunteer(s, first_name="Anna")
        raissa = f.client(s, first_name="Raissa", **client_fields)
        f.published_visit(s, "2026-W48", f.care_request(s, raissa), anna)
        return anna.external_id, raissa.external_id


def test_feed_url_makes_a_link_once_and_points_to_rotate_afterwards(cli, db_url, monkeypatch):
    monkeypatch.setenv("CARECAL_FEED_BASE_URL", "https://feeds.example.net/")
    anna, _ = _setup(db_url)
    result = cli("feed", "url", anna)
    assert result.exit_code == 0, result.stderr
    token = LINK.search(result.stdout)[1]
    assert f"webcal://feeds.example.net/feeds/{token}.ics" in result.stdout
    with db.session_scope(db_url) as s:
        assert tokens.find(s, token).volunteer.external_id == anna
        assert s.query(AuditEvent).filter_by(action="feed.token.issue").one().payload.keys() == {"feed_token_id"}

    again = cli("feed", "url", anna)
    assert again.exit_code == 4
    assert "cannot be shown again" in again.stderr and f"carecal feed rotate {anna}" in again.stderr
    assert token not in again.stderr + again.stdout


def test_rotate_kills_the_old_link_and_revoke_the_new_one(cli, db_url):
    anna, _ = _setup(db_url)
    first = ANY_LINK.search(cli("feed", "url", anna).stdout)[1]
    rotated = cli("feed", "rotate", anna)
    assert rotated.exit_code == 0
    second = ANY_LINK.search(rotated.stdout)[1]
    with db.session_scope(db_url) as s:
        assert tokens.find(s, first) is None and tokens.find(s, second) is not None
    assert cli("feed", "revoke", anna).stdout.strip() == f"{anna}: feed link revoked"
    assert cli("feed", "revoke", anna).stdout.strip() == f"{anna} had no live feed link"
    with db.session_scope(db_url) as s:
        assert tokens.find(s, second) is None
        assert s.query(FeedToken).filter(FeedToken.revoked_at.is_(None)).count() == 0


def test_family_links_need_consent_and_unknown_people_a_clear_error(cli, db_url):
    _, raissa = _setup(db_url)
    refused = cli("feed", "url", raissa, "--client")
    assert refused.exit_code == 4 and "has not agreed to a family feed" in refused.stderr
    missing = cli("feed", "url", "v999")
    assert missing.exit_code == 3 and "no volunteer with id 'v999'" in missing.stderr


def test_export_ical_writes_one_file_per_volunteer_family_and_the_office(cli, db_url, tmp_path):
    anna, raissa = _setup(db_url, family_feed_opt_in=True)
    result = cli("export", "ical", "--week", "2026-W48", "--out", tmp_path / "cal")
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "cal").iterdir())
    assert names == [f"2026-W48-family-{raissa}.ics", "2026-W48-office.ics", f"2026-W48-volunteer-{anna}.ics"]
    assert all((tmp_path / "cal" / n).read_bytes().count(b"BEGIN:VEVENT") == 1 for n in names)

    empty = cli("export", "ical", "--week", "2026-W50", "--out", tmp_path)
    assert empty.exit_code == 3 and "2026-W50 has no published roster" in empty.stderr


def test_the_demo_step_writes_the_calendars_and_prints_a_working_feed_link(db_url, tmp_path):
    from rich.console import Console

    from carecal.demo import DemoContext, DemoWeeks
    from carecal.feeds.demo import write_calendars

    anna, _ = _setup(db_url, family_feed_opt_in=True)
    console = Console(record=True, width=200)
    weeks = DemoWeeks.around(date(2026, 11, 24))  # this week: 2026-W48
    ctx = DemoContext(url=db_url, out=tmp_path, console=console, weeks=weeks)
    write_calendars(ctx)
    printed = console.export_text()
    assert "3 .ics files for 2026-W48" in printed and "feed serve" in ctx.notes[0]
    token = re.search(r"http://127\.0\.0\.1:8080/feeds/([A-Za-z0-9_-]{43})\.ics", printed)[1]
    with db.session_scope(db_url) as s:
        assert tokens.find(s, token).volunteer.external_id == anna
