"""The billing part of `carecal demo`: record what happened in a week, bill the complete
months, pay the volunteers' allowances of the last one, write the auditors' exports."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import make_url

from carecal import db, organisation, private_files, pseudonyms, tables
from carecal.billing import audiences, exports, invoicing, payouts, records, sepa
from carecal.billing.money import euros
from carecal.billing.reconcile import reconcile
from carecal.models import RosterWeek
from carecal.weeks import IsoWeek, to_local

if TYPE_CHECKING:
    from carecal.demo import DemoContext


def demo_key_file(ctx: DemoContext) -> Path:
    """The demo's pseudonym key: made once, kept beside its database (0600), never in the code."""
    database = make_url(ctx.url).database if ctx.url.startswith("sqlite") else None
    path = Path(f"{database}.pseudonym-key") if database else ctx.out / "pseudonym-key"
    if not path.exists():
        private_files.write_text(path, pseudonyms.new_key() + "\n")
    return path


def record_week(ctx: DemoContext, week: IsoWeek) -> None:
    """What happened in a week that is over, deterministically: a few cancellations and a
    no-show, some proofs without signature (with the reason), one visit that ended early;
    the rest confirmed as planned. Recorded at the clock's moment (the Monday after)."""
    with db.session_scope(ctx.url, write=True) as s:
        roster_week = s.scalars(select(RosterWeek).where(RosterWeek.week == str(week))).one_or_none()
        version = roster_week.published if roster_week else None
        if version is None:
            ctx.console.print(f"  [yellow]skipped[/]: week {week} has no published roster")
            return
        tz = organisation.timezone(s)
        visits = [v for v in version.visits if v.status == "planned"]
        counts = {"cancelled": 0, "no-show": 0, "unsigned": 0, "changed": 0}
        for n, visit in enumerate(visits):
            if n % 12 == 4:
                records.record_visit(
                    s, visit.id, ctx.actor, status="cancelled-by-client", reason="Klientin hatte einen Arzttermin"
                )
                counts["cancelled"] += 1
            elif n % 17 == 8:
                records.record_visit(
                    s,
                    visit.id,
                    ctx.actor,
                    status="cancelled-by-volunteer",
                    reason="Ehrenamtliche erkrankt, zu kurzfristig für Ersatz",
                )
                counts["cancelled"] += 1
            elif n % 23 == 11:
                records.record_visit(s, visit.id, ctx.actor, status="no-show", reason="niemand öffnete die Tür")
                counts["no-show"] += 1
            elif n % 6 == 1:
                why = (
                    "Vertretung beim Besuch nicht anwesend, Unterschrift folgt nicht"
                    if visit.client.representative_name
                    else "Nachweis beim Besuch vergessen, Besuch telefonisch bestätigt"
                )
                records.record_visit(s, visit.id, ctx.actor, status="delivered", signature="none", signature_reason=why)
                counts["unsigned"] += 1
            elif n % 10 == 3:
                start = to_local(visit.starts_at, tz)
                records.record_visit(s, visit.id, ctx.actor, status="delivered")
                records.record_visit(
                    s,
                    visit.id,
                    "coordinator",
                    status="delivered",
                    end=(start + (visit.ends_at - visit.starts_at) - timedelta(minutes=30)).time(),
                    reason="laut Notiz der Ehrenamtlichen 30 Minuten früher beendet",
                )
                counts["changed"] += 1
        confirmed = records.confirm_week(s, week, ctx.actor)
    ctx.console.print(
        f"  {week}  {len(visits)} visits recorded: {len(confirmed.confirmed)} confirmed as delivered, "
        f"{counts['cancelled']} cancelled, {counts['no-show']} no-show, {counts['unsigned']} delivered "
        f"without signature (reason recorded), {counts['changed']} corrected with a reason",
        highlight=False,
    )


def confirm_what_has_happened(ctx: DemoContext, week: IsoWeek) -> None:
    """This week's visits that have already ended went as planned."""
    with db.session_scope(ctx.url, write=True) as s:
        result = records.confirm_week(s, week, ctx.actor)
    ctx.console.print(
        f"  {week}  {len(result.confirmed)} visits so far confirmed as delivered, {result.not_ended} still to come",
        highlight=False,
    )


def pay_the_volunteers(ctx: DemoContext, month: str) -> None:
    """Pay the month's allowances, write the bank's transfer file and, with the documents,
    each volunteer's statement and the treasurer's month report."""
    with db.session_scope(ctx.url, write=True) as s:
        result = payouts.run(s, month, ctx.actor)
        paid, held, batch = result.paid_cents, result.held_cents, result.batch
        volunteers, over = len(result.payouts), len(result.over_limit)
    with db.session_scope(ctx.url) as s:
        made = sepa.transfer_file(s, month, batch)
    transfer = private_files.write_bytes(ctx.out / made.file_name, made.xml)
    ctx.console.print(
        f"  payouts       {month}: {volunteers} volunteers, {euros(paid)} to transfer ({over} at their tax-free limit, "
        f"{euros(held)} held back); SEPA file {transfer} ({made.transfers} transfers, pain.001.001.09)",
        soft_wrap=True,
    )
    if not ctx.documents:
        return
    from carecal.billing import month_report, statement  # the PDF library loads here

    with db.session_scope(ctx.url) as s:
        statements = statement.write_statements(s, month, ctx.out / "statements")
        html, pdf = month_report.write_month_report(s, month, ctx.out)
    ctx.console.print(
        f"  statements    {len(statements)} allowance statements (each in the volunteer's language) in "
        f"{ctx.out / 'statements'}/",
        soft_wrap=True,
    )
    ctx.console.print(f"  month report  {html} and {pdf}", soft_wrap=True)


