"""A volunteer's allowance statement: one A4 page per volunteer and month, in their language
(the one their calendar is in: `carecal.catalogue.feed_language`), saying which visits were
paid, hours, rate and amount, what was transferred to which (masked) account, what of it
is tax-free, and how far the year has used the tax-free limit.

Texts are gettext messages of the `statements` domain (carecal/locale/*/LC_MESSAGES/
statements.po); dates, months and amounts are written the way the language writes them
(Babel). Clients appear as on the volunteer's calendar, by first name and initial.
`statement_view` gathers plain data (tested on its own), `render` draws it.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from sqlalchemy.orm import Session

from carecal import catalogue, lookup, organisation, private_files
from carecal.billing.allowance import LIMITS
from carecal.billing.ledger import month_bounds, parse_month
from carecal.billing.payouts import find_month, live_lines, month_payouts, split_of, tax_free_of_year
from carecal.errors import NotFound
from carecal.feeds.i18n import gettext_for
from carecal.models import Organisation, Payout, Volunteer
from carecal.pdf import FONT, document
from carecal.privacy import mask_iban
from carecal.weeks import to_local

DOMAIN = "statements"


@dataclass(frozen=True)
class VisitLine:
    day: date
    time: str
    client: str  # first name and initial
    activity: str
    minutes: int
    rate_cents: int
    amount_cents: int


@dataclass(frozen=True)
class Payment:
    """One payout of the month as the volunteer sees it."""

    execution_date: date
    correction: bool
    paid_cents: int  # transferred (negative: overpaid, to be settled)
    account: str  # masked


@dataclass
class StatementView:
    language: str
    month: str
    volunteer_id: str
    volunteer: str
    address: list[str]
    visits: list[VisitLine]
    payments: list[Payment]
    tax_free_cents: int
    taxable_cents: int
    held_cents: int
    year_tax_free_cents: int  # the year's tax-free allowance paid so far, this month included
    limit_cents: int
    limit_law: str
    provider: list[str] = field(default_factory=list)

    @property
    def earned_cents(self) -> int:
        return sum(v.amount_cents for v in self.visits)

    @property
    def minutes(self) -> int:
        return sum(v.minutes for v in self.visits)

    @property
    def year(self) -> int:
        return int(self.month[:4])

    @property
    def file_name(self) -> str:
        return f"statement_{self.month}_{self.volunteer_id}.pdf"


def statement_view(session: Session, volunteer: Volunteer, month: str) -> StatementView:
    org = organisation.require(session)
    activities = catalogue.load(session)
    language = catalogue.feed_language(volunteer.ui_language, volunteer.languages, activities.languages)
    payouts = month_payouts(session, month, volunteer.id)
    visits = []
    for line in sorted(live_lines(payouts), key=lambda line: line.record.started_at):
        record = line.record
        start, end = to_local(record.started_at, org.timezone), to_local(record.ended_at, org.timezone)
        visits.append(
            VisitLine(
                line.day,
                f"{start:%H:%M}–{end:%H:%M}",
                record.visit.client.short_label,
                activities.label(record.activity_key, language),
                line.minutes,
                line.rate_cents,
                line.amount_cents,
            )
        )
    split = split_of(payouts)
    year = int(month[:4])
    last: Payout = payouts[-1]
    return StatementView(
        language=language,
        month=month,
        volunteer_id=volunteer.external_id,
        volunteer=volunteer.name,
        address=[x for x in (volunteer.street, " ".join(y for y in (volunteer.postcode, org.city) if y)) if x],
        visits=visits,
        payments=[
            Payment(p.execution_date, p.kind == "correction", p.paid_cents, mask_iban(p.iban) if p.iban else "")
            for p in payouts
            if p.paid_cents
        ],
        tax_free_cents=split.tax_free_cents,
        taxable_cents=split.taxable_cents,
        held_cents=split.held_cents,
        year_tax_free_cents=tax_free_of_year(session, volunteer.id, year, except_month=month) + split.tax_free_cents,
        limit_cents=last.limit_cents,
        limit_law=LIMITS[last.limit_key],
        provider=[org.name, f"{org.street}, {org.postcode} {org.city}", *_contact(org)],
    )


def _contact(org: Organisation) -> list[str]:
    contact = " · ".join(x for x in (org.phone, org.email) if x)
    return [contact] if contact else []


# --- drawing ---------------------------------------------------------------------------------


class _Words:
    """The statement's texts, dates and amounts in one language."""

    def __init__(self, language: str):
        self.language = language
        self.gettext = gettext_for(language, DOMAIN)

    def money(self, cents: int) -> str:
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.language)

    def hours(self, minutes: int) -> str:
        return format_decimal(Decimal(minutes) / 60, format="0.00", locale=self.language)

    def day(self, value: date) -> str:
        return format_date(value, "short", locale=self.language)

    def month(self, key: str) -> str:
        return format_date(month_bounds(key)[0], "LLLL yyyy", locale=self.language)


