"""Volunteers' bank details: IBANs checked on import, masked on every way out but the
transfer file, and a masked export read back without losing the IBAN on file."""

import csv

import pytest
from sqlalchemy import select

from carecal import db
from carecal.errors import InputError
from carecal.masterdata import export_file, import_file
from carecal.masterdata.codecs import iban
from carecal.models import AuditEvent, Volunteer
from carecal.privacy import mask_iban
from tests.app.test_masterdata import CLIENTS, VOLUNTEERS, write

IBAN = "DE89370400440532013000"


def volunteers(**cells) -> list[dict]:
    return [{**VOLUNTEERS[0], **cells}, VOLUNTEERS[1]]


def load(db_url, tmp_path, rows: list[dict]):
    with db.session_scope(db_url) as s:
        import_file(s, "clients", write(tmp_path / "clients.csv", CLIENTS), actor="coordinator")
        return import_file(s, "volunteers", write(tmp_path / "volunteers.csv", rows), actor="coordinator")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("DE89 3704 0044 0532 0130 01", "its check digits do not match"),
        ("DE89 3704 0044 0532 0130", "too short or too long for its country"),
        ("XX89 3704 0044 0532 0130 00", "does not start with the code of a country that has IBANs"),
        ("DE89 3704 0044 0532 0130 0X", "do not follow its country's layout"),
        ("BR15 0000 0000 0000 1093 2840 814P 2", "outside the SEPA area"),
    ],
)
def test_an_iban_is_checked_for_country_length_layout_and_check_digits(text, reason):
    with pytest.raises(ValueError, match=reason) as refused:
        iban(text)
    assert "".join(text.split())[4:-4] not in str(refused.value)  # the message never repeats the account


def test_an_iban_is_stored_compact_whatever_its_spacing():
    assert iban(" de89 3704 0044 0532 0130 00 ") == IBAN
    assert mask_iban(IBAN) == "DE89 **** 3000" and mask_iban("DE89 3704 0044 0532 0130 00") == "DE89 **** 3000"


def test_import_takes_the_iban_and_the_limit_and_a_bad_one_is_named_masked(db_url, tmp_path):
    load(db_url, tmp_path, volunteers(iban="DE89 3704 0044 0532 0130 00", allowance_limit="3_26a"))
    with db.session_scope(db_url) as s:
        natalja = s.scalars(select(Volunteer).where(Volunteer.external_id == "v001")).one()
        assert (natalja.iban, natalja.allowance_limit, natalja.payee) == (IBAN, "3_26a", natalja.name)
        uhlig = s.scalars(select(Volunteer).where(Volunteer.external_id == "v002")).one()
        assert (uhlig.iban, uhlig.allowance_limit) == (None, "3_26")
        assert IBAN not in str([e.payload for e in s.scalars(select(AuditEvent))])
    with pytest.raises(InputError) as refused:
        load(db_url, tmp_path, volunteers(iban="DE89 3704 0044 0532 0130 01"))
    message = str(refused.value)
    assert "volunteers.csv row 2, column iban, value DE89 **** 3001: not a valid IBAN" in message
    assert "3704" not in message


def test_an_export_masks_the_iban_and_reads_back_unchanged(db_url, tmp_path):
    load(db_url, tmp_path, volunteers(iban=IBAN, account_holder="Pjotr Iwanow"))
    exported = tmp_path / "out.csv"
    with db.session_scope(db_url) as s:
        export_file(s, "volunteers", exported)
    text = exported.read_text(encoding="utf-8")
    assert "DE89 **** 3000" in text and IBAN not in text and "3704" not in text
    with db.session_scope(db_url) as s:
        report = import_file(s, "volunteers", exported, actor="coordinator")
        assert report.updated == {} and len(report.unchanged) == 2
        assert s.scalars(select(Volunteer.iban).where(Volunteer.external_id == "v001")).one() == IBAN

    # a masked cell that is not the IBAN on file (or one for a volunteer without one) is refused
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    rows[0]["iban"], rows[1]["iban"] = "DE89 **** 3001", "DE89 **** 3000"
    with pytest.raises(InputError) as refused, db.session_scope(db_url) as s:
        import_file(s, "volunteers", write(tmp_path / "edited.csv", rows), actor="coordinator")
    assert str(refused.value).count("does not match it: type the whole IBAN") == 2


def test_the_volunteers_card_shows_the_account_masked(cli, db_url, tmp_path):
    load(db_url, tmp_path, volunteers(iban=IBAN, account_holder="Pjotr Iwanow"))
    shown = cli("volunteer", "show", "v001")
    assert shown.exit_code == 0, shown.stderr
    assert "DE89 **** 3000 (Pjotr Iwanow)" in shown.stdout and IBAN not in shown.stdout
    assert "§ 3 Nr. 26 EStG" in shown.stdout
