"""Billing: what happened at each visit, the clients' budgets, invoices and auditor exports.

The pure core (no database, no I/O; tested in tests/billing/):
  money     integer-cent arithmetic: a visit's price, euro formatting and parsing
  rates     dated rates looked up by day (prices, allowances, legal amounts are data)
  ledger    the budget rules: §45b accrual, carry-over, lapse, oldest money first, the
            §45a(4) conversion budget, which budgets may pay (`eligible`), and the
            allocation of a visit to funding sources, also after later months (`Funds`)
  allowance the volunteers' allowance: which visits earn it, what a visit earns, the split
            of a month's allowance against the yearly tax-free limit

The services at the edge (they take a Session and never commit):
  records   visit records and their history; the closed-month guard
  billed    what is billed of each visit: its live lines and the parts they pay
  budgets   a client's ledger from the database; manual corrections
  invoicing billing runs, gapless numbers, month close, credit notes
  reconcile proof that visits, invoices and ledger movements add up
  exports   hours, allowances, audit log (CSV/XLSX); proof  the Leistungsnachweis PDF
  audiences the hours as the care insurer (pseudonymised) and the tax office (anonymous) get them
  payouts   the volunteers' payouts: a month paid once, corrections; payout_check proves them
  sepa      the bank's transfer file (pain.001.001.09); statement  each volunteer's page
  month_report  the treasurer's month on one page (HTML and PDF)
  demo      the billing step of `carecal demo`
"""
