"""An issued invoice as it was printed.

When an invoice, a credit note or a correction invoice is issued, every field its document
prints (the provider and its bank details, the payer with its postal address, the client,
each line's day, time, minutes, activity, amounts and funding, the statement, the due date)
is stored with it as an `IssuedInvoice`: a column of the invoice row, and so part of the
invoice's hash. Its PDF is drawn from that record only, so a reprint years later shows
what was sent, whatever has changed since in the visit records, the activity catalogue,
the client's or the insurer's address or the association's own details (an issued
invoice is a document, GoBD). Invoices issued before carecal kept this record are drawn
from the records as they are now (`printed`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import catalogue, organisation, typed_json
from carecal.billing import billed, wording
from carecal.billing.billed import Part
from carecal.billing.ledger import month_bounds
from carecal.catalogue import Catalogue
from carecal.errors import InputError
from carecal.models import Client, Insurer, Invoice, InvoiceLine, Organisation
from carecal.weeks import to_local

REQUIRED = {"tax_number": "tax number", "iban": "IBAN", "payment_term_days": "payment term"}


@dataclass(frozen=True)
class IssuedLine:
    """One line as printed: a visit, or the part of it one funding source pays."""

    day: date
    time: str
    minutes: int
    activity: str
    category: str
    unit_price_cents: int
    amount_cents: int
    visit_price_cents: int
    funding: str  # the source, and last year's carry-over where some of it is that

    @property
    def part(self) -> bool:
        """Only part of the visit's price is on this invoice (the rest on another)."""
        return abs(self.amount_cents) != self.visit_price_cents


@dataclass(frozen=True)
class IssuedInvoice:
    """Every printed field of an invoice, credit note or correction invoice."""

    number: str
    kind: str  # invoice | credit_note | correction
    issued_on: date
    due_on: date
    month: str
    period: tuple[date, date]
    provider: wording.Provider
    payer: str  # insurer | client
    payer_lines: tuple[str, ...]  # name and postal address
    payer_ik: str | None
    client_name: str
    client_address: str
    insurance_number: str | None  # only when the insurer pays
    assigned_on: date | None  # the assignment of benefits, when the insurer pays
    funding: str
    statement: str
    lines: tuple[IssuedLine, ...]  # in the order of the invoice's lines
    total_cents: int
    refers_to: tuple[str, date] | None = None  # what a credit note corrects, or a correction adds to
    reason: str | None = None  # why a credit note was issued

    @property
    def credit_note(self) -> bool:
        return self.kind == "credit_note"

    @property
    def title(self) -> str:
        return {
            "credit_note": f"Rechnungskorrektur (Gutschrift) {self.number}",
            "correction": f"Korrekturrechnung {self.number}",
        }.get(self.kind, f"Rechnung {self.number}")

    @property
    def file_name(self) -> str:
        kind = {"credit_note": "rechnungskorrektur", "correction": "korrekturrechnung"}.get(self.kind, "rechnung")
        return f"{kind}_{self.number}.pdf"

    @property
    def sorted_lines(self) -> list[IssuedLine]:
        return sorted(self.lines, key=lambda line: (line.day, line.time))


@dataclass(frozen=True)
class Letterhead:
    """What every invoice of a run prints alike, read once: the association, its
    catalogue, and the insurers' postal addresses by IK."""

    org: Organisation
    provider: wording.Provider
    activities: Catalogue
    insurers: dict[str, Insurer]

    @classmethod
    def of(cls, session: Session) -> "Letterhead":
        org = organisation.require(session)
        require_invoice_details(org)
        insurers = {i.ik: i for i in session.scalars(select(Insurer))}
        return cls(org, wording.provider_of(org), catalogue.load(session), insurers)


def require_invoice_details(org: Organisation) -> None:
    missing = [label for name, label in REQUIRED.items() if getattr(org, name) in (None, "")]
    if missing:
        raise InputError(
            f"an invoice needs the association's {', '.join(missing)}: add them to the organisation file "
            "(data/README.md: organisation.json) and run `carecal import organisation FILE`"
        )


def insurer_of(client: Client, head: Letterhead) -> Insurer:
    """The client's care insurer with its postal address, or a clear error saying what to add."""
    insurer = head.insurers.get(client.insurer_ik or "")
    if insurer is None:
        raise InputError(
            f"client {client.external_id}: the care insurer {client.insurer_name or '?'} "
            f"(IK {client.insurer_ik or 'missing'}) has no postal address on file: add it to `insurers` in "
            "the organisation file (data/README.md: organisation.json) and run `carecal import organisation FILE`"
        )
    return insurer