def step(ctx: DemoContext) -> None:
    """Bill the complete months, reconcile them, pay the last one's allowances and write the auditor exports."""
    for month in ctx.weeks.billed:
        with db.session_scope(ctx.url, write=True) as s:
            result = invoicing.run_month(s, month, ctx.actor)
            by_funding: dict[str, int] = {}
            for invoice in result.invoices:
                by_funding[invoice.funding] = by_funding.get(invoice.funding, 0) + invoice.total_cents
            numbers = [i.number for i in result.invoices]
        span = f"{numbers[0]} … {numbers[-1]}" if numbers else "none"
        ctx.console.print(
            f"  billing       {month}: {len(numbers)} invoices ({span}), {euros(sum(by_funding.values()))}: "
            + ", ".join(f"{exports.FUNDING_LABELS[k]} {euros(v)}" for k, v in sorted(by_funding.items()))
        )
        with db.session_scope(ctx.url) as s:
            report = reconcile(s, month)
        verdict = "reconciled" if report.ok else f"{len(report.problems)} PROBLEM(S): {report.problems[:3]}"
        ctx.console.print(f"  reconcile     {month}: {verdict}")

    month = ctx.weeks.month
    key_file = demo_key_file(ctx)
    with db.session_scope(ctx.url) as s:
        rows = exports.hours_rows(s, month)
        hours = ctx.out / f"hours_{month}.csv"
        tables.write_table(hours, exports.HOURS_COLUMNS, rows, "csv")
        # the insurer with the most delivered visits, as it would get its audit file
        insurer = Counter(row[3] for row in rows if row[1] == "delivered" and row[3]).most_common(1)[0][0]
        insured = audiences.insurer_rows(s, month, pseudonyms.read_key_file(key_file), insurer)
        pseudo = ctx.out / f"hours_{month}_insurer-{audiences.slug(insurer)}.xlsx"
        tables.write_table(pseudo, audiences.INSURER_COLUMNS, insured, "xlsx")
        tax = ctx.out / f"hours_{month}_tax-office.csv"
        tables.write_table(tax, audiences.TAX_OFFICE_COLUMNS, audiences.tax_office_rows(s, month), "csv")
    ctx.console.print(
        f"  exports       {hours} ({len(rows)} visits, for the treasurer), {pseudo} (pseudonymised, for "
        f"{insurer}; key in {key_file}), {tax} (totals, for the tax office)",
        soft_wrap=True,
    )
    if ctx.documents:
        # the PDF library loads here, not with every command (see tests/app/test_startup.py)
        from carecal.billing import documents, proof

        with db.session_scope(ctx.url) as s:
            proofs = proof.write_proofs(s, month, ctx.out / "proofs")
            invoices = documents.write_invoices(s, ctx.out / "invoices", month=month)
            collective = documents.write_invoices(s, ctx.out / "invoices", month=month, collective=True)
        ctx.console.print(
            f"  proofs        {len(proofs)} Leistungsnachweis PDFs in {ctx.out / 'proofs'}/", soft_wrap=True
        )
        ctx.console.print(
            f"  invoices      {len(invoices)} invoice PDFs and {len(collective)} collective invoices "
            f"(one per care insurer) in {ctx.out / 'invoices'}/",
            soft_wrap=True,
        )
    else:
        ctx.console.print(f"  documents     left out (`carecal export proof|invoice --month {month}` writes them)")

    pay_the_volunteers(ctx, month)

    year = int(month[:4])
    with db.session_scope(ctx.url) as s:
        items = exports.allowances(s, year)
        allowances, audit_log = ctx.out / f"allowances_{year}.csv", ctx.out / "audit-log.csv"
        tables.write_table(allowances, exports.ALLOWANCE_COLUMNS, exports.allowance_rows(items), "csv")
        tables.write_table(audit_log, exports.AUDIT_COLUMNS, exports.audit_rows(s), "csv")
    ctx.console.print(
        f"  allowances    {allowances} ({len(items)} volunteers, "
        f"{sum(1 for i in items if i.warning)} near or over the tax-free limit)",
        soft_wrap=True,
    )
    ctx.console.print(f"  audit log     {audit_log}", soft_wrap=True)
    ctx.notes.append(f"billing: `carecal billing reconcile --month {month}` proves the books add up")
