"""The bank's transfer file: pain.001.001.09, valid against the official XSD (xmllint), one
transfer per volunteer of a batch, what each payout transfers, the IBANs whole only here."""

import os
import shutil
import subprocess
from datetime import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from carecal import organisation
from carecal.billing import payouts, records, sepa
from carecal.errors import InputError, NotFound
from tests.app.test_payouts import IBAN, after_the_visits, month_of_visits  # noqa: F401 (fixture)

XSD = Path(__file__).parent.parent / "data" / "sepa" / "pain.001.001.09.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
ASSOCIATION_IBAN = "DE76870999990000000001"


@pytest.fixture(autouse=True)
def association_account(monkeypatch):
    """The factories' organisation has no bank details: every organisation made here pays from
    this account (BIC given)."""
    from tests import factories

    made = factories.organisation

    def with_account(session, **fields):
        return made(session, **{"iban": ASSOCIATION_IBAN, "bic": "COBADEFFXXX", **fields})

    monkeypatch.setattr(factories, "organisation", with_account)


def xmllint(xml: bytes, tmp_path: Path) -> subprocess.CompletedProcess:
    if shutil.which("xmllint") is None:
        if os.environ.get("CI"):
            pytest.fail("xmllint (libxml2-utils) must be installed under CI: .ci/run installs it")
        pytest.skip("xmllint (libxml2-utils) is not installed")
    path = tmp_path / "payouts.xml"
    path.write_bytes(xml)
    return subprocess.run(
        ["xmllint", "--noout", "--schema", str(XSD), str(path)], capture_output=True, text=True, check=False
    )


def transfers(xml: bytes) -> list[dict]:
    root = ElementTree.fromstring(xml)
    return [
        {
            "name": tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            "iban": tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            "amount": tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            "end_to_end": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
            "remittance": tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
        }
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]


def test_the_months_transfer_file_is_valid_pain_001_001_09_with_one_transfer_per_volunteer(session, tmp_path):
    anna, boris = month_of_visits(session)
    boris.first_name, boris.account_holder = "Борис", "Ljudmila Müller-Łukasz"
    payouts.run(session, "2026-11", "treasurer")
    made = sepa.transfer_file(session, "2026-11")
    checked = xmllint(made.xml, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert (made.batch, made.transfers, made.total_cents, made.file_name) == (1, 2, 11200, "payouts_2026-11.xml")
    assert made.message_id == "CARECAL-461234567-2026-11-1"
    root = ElementTree.fromstring(made.xml)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == made.message_id
    assert (
        header.findtext("p:NbOfTxs", namespaces=NS) == "2" and header.findtext("p:CtrlSum", namespaces=NS) == "112.00"
    )
    assert header.findtext("p:CreDtTm", namespaces=NS) == "2026-12-15T01:00:00"  # the clock, in Chemnitz
    info = root.find(".//p:PmtInf", NS)
    assert info.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS) == "2026-12-16"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == ASSOCIATION_IBAN
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "COBADEFFXXX"
    assert info.findtext("p:BtchBookg", namespaces=NS) == "true"
    assert transfers(made.xml) == [
        {
            "name": anna.name,
            "iban": IBAN,
            "amount": "56.00",
            "end_to_end": f"P2026-11-1-{anna.external_id}",
            "remittance": "Aufwandsentschadigung 11/2026, 3 Besuche, Brucke Chemnitz e. V.",
        },
        {
            "name": "Ljudmila Muller-Lukasz",  # the account holder, in the SEPA character set
            "iban": "DE02120300000000202051",
            "amount": "56.00",
            "end_to_end": f"P2026-11-1-{boris.external_id}",
            "remittance": "Aufwandsentschadigung 11/2026, 3 Besuche, Brucke Chemnitz e. V.",
        },
    ]


def test_a_correction_is_a_batch_of_its_own_and_what_is_overpaid_or_held_is_not_transferred(session, tmp_path):
    anna, boris = month_of_visits(session, limit_cents=4000)  # 16 € each held back
    first = payouts.run(session, "2026-11", "treasurer").payouts
    assert [t["amount"] for t in transfers(sepa.transfer_file(session, "2026-11").xml)] == ["40.00", "40.00"]
    # Boris's last visit ended an hour early (taken back: overpaid); Anna's held money is released
    records.record_visit(
        session, first[1].lines[-1].visit_id, "coordinator", status="delivered", end=time(15), reason="early"
    )
    organisation.require(session).payout_over_limit = "taxable"
    payouts.correct(session, "2026-11", "treasurer", "held money released; a visit ended early")
    made = sepa.transfer_file(session, "2026-11")
    assert (made.batch, made.file_name, made.message_id[-9:]) == (2, "payouts_2026-11_batch-2.xml", "2026-11-2")
    checked = xmllint(made.xml, tmp_path)
    assert checked.returncode == 0, checked.stderr
    # Anna: 16 € released; Boris: 16 € released, 10 € taken back for the hour: 6 €
    assert [(t["end_to_end"], t["amount"]) for t in transfers(made.xml)] == [
        (f"P2026-11-2-{anna.external_id}", "16.00"),
        (f"P2026-11-2-{boris.external_id}", "6.00"),
    ]
    assert transfers(made.xml)[0]["remittance"].startswith("Nachzahlung Aufwandsentschadigung 11/2026")
    assert transfers(sepa.transfer_file(session, "2026-11", batch=1).xml)[0]["amount"] == "40.00"  # written again
    with pytest.raises(NotFound, match="batch 3 of 2026-11 transfers nothing"):
        sepa.transfer_file(session, "2026-11", batch=3)


def test_without_the_associations_iban_there_is_no_file(session):
    month_of_visits(session)
    payouts.run(session, "2026-11", "treasurer")
    organisation.require(session).iban = None
    with pytest.raises(InputError, match="needs the association's IBAN"):
        sepa.transfer_file(session, "2026-11")


def test_the_schema_check_is_real(session, tmp_path):
    month_of_visits(session)
    payouts.run(session, "2026-11", "treasurer")
    xml = sepa.transfer_file(session, "2026-11").xml
    broken = xml.replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>SEPA</PmtMtd>", 1)  # not a payment method
    assert broken != xml
    assert xmllint(broken, tmp_path).returncode != 0


def test_cli_writes_the_file_and_says_what_it_holds(cli, db_url, tmp_path):
    from carecal import db

    with db.session_scope(db_url) as s:
        month_of_visits(s)
    assert cli("payout", "run", "--month", "2026-11").exit_code == 0
    out = tmp_path / "bank.xml"
    written = cli("export", "payouts", "--month", "2026-11", "-o", out)
    assert written.exit_code == 0, written.stderr
    said = " ".join(written.stdout.split())
    assert "2 transfer(s), 112,00 €" in said and "CARECAL-461234567-2026-11-1" in said and IBAN not in said
    assert IBAN.encode() in out.read_bytes() and xmllint(out.read_bytes(), tmp_path).returncode == 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    missing = cli("export", "payouts", "--month", "2026-10")
    assert missing.exit_code == 3 and "no payouts for 2026-10" in missing.stderr
