"""Subscribing in one scan: `feed url --qr`, `feed handout` (the PDF names the link and the
steps in the volunteer's language; its QR code decodes to the link)."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from carecal import db, lookup
from carecal.feeds import tokens
from carecal.models import Volunteer
from tests import factories as f

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LINK = re.compile(r"(https://feeds\.example\.net/feeds/([A-Za-z0-9_-]{43})\.ics)")


@pytest.fixture
def zbarimg():
    """decode(image path) → the texts of the QR codes in it (Debian's zbar-tools)."""
    if shutil.which("zbarimg") is None:
        message = "QR decoding needs zbarimg (apt-get install zbar-tools)"
        if UNDER_CI:
            pytest.fail(message)
        pytest.skip(message)

    def decode(path: Path) -> list[str]:
        done = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=60)
        return done.stdout.splitlines()

    return decode


@pytest.fixture
def people(db_url, monkeypatch):
    monkeypatch.setenv("CARECAL_FEED_BASE_URL", "https://feeds.example.net")
    with db.session_scope(db_url) as s:
        f.organisation(s, phone="0371 5550100")
        return {
            lang: f.volunteer(s, first_name=name, ui_language=lang).external_id
            for lang, name in (("de", "Anna"), ("ru", "Olga"))
        }


def _text(path: Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def _qr_in(path: Path, tmp_path: Path, decode) -> list[str]:
    (image,) = PdfReader(path).pages[0].images
    png = tmp_path / "qr-from-pdf.png"
    image.image.save(png)
    return decode(png)


STEPS = {
    "de": [
        "Ihre Besuche in Ihrem Kalender",
        "iPhone und iPad",
        "1. Öffnen Sie die Kamera-App und richten Sie sie auf den Code.",
        "Android",
        "1. Installieren Sie die kostenlose App ICSx",
        "Thunderbird (Computer)",
        "1. Wählen Sie Datei → Neu → Kalender… → Im Netzwerk.",
        "Fragen? Rufen Sie das Büro an: 0371 5550100",
    ],
    "ru": [
        "Ваши визиты в вашем календаре",
        "iPhone и iPad",
        "1. Откройте приложение «Камера» и наведите его на код.",
        "2. Нажмите на появившуюся ссылку, затем — «Подписаться».",
        "1. Установите бесплатное приложение ICSx",
        "Thunderbird (компьютер)",
        "3. Нажмите «Найти календари», затем «Подписаться».",
        "Вопросы? Позвоните в офис: 0371 5550100",
    ],
}


@pytest.mark.parametrize("language", ["de", "ru"])
def test_the_handout_names_the_link_and_the_steps_in_the_volunteers_language(
    cli, db_url, people, tmp_path, zbarimg, language
):
    volunteer = people[language]
    path = tmp_path / "sheet.pdf"
    result = cli("feed", "handout", volunteer, "--out", path)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the secret link
    assert len(PdfReader(path).pages) == 1
    text = _text(path)
    flat = re.sub(r"\s+", "", text)
    https, token = LINK.search(flat).groups()
    assert "webcal://feeds.example.net/feeds/" + token + ".ics" in flat
    for line in STEPS[language]:
        assert re.sub(r"\s+", "", line) in flat, line
    with db.session_scope(db_url) as s:
        assert tokens.find(s, token).volunteer.external_id == volunteer
    assert _qr_in(path, tmp_path, zbarimg) == [f"webcal://feeds.example.net/feeds/{token}.ics"]
    assert token not in result.stdout  # the link is on the sheet, not on the screen


def test_a_rotated_link_makes_a_new_handout_and_the_old_sheet_dies(cli, db_url, people, tmp_path, zbarimg):
    volunteer = people["ru"]
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    assert cli("feed", "handout", volunteer, "--out", first).exit_code == 0
    refused = cli("feed", "handout", volunteer, "--out", second)
    assert refused.exit_code == 4 and "cannot be shown again" in refused.stderr and not second.exists()
    assert cli("feed", "handout", volunteer, "--rotate", "--out", second).exit_code == 0
    old = LINK.search(re.sub(r"\s+", "", _text(first)))[2]
    new = LINK.search(re.sub(r"\s+", "", _text(second)))[2]
    assert old != new
    with db.session_scope(db_url) as s:
        assert tokens.find(s, old) is None and tokens.find(s, new) is not None
    assert _qr_in(second, tmp_path, zbarimg) == [f"webcal://feeds.example.net/feeds/{new}.ics"]


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_feed_url_shows_a_qr_code_and_writes_it_to_a_file(cli, people, tmp_path, zbarimg, suffix):
    path = tmp_path / f"link.{suffix}"
    result = cli("feed", "url", people["de"], "--qr", "--qr-file", path)
    assert result.exit_code == 0, result.stderr
    token = LINK.search(result.stdout)[2]
    assert "█" in result.stdout and "▀" in result.stdout  # the code, drawn in the terminal
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if suffix == "svg":  # zbarimg reads raster images only: an SVG drawing of the code is enough here
        assert path.read_text().startswith("<?xml") and "<path" in path.read_text()
        return
    assert zbarimg(path) == [f"webcal://feeds.example.net/feeds/{token}.ics"]


def test_feed_url_refuses_a_qr_file_it_cannot_write(cli, people, db_url, tmp_path):
    result = cli("feed", "url", people["de"], "--qr-file", tmp_path / "link.jpg")
    assert result.exit_code == 2 and "--qr-file" in result.stderr and ".png or .svg" in result.stderr
    with db.session_scope(db_url) as s:  # refused before a link was made
        assert tokens.live_token(s, lookup.by_external_id(s, Volunteer, people["de"])) is None
