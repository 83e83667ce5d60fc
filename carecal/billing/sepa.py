"""The bank's transfer file for the volunteers' allowances: a SEPA credit transfer in the
ISO 20022 format pain.001.001.09, one transfer per volunteer of a payout batch (the month's
run, or a correction), written by the sepaxml library.

Why pain.001.001.09: German banks take the customer formats of the Deutsche Kreditwirtschaft's
data format agreement (DFÜ-Abkommen, Anlage 3, "Spezifikation der Datenformate"). Its
current versions carry the 2019 ISO messages (pain.001.001.09), and in November 2025 the
banks switched off the 2009 format pain.001.001.03 for uploads, by EBICS, FinTS and online
banking alike. So .09 is what every German bank imports today, and .03 is refused.

What the file says, and why:
- the debtor is the association's account (organisation file: iban, bic), one batch booking
  (one line on its statement), requested for the batch's execution date;
- each transfer goes to the IBAN and name stored with the payout (what was paid stays what
  the file says, whatever the volunteer's record says later), no BIC (IBAN-only, as SEPA
  has allowed since 2016), with the remittance "Aufwandsentschädigung MM/YYYY …";
- the message id is fixed per association, month and batch (`CARECAL-<IK>-2026-11-1`), so
  the same batch written twice is the same message, which a bank's duplicate check can
  recognise when a file is uploaded twice by mistake;
- names and texts are transliterated to the SEPA character set by the library.

The file is checked against the pain.001.001.09 schema before it is written (the library's
own check); the tests check it again against the official XSD with xmllint.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sepaxml import SepaTransfer
from sqlalchemy.orm import Session

from carecal import clock, organisation
from carecal.billing.ledger import parse_month
from carecal.billing.payouts import find_month
from carecal.errors import InputError, NotFound
from carecal.models import Organisation, Payout
from carecal.weeks import to_local

SCHEMA = "pain.001.001.09"


@dataclass(frozen=True)
class TransferFile:
    month: str
    batch: int
    message_id: str
    transfers: int
    total_cents: int
    xml: bytes

    @property
    def file_name(self) -> str:
        return f"payouts_{self.month}.xml" if self.batch == 1 else f"payouts_{self.month}_batch-{self.batch}.xml"


class _Transfer(SepaTransfer):
    """sepaxml's transfer with our message id and creation time (the one clock's, in the
    organisation's zone) instead of a random id and the wall clock."""

    def __init__(self, config: dict, message_id: str, created: datetime):
        self._fixed_header = (message_id, created)
        super().__init__(config, schema=SCHEMA, clean=True)

    def _create_header(self) -> None:
        message_id, created = self._fixed_header
        self.msg_id = message_id
        super()._create_header()
        header = self._xml.find("CstmrCdtTrfInitn/GrpHdr")
        header.find("CreDtTm").text = created.strftime("%Y-%m-%dT%H:%M:%S")


def batches(payouts: list[Payout]) -> dict[int, list[Payout]]:
    """The month's payouts by batch, each with what it transfers (positive amounts only:
    a negative correction was overpaid and is settled otherwise)."""
    by_batch: dict[int, list[Payout]] = defaultdict(list)
    for payout in payouts:
        if payout.paid_cents > 0:
            by_batch[payout.batch].append(payout)
    return dict(by_batch)


def remittance(payout: Payout, org: Organisation) -> str:
    """What the volunteer reads on their statement (at most 140 characters)."""
    year, month = payout.month.split("-")
    visits = sum(1 for line in payout.lines if line.amount_cents > 0)
    what = "Aufwandsentschädigung" if payout.kind == "payout" else "Nachzahlung Aufwandsentschädigung"
    return f"{what} {month}/{year}, {visits} Besuche, {org.name}"[:140]


def transfer_file(session: Session, month: str, batch: int | None = None) -> TransferFile:
    """The transfer file of one batch of the month (default: its latest batch that transfers
    anything)."""
    month = parse_month(month)
    org = organisation.require(session)
    if not org.iban:
        raise InputError(
            "the transfer file needs the association's IBAN (the account paid from): add iban (and bic) to the "
            "organisation file and run `carecal import organisation FILE`"
        )
    by_batch = batches(find_month(session, month))
    if not by_batch:
        raise NotFound(f"the payouts of {month} transfer nothing (all held back, or nothing earned)")
    batch = batch if batch is not None else max(by_batch)
    if batch not in by_batch:
        raise NotFound(f"batch {batch} of {month} transfers nothing: batches with transfers: {sorted(by_batch)}")
    chosen = sorted(by_batch[batch], key=lambda p: p.volunteer.external_id)
    message_id = f"CARECAL-{org.ik}-{month}-{batch}"
    config = {"name": org.name, "IBAN": org.iban, "batch": True, "currency": "EUR"}
    if org.bic:
        config["BIC"] = org.bic
    sepa = _Transfer(config, message_id, to_local(clock.now(), org.timezone))
    for payout in chosen:
        sepa.add_payment(
            {
                "name": payout.payee,
                "IBAN": payout.iban,
                "amount": payout.paid_cents,
                "execution_date": payout.execution_date,
                "description": remittance(payout, org),
                "endtoend_id": f"P{month}-{batch}-{payout.volunteer.external_id}"[:35],
            }
        )
    xml = sepa.export(validate=True)
    return TransferFile(month, batch, message_id, len(chosen), sum(p.paid_cents for p in chosen), xml)