def freeze(invoice: Invoice, lines: Sequence[tuple[InvoiceLine, list[Part]]], head: Letterhead) -> None:
    """Store what `invoice` prints, as of now; call it before the invoice is inserted (the
    record is part of its hash). `lines` are its lines in order, each with its parts. A
    credit note's lines print as the lines they reverse were printed."""
    reversed_lines = _printed_lines(invoice.corrects, head) if invoice.corrects is not None else {}
    printed = []
    for line, parts in lines:
        original = reversed_lines.get(line.corrects_line_id) if line.corrects_line_id else None
        printed.append(_line(line, parts, head, original))
    invoice.document = typed_json.encode(_document(invoice, printed, head, insurer_pays_to(invoice, head)))


def insurer_pays_to(invoice: Invoice, head: Letterhead) -> Insurer | None:
    return insurer_of(invoice.client, head) if invoice.payer == "insurer" else None


def printed(session: Session, invoice: Invoice, head: Letterhead | None = None) -> IssuedInvoice:
    """What the invoice prints: its stored record, or for an invoice issued before carecal
    kept one, what the records say now."""
    if invoice.document is not None:
        return typed_json.decode(IssuedInvoice, invoice.document)
    head = head or Letterhead.of(session)
    parts = billed.line_parts(session, list(invoice.lines))
    lines = [_line(line, parts[line.id], head, None) for line in invoice.lines]
    insurer = head.insurers.get(invoice.client.insurer_ik or "") if invoice.payer == "insurer" else None
    return _document(invoice, lines, head, insurer)


def _printed_lines(invoice: Invoice, head: Letterhead) -> dict[int, IssuedLine]:
    """Line id -> how it was printed on `invoice`."""
    if invoice.document is None:
        return {}
    document = typed_json.decode(IssuedInvoice, invoice.document)
    return {line.id: shown for line, shown in zip(invoice.lines, document.lines, strict=True)}


def _line(line: InvoiceLine, parts: list[Part], head: Letterhead, original: IssuedLine | None) -> IssuedLine:
    if original is not None:
        time_text, activity = original.time, original.activity
    else:
        record, tz = line.record, head.org.timezone
        start, end = to_local(record.started_at, tz), to_local(record.ended_at, tz)
        time_text, activity = f"{start:%H:%M}–{end:%H:%M}", head.activities.label(record.activity_key)
    return IssuedLine(
        day=line.day,
        time=time_text,
        minutes=line.minutes,
        activity=activity,
        category=head.activities.category_label(line.category),
        unit_price_cents=line.unit_price_cents,
        amount_cents=line.amount_cents,
        visit_price_cents=line.visit_price_cents,
        funding=wording.funding_text(parts, line.day, amounts=False),
    )


def _document(invoice: Invoice, lines: list[IssuedLine], head: Letterhead, insurer: Insurer | None) -> IssuedInvoice:
    client, org = invoice.client, head.org
    insurer_pays = invoice.payer == "insurer"
    refers_to = invoice.corrects or invoice.supplements
    return IssuedInvoice(
        number=invoice.number,
        kind="credit_note" if invoice.kind == "credit_note" else "correction" if invoice.supplements else "invoice",
        issued_on=invoice.issued_on,
        due_on=invoice.issued_on + timedelta(days=org.payment_term_days or 0),
        month=invoice.month,
        period=month_bounds(invoice.month),
        provider=head.provider,
        payer=invoice.payer,
        payer_lines=_payer_lines(invoice, client, org, insurer),
        payer_ik=invoice.payer_ik,
        client_name=client.name,
        client_address=wording.client_address(client, org),
        insurance_number=client.insurance_number if insurer_pays else None,
        assigned_on=client.benefits_assigned_on if insurer_pays else None,
        funding=invoice.funding,
        statement=invoice.statement,
        lines=tuple(lines),
        total_cents=invoice.total_cents,
        refers_to=(refers_to.number, refers_to.issued_on) if refers_to else None,
        reason=invoice.reason,
    )


def _payer_lines(invoice: Invoice, client: Client, org: Organisation, insurer: Insurer | None) -> tuple[str, ...]:
    if invoice.payer == "insurer":
        lines = [invoice.payer_name, "Pflegekasse" + (f", IK {invoice.payer_ik}" if invoice.payer_ik else "")]
        if insurer is not None:
            lines += [insurer.street, f"{insurer.postcode} {insurer.city}"]
        return tuple(lines)
    lines = [invoice.payer_name, *wording.client_address(client, org).split(", ")]
    if client.representative_name:
        lines.insert(1, f"vertreten durch {client.representative_name}")
    return tuple(lines)
