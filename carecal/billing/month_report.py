"""The treasurer's month on one page: invoices by payer and funding, the volunteers'
payouts, what is still open, and whether the books reconcile. Written as a self-contained
HTML page (inline CSS, no scripts, no network) and as a one-page A4 PDF.

Open amounts are what carecal knows to be outstanding: delivered visits not billed yet,
invoices not yet due or overdue (carecal does not record incoming payments, so every
invoice counts as open: the bank statement settles it), allowances earned but not paid,
held back above a tax-free limit, or overpaid and to be settled.
`month_view` gathers plain data (tested on its own); `render_html` and `render_pdf` draw it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import clock, organisation, private_files
from carecal.billing import billed, budgets, exports, payouts
from carecal.billing.ledger import parse_month
from carecal.billing.money import euros, visit_price
from carecal.billing.reconcile import reconcile
from carecal.models import Invoice, PayoutMonth
from carecal.pdf import FONT, document
from carecal.weeks import to_local

CLIENTS = "clients"  # the payer of the invoices no insurer pays


@dataclass(frozen=True)
class InvoiceGroup:
    payer: str  # the insurer's name, or "clients" for the invoices clients pay
    funding: str  # §45b, §45a(4), privat
    invoices: int
    credit_notes: int
    total_cents: int


@dataclass(frozen=True)
class Payouts:
    made: bool
    volunteers: int = 0
    batches: int = 0
    earned_cents: int = 0
    tax_free_cents: int = 0
    taxable_cents: int = 0
    held_cents: int = 0
    transferred_cents: int = 0
    overpaid_cents: int = 0
    over_limit: tuple[str, ...] = ()  # volunteers above their tax-free limit this month
    execution_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class Open:
    what: str
    count: int
    cents: int
    note: str = ""


@dataclass
class MonthView:
    organisation: str
    month: str
    made_at: datetime
    invoices: list[InvoiceGroup] = field(default_factory=list)
    payouts: Payouts = field(default_factory=lambda: Payouts(made=False))
    open: list[Open] = field(default_factory=list)
    checks_ok: bool = True
    problems: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def invoiced_cents(self) -> int:
        return sum(group.total_cents for group in self.invoices)

    @property
    def file_stem(self) -> str:
        return f"month_{self.month}"


def month_view(session: Session, month: str) -> MonthView:
    month = parse_month(month)
    org = organisation.require(session)
    report = reconcile(session, month)
    view = MonthView(
        organisation=org.name,
        month=month,
        made_at=to_local(clock.now(), org.timezone),
        invoices=_invoice_groups(session, month),
        payouts=_payouts(session, month),
        checks_ok=report.ok,
        problems=report.problems,
        figures=report.figures,
    )
    view.open = _open_amounts(session, month, view.payouts, org.payment_term_days or 0, org.timezone)
    return view


def _invoice_groups(session: Session, month: str) -> list[InvoiceGroup]:
    groups: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
    for invoice in session.scalars(select(Invoice).where(Invoice.month == month).order_by(Invoice.id)):
        payer = invoice.payer_name if invoice.payer == "insurer" else CLIENTS
        groups[(payer, exports.FUNDING_LABELS[invoice.funding])].append(invoice)
    return [
        InvoiceGroup(
            payer,
            funding,
            sum(1 for i in group if i.kind == "invoice"),
            sum(1 for i in group if i.kind == "credit_note"),
            sum(i.total_cents for i in group),
        )
        for (payer, funding), group in sorted(groups.items(), key=lambda item: (item[0][0] == CLIENTS, item[0]))
    ]


def _payouts(session: Session, month: str) -> Payouts:
    payout_month = session.get(PayoutMonth, month)
    found = payouts.month_payouts(session, month)
    if payout_month is None or not payout_month.made:
        return Payouts(made=False)
    return Payouts(
        made=True,
        volunteers=len({p.volunteer_id for p in found}),
        batches=payout_month.batches,
        earned_cents=sum(p.earned_cents for p in found),
        tax_free_cents=sum(p.tax_free_cents for p in found),
        taxable_cents=sum(p.taxable_cents for p in found),
        held_cents=sum(p.held_cents for p in found),
        transferred_cents=sum(p.paid_cents for p in found if p.paid_cents > 0),
        overpaid_cents=-sum(p.paid_cents for p in found if p.paid_cents < 0),
        over_limit=tuple(sorted({p.volunteer.external_id for p in found if p.taxable_cents or p.held_cents})),
        execution_dates=tuple(sorted({p.execution_date for p in found})),
    )


def _open_amounts(session: Session, month: str, paid: Payouts, term_days: int, tz: str) -> list[Open]:
    book = budgets.rate_book(session, organisation.require(session))
    unbilled = billed.unbilled(session, month)
    prices = [
        visit_price(r.minutes, book.find("price_per_hour", r.day, r.visit.care_request.category) or 0) for r in unbilled
    ]
    today = clock.today(tz)
    invoices = session.scalars(select(Invoice).where(Invoice.month == month)).all()
    overdue = [i for i in invoices if i.issued_on + timedelta(days=term_days) < today]
    due = [i for i in invoices if i not in overdue]
    earned = payouts.month_allowances(session, month, book)
    earned_cents = sum(e.amount_cents for items in earned.by_volunteer.values() for e in items)
    standing = sum(line.amount_cents for line in payouts.live_lines(payouts.month_payouts(session, month)))
    rows = [
        Open("delivered visits not billed", len(unbilled), sum(prices), "carecal billing run"),
        Open("invoices and credit notes not yet due", len(due), _total(due), "until settled"),
        Open("invoices and credit notes past their due date", len(overdue), _total(overdue), "unless settled"),
        Open(
            "allowances earned, not paid (negative: paid, no longer earned)",
            0,
            earned_cents - standing if paid.made else earned_cents,
            "carecal payout correct" if paid.made else "carecal payout run",
        ),
        Open("allowances held back above a tax-free limit", len(paid.over_limit), paid.held_cents, "payout_over_limit"),
        Open("allowances overpaid, to be settled", 0, paid.overpaid_cents, "with the volunteers"),
    ]
    return [row for row in rows if row.cents or row.count]


def _total(invoices: list[Invoice]) -> int:
    return sum(i.total_cents for i in invoices)


# --- drawing ---------------------------------------------------------------------------------


def render_html(view: MonthView) -> str:
    env = Environment(
        loader=PackageLoader("carecal", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["euros"] = euros
    return env.get_template("month_report.html").render(view=view)


def render_pdf(view: MonthView) -> bytes:
    pdf = document()
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 7, f"{view.organisation} · the month {view.month}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 4, f"made {view.made_at:%d.%m.%Y %H:%M}", new_x="LMARGIN", new_y="NEXT")
    verdict = (
        "reconciled: visits, invoices, ledger and payouts add up"
        if view.checks_ok
        else (f"{len(view.problems)} PROBLEM(S): see `carecal billing reconcile --month {view.month}`")
    )
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*((30, 110, 60) if view.checks_ok else (180, 40, 20)))
    pdf.cell(0, 7, f"Checks: {verdict}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    for problem in view.problems[:6]:
        pdf.set_font(FONT, size=7.5)
        pdf.multi_cell(0, 3.6, f"- {problem}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, f"Invoices by payer and funding: {euros(view.invoiced_cents)}")
    _table(
        pdf,
        [
            ("payer", 80, "LEFT"),
            ("funding", 25, "LEFT"),
            ("invoices", 22, "RIGHT"),
            ("credit notes", 25, "RIGHT"),
            ("total", 28, "RIGHT"),
        ],
        [[g.payer, g.funding, str(g.invoices), str(g.credit_notes), euros(g.total_cents)] for g in view.invoices],
    )
    p = view.payouts
    _heading(pdf, "Volunteers' allowances")
    if not p.made:
        _line(pdf, f"not paid yet: `carecal payout run --month {view.month}`")
    else:
        _table(
            pdf,
            [
                ("volunteers", 22, "RIGHT"),
                ("earned", 28, "RIGHT"),
                ("tax-free", 28, "RIGHT"),
                ("taxable", 26, "RIGHT"),
                ("held back", 26, "RIGHT"),
                ("transferred", 28, "RIGHT"),
                ("batches", 22, "RIGHT"),
            ],
            [
                [
                    str(p.volunteers),
                    euros(p.earned_cents),
                    euros(p.tax_free_cents),
                    euros(p.taxable_cents),
                    euros(p.held_cents),
                    euros(p.transferred_cents),
                    str(p.batches),
                ]
            ],
        )
        dates = ", ".join(f"{d:%d.%m.%Y}" for d in p.execution_dates)
        above = f"; above the tax-free limit: {', '.join(p.over_limit)}" if p.over_limit else ""
        _line(pdf, f"transferred on {dates}{above}")
    _heading(pdf, "Open")
    if view.open:
        _table(
            pdf,
            [("what", 80, "LEFT"), ("count", 16, "RIGHT"), ("amount", 28, "RIGHT"), ("next", 56, "LEFT")],
            [[o.what, str(o.count) if o.count else "", euros(o.cents), o.note] for o in view.open],
        )
    else:
        _line(pdf, "nothing")
    return bytes(pdf.output())


def _heading(pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def _line(pdf, text: str) -> None:
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf, columns: list[tuple[str, float, str]], rows: list[list[str]]) -> None:
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=[width for _, width, _ in columns],
        width=sum(width for _, width, _ in columns),
        line_height=4.2,
        text_align=[align for _, _, align in columns],
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for title, _, _ in columns:
            heading.cell(title)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)


def write_month_report(session: Session, month: str, out: Path) -> tuple[Path, Path]:
    view = month_view(session, month)
    html = private_files.write_text(out / f"{view.file_stem}.html", render_html(view))
    pdf = private_files.write_bytes(out / f"{view.file_stem}.pdf", render_pdf(view))
    return html, pdf