def render(view: StatementView) -> bytes:
    w = _Words(view.language)
    _ = w.gettext
    pdf = document()
    pdf.set_margins(18, 15, 18)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 5, view.provider[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    for line in view.provider[1:]:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=10)
    for line in [view.volunteer, *view.address]:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, _("Expense allowance for {month}").format(month=w.month(view.month)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _visits(pdf, view, w)
    pdf.ln(3)
    rows = [
        (_("Visits"), str(len(view.visits))),
        (_("Hours"), w.hours(view.minutes)),
        (_("Allowance earned"), w.money(view.earned_cents)),
        (_("of it tax-free"), w.money(view.tax_free_cents)),
    ]
    if view.taxable_cents:
        rows.append((_("of it taxable (above the tax-free limit)"), w.money(view.taxable_cents)))
    if view.held_cents:
        rows.append((_("of it held back (above the tax-free limit)"), w.money(view.held_cents)))
    _pairs(pdf, rows)
    pdf.ln(2)
    for payment in view.payments:
        if payment.paid_cents > 0:
            text = _("Transferred on {date} to {account}: {amount}").format(
                date=w.day(payment.execution_date), account=payment.account, amount=w.money(payment.paid_cents)
            )
        else:
            text = _("Overpaid, to be settled with the treasurer: {amount}").format(amount=w.money(-payment.paid_cents))
        pdf.set_font(FONT, size=9)
        if payment.correction:
            text += " ({})".format(_("correction"))
        pdf.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, _("The year {year}").format(year=view.year), new_x="LMARGIN", new_y="NEXT")
    _pairs(
        pdf,
        [
            (_("Tax-free allowance paid in {year} so far").format(year=view.year), w.money(view.year_tax_free_cents)),
            (_("Tax-free limit {year} ({law})").format(year=view.year, law=view.limit_law), w.money(view.limit_cents)),
            (
                _("Still tax-free in {year}").format(year=view.year),
                w.money(max(0, view.limit_cents - view.year_tax_free_cents)),
            ),
        ],
    )
    pdf.ln(3)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(
        0,
        4,
        _(
            "The allowance is tax-free up to the yearly limit above. The limit counts every such allowance "
            "you receive, from anyone: please tell us if you receive one elsewhere too."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


_COLUMNS = [  # (width mm, align) on A4 portrait, 174 mm between the margins
    (20, "LEFT"),
    (22, "LEFT"),
    (26, "LEFT"),
    (50, "LEFT"),
    (17, "RIGHT"),
    (18, "RIGHT"),
    (21, "RIGHT"),
]


def _visits(pdf, view: StatementView, w: _Words) -> None:
    _ = w.gettext
    titles = [_("Date"), _("Time"), _("Client"), _("Activity"), _("Minutes"), _("Per hour"), _("Amount")]
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=[width for width, _a in _COLUMNS],
        width=sum(width for width, _a in _COLUMNS),
        line_height=4.2,
        text_align=[align for _w, align in _COLUMNS],
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for title in titles:
            heading.cell(title)
        for visit in view.visits:
            row = table.row()
            for value in (
                w.day(visit.day),
                visit.time,
                visit.client,
                visit.activity,
                str(visit.minutes),
                w.money(visit.rate_cents),
                w.money(visit.amount_cents),
            ):
                row.cell(value)


def _pairs(pdf, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(FONT, size=9)
        pdf.cell(120, 5, label)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 5, value, align="R", new_x="LMARGIN", new_y="NEXT")


def write_statements(session: Session, month: str, out: Path, volunteer_ref: str | None = None) -> list[Path]:
    """One PDF per volunteer paid for the month (or only `volunteer_ref`)."""
    month = parse_month(month)
    payouts = find_month(session, month)
    if volunteer_ref:
        volunteers = [lookup.volunteer(session, volunteer_ref)]
        if volunteers[0].id not in {p.volunteer_id for p in payouts}:
            raise NotFound(f"volunteer {volunteer_ref} was not paid for {month}")
    else:
        volunteers = sorted({p.volunteer for p in payouts}, key=lambda v: v.external_id)
    written = []
    for volunteer in volunteers:
        view = statement_view(session, volunteer, month)
        written.append(private_files.write_bytes(out / view.file_name, render(view)))
    return written
