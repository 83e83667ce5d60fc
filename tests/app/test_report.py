"""`carecal report week`: a self-contained HTML page, checked as text and in a real browser."""

import os
import re
import shutil
import subprocess

import pytest

from carecal import db
from carecal.roster.report import render_week_report
from carecal.weeks import IsoWeek
from tests import factories
from tests.app.roster_world import WEEK, small_association

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def planned_world(db_url, cli) -> dict:
    with db.session_scope(db_url) as s:
        world = small_association(s)
        facts = {
            "insurance": [c.insurance_number for c in world.clients.values()] + ["X123456789"],
            "volunteers": [v.first_name for v in world.volunteers.values()],
        }
        nobody = factories.client(
            s, first_name="Thi", last_name="Nguyen", languages=["ko"], insurance_number="X123456789"
        )
        factories.care_request(s, nobody)
        # a client whose only possible volunteer lacks the dementia training: the solver's
        # reason names it, the page must not
        untrained = factories.volunteer(
            s, first_name="Lan", languages=["vi", "de"], trainings=(("basic", factories.date(2024, 1, 1), None),)
        )
        needs_training = factories.client(s, first_name="Hoa", languages=["vi"], dementia=True)
        factories.care_request(s, needs_training)
        facts["untrained"] = untrained.external_id
    result = cli("roster", "plan", "--week", WEEK, "--time-limit", "3")
    assert result.exit_code == 0, result.stderr
    return facts


def test_the_report_shows_the_week_and_holds_no_health_data_or_external_assets(cli, db_url, tmp_path):
    facts = planned_world(db_url, cli)
    out = tmp_path / "week.html"
    result = cli("report", "week", "--week", WEEK, "-o", out)
    assert result.exit_code == 0, result.stderr
    html = out.read_text()

    assert "roster 2026-W48" in html and "version 1 · draft" in html
    for volunteer in facts["volunteers"]:
        assert volunteer in html
    assert "Thi N." in html and "no volunteer speaks ko" in html  # the uncovered request and why
    assert "Hoa P." in html and "particular needs" in html  # ... without saying which
    assert "<svg" in html and "<line" in html and "<circle" in html
    assert "Nguyen" not in html  # clients by first name and initial
    # no health data: no insurance numbers, no date of birth, no care grade or diagnosis
    for number in facts["insurance"]:
        assert number not in html
    for word in ("1941", "dementia", "Demenz", "Pflegegrad", "care grade", "care_level"):
        assert word not in html
    # self-contained: no scripts, stylesheets, images or fonts from anywhere
    assert not re.search(r"<script|<link|<img|@import|url\(|src=", html)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)


def test_report_default_output_and_a_published_version(cli, db_url, tmp_path, monkeypatch):
    planned_world(db_url, cli)
    cli("roster", "publish", "--week", WEEK, "--actor", "maria")
    cli("roster", "plan", "--week", WEEK, "--time-limit", "3")  # a newer draft: the report keeps to the published one
    monkeypatch.chdir(tmp_path)
    assert cli("report", "week", "--week", WEEK).exit_code == 0
    html = (tmp_path / "exports" / f"roster-{WEEK}.html").read_text()
    assert "version 1 · published · published by maria" in html


def _chromium_or_skip() -> str:
    if CHROMIUM is None:
        if UNDER_CI:
            pytest.fail("chromium is required under CI to check the week report (apt-get install chromium)")
        pytest.skip("NOTICE: chromium not installed; the week report was not checked in a browser")
    return CHROMIUM


@pytest.mark.slow
def test_the_report_renders_in_headless_chromium_without_console_errors(sqlite_url, tmp_path, monkeypatch):
    chromium = _chromium_or_skip()
    from typer.testing import CliRunner

    from carecal.cli.main import app

    monkeypatch.setenv("CARECAL_DB", sqlite_url)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    planned_world(sqlite_url, cli)
    with db.session_scope(sqlite_url) as s:
        html = render_week_report(s, IsoWeek.parse(WEEK))
    page, shot = tmp_path / "week.html", tmp_path / "week.png"
    page.write_text(html, encoding="utf-8")
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # any attempt to reach the network fails loudly
            "--window-size=1400,1200",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [
        line
        for line in run.stderr.splitlines()
        if ":CONSOLE" in line or "ERR_NAME_NOT_RESOLVED" in line or "Not allowed to load" in line
    ]
    assert console == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # not a blank page
    keep = os.environ.get("CARECAL_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_the_map_names_districts_has_a_scale_and_a_legend_and_times_are_local(cli, db_url):
    planned_world(db_url, cli)
    with db.session_scope(db_url) as s:
        html = render_week_report(s, IsoWeek.parse(WEEK))
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert re.search(r"<text [^>]*>Zentrum</text>", svg)  # where the clients live
    assert re.search(r">\d+(\.5)? km</text>", svg)  # the scale bar's length
    for entry in ("volunteers", "clients", "clients without a visit", "assignment"):
        assert f">{entry}</text>" in svg
    # the frozen clock reads 14:00 UTC on 20 November: 15:00 in Chemnitz
    assert "generated 20 Nov 2026 15:00 · all times Europe/Berlin" in html


@pytest.mark.slow
def test_the_printed_report_is_a4_landscape_with_all_seven_days_and_district_names(sqlite_url, tmp_path, monkeypatch):
    chromium = _chromium_or_skip()
    from pypdf import PdfReader
    from typer.testing import CliRunner

    from carecal.cli.main import app

    monkeypatch.setenv("CARECAL_DB", sqlite_url)
    runner = CliRunner()
    planned_world(sqlite_url, lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False))
    with db.session_scope(sqlite_url) as s:
        html = render_week_report(s, IsoWeek.parse(WEEK))
    page, pdf = tmp_path / "week.html", tmp_path / "week.pdf"
    page.write_text(html, encoding="utf-8")
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    reader = PdfReader(pdf)
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (297, 210)  # A4 landscape, in mm
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for day in ("Mon 23.11.", "Sat 28.11.", "Sun 29.11."):  # the whole week, Sunday included
        assert day in text, day
    assert "Zentrum" in text and "km" in text and "clients without a visit" in text


def test_the_report_shows_what_was_recorded_for_each_visit(session):
    from datetime import date, time

    from carecal import clock
    from carecal.billing import records
    from carecal.weeks import local

    factories.organisation(session)
    volunteer = factories.volunteer(session)
    requests = [factories.care_request(session, factories.client(session, first_name=n)) for n in ("Ada", "Bea", "Cem")]
    visits = [
        factories.published_visit(session, WEEK, r, volunteer, day=d)
        for r, d in zip(requests, ("mon", "tue", "wed"), strict=True)
    ]
    with clock.frozen(local(date(2026, 11, 24), time(18, 0))):  # Tuesday evening
        records.record_visit(session, visits[0].id, "anna", status="delivered")
        records.record_visit(session, visits[1].id, "anna", status="no-show")
        records.record_visit(session, visits[2].id, "anna", status="cancelled-by-client", reason="ill")
        html = render_week_report(session, IsoWeek.parse(WEEK))
    cells = re.findall(r'<span class="visit ?([a-z -]*)" title="[^"]*">\d\d:\d\d–\d\d:\d\d <small>(\w+)', html)
    assert {name: kind for kind, name in cells} == {"Ada": "delivered", "Bea": "no-show", "Cem": "cancelled"}
