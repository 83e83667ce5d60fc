"""What the billing papers (proofs of service, invoices, credit notes, collective invoices)
say, in German: the funding sources as a payer reads them, the statements, dates, addresses
and the provider as printed. Pure and light (no PDF library: billing runs write an issued
invoice's words without drawing it); `carecal.billing.paper` draws the pages.

Activities and service categories are named by the organisation's catalogue
(carecal.catalogue).
"""

from dataclasses import dataclass
from datetime import date

from carecal.billing.billed import FUNDING_ORDER, Part
from carecal.billing.money import euros
from carecal.models import Client, Organisation

# The funding source of an invoice line, as the statement names it and as a table cell.
FUNDING_TEXT = {
    "relief": "Entlastungsbetrag nach § 45b SGB XI",
    "conversion": "Umwandlungsanspruch nach § 45a Abs. 4 SGB XI",
    "private": "privat (nicht durch die Pflegeversicherung gedeckt)",
}
FUNDING_SHORT = {"relief": "§ 45b SGB XI", "conversion": "§ 45a Abs. 4 SGB XI", "private": "privat"}
OFFER = (
    "Die aufgeführten Leistungen sind Leistungen eines nach Landesrecht anerkannten Angebots zur "
    "Unterstützung im Alltag nach § 45a SGB XI."
)
VAT_EXEMPT = "Die Leistungen sind nach § 4 Nr. 16 UStG von der Umsatzsteuer befreit."


def funding_text(parts: list[Part], visit_day: date, *, amounts: bool = True) -> str:
    """How a visit (or one invoice line of it) is paid, one source a line, e.g.
    "§ 45b SGB XI 52,50 € (4,50 € Übertrag aus 2026, 48,00 € aus 2027)" and "privat 27,50 €":
    each source with its amount (`amounts`), and relief money from last year named as the
    carry-over it is."""
    lines = []
    for funding in FUNDING_ORDER:
        mine = [part for part in parts if part.funding == funding]
        if not mine:
            continue
        text = FUNDING_SHORT[funding] + (f" {euros(sum(p.amount_cents for p in mine))}" if amounts else "")
        if any(part.carried_over(visit_day) for part in mine):
            text += " (" + ", ".join(_vintage(part, visit_day) for part in mine) + ")"
        lines.append(text)
    return "\n".join(lines)


def _vintage(part: Part, visit_day: date) -> str:
    if part.carried_over(visit_day):
        return f"{euros(part.amount_cents)} Übertrag aus {part.vintage}"
    return f"{euros(part.amount_cents)} aus {part.vintage}"


def day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


@dataclass(frozen=True)
class Provider:
    """The association as its papers print it: an issued invoice keeps this as it was."""

    name: str
    street: str
    postcode: str
    city: str
    ik: str
    phone: str | None = None
    email: str | None = None
    recognition: str | None = None
    tax_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    payment_term_days: int | None = None


def provider_of(org: Organisation) -> Provider:
    return Provider(
        name=org.name,
        street=org.street,
        postcode=org.postcode,
        city=org.city,
        ik=org.ik,
        phone=org.phone,
        email=org.email,
        recognition=org.recognition,
        tax_number=org.tax_number,
        iban=org.iban,
        bic=org.bic,
        bank_name=org.bank_name,
        payment_term_days=org.payment_term_days,
    )


def provider_lines(org: Provider) -> list[str]:
    contact = " · ".join(x for x in (org.phone and f"Tel. {org.phone}", org.email) if x)
    ids = " · ".join(x for x in (f"IK {org.ik}", org.tax_number and f"Steuernummer {org.tax_number}") if x)
    return [x for x in (f"{org.street}, {org.postcode} {org.city}", contact, ids) if x]


def client_address(client: Client, org: Organisation) -> str:
    """Street, postcode and town of the client's home (clients live in the association's town)."""
    town = " ".join(x for x in (client.postcode, org.city) if x)
    return ", ".join(x for x in (client.street, town) if x)
