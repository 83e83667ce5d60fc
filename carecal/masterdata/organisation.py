"""The association and its dated rates, from a JSON file like data/organisation.json.

Loading is an upsert: there is one organisation per database; rates are keyed by
(kind, key, valid_from), so loading the same file twice changes nothing.
"""

import json
import re
from datetime import date
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit
from carecal.errors import InputError
from carecal.models import Organisation, Rate
from carecal.weeks import DEFAULT_TZ

RATE_KINDS = (
    "price_per_hour",
    "allowance_per_hour",
    "relief_amount_month",
    "conversion_max_month",
    "tax_free_limit_year",
)
REQUIRED = ("name", "ik", "street", "postcode", "city")
OPTIONAL = ("timezone", "phone", "email", "recognition", "tax_number", "iban", "bic", "bank_name")
NUMBERS = {"payment_term_days": (0, 120)}
INVOICE_FIELDS = ("tax_number", "iban", "bic", "bank_name", "payment_term_days")  # what an invoice needs


def parse_organisation(doc: dict, file: str) -> tuple[dict, list[dict]]:
    """Check the document; returns the organisation's fields and its rates."""
    problems = []
    if not isinstance(doc, dict):
        raise InputError(f"{file}: expected a JSON object")
    fields = {}
    for name in REQUIRED + OPTIONAL:
        value = doc.get(name)
        if value is None:
            if name in REQUIRED:
                problems.append(f"{file}: {name} is missing")
            continue
        if not isinstance(value, str):
            problems.append(f"{file}: {name} must be text")
            continue
        fields[name] = value
    for name, (low, high) in NUMBERS.items():
        value = doc.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(f"{file}: {name} must be a whole number from {low} to {high}")
            continue
        fields[name] = value
    if "ik" in fields and not (len(fields["ik"]) == 9 and fields["ik"].isdigit()):
        problems.append(f"{file}: ik {fields['ik']!r} is not 9 digits")
    if "iban" in fields:
        fields["iban"] = fields["iban"].replace(" ", "").upper()
        if not iban_valid(fields["iban"]):
            problems.append(f"{file}: iban {fields['iban']!r} is not a valid IBAN (check digits)")
    if "bic" in fields and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", fields["bic"]):
        problems.append(f"{file}: bic {fields['bic']!r} is not a BIC of 8 or 11 letters and digits")
    if "tax_number" in fields and not re.fullmatch(r"[0-9][0-9 /]{8,18}[0-9]", fields["tax_number"]):
        problems.append(f"{file}: tax_number {fields['tax_number']!r} is not a Steuernummer like 215/140/12345")
    try:
        ZoneInfo(fields.get("timezone", DEFAULT_TZ))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{file}: timezone {fields.get('timezone')!r} is not a time zone like Europe/Berlin")
    unknown = set(doc) - set(REQUIRED) - set(OPTIONAL) - set(NUMBERS) - {"rates"}
    if unknown:
        problems.append(f"{file}: unknown field(s) {', '.join(sorted(unknown))}")

    rates = []
    for i, raw in enumerate(doc.get("rates", [])):
        where = f"{file}: rates[{i}]"
        try:
            rate = {
                "kind": raw["kind"],
                "key": raw.get("key"),
                "amount_cents": raw["amount_cents"],
                "valid_from": date.fromisoformat(raw["valid_from"]),
                "valid_to": date.fromisoformat(raw["valid_to"]) if raw.get("valid_to") else None,
                "note": raw.get("note"),
            }
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{where}: needs kind, amount_cents and valid_from (YYYY-MM-DD) ({error})")
            continue
        if rate["kind"] not in RATE_KINDS:
            problems.append(f"{where}: kind {rate['kind']!r} is not one of {', '.join(RATE_KINDS)}")
        if not isinstance(rate["amount_cents"], int) or rate["amount_cents"] < 0:
            problems.append(f"{where}: amount_cents must be a whole number of cents >= 0")
        if rate["valid_to"] and rate["valid_to"] < rate["valid_from"]:
            problems.append(f"{where}: valid_to is before valid_from")
        rates.append(rate)
    problems += _overlaps(rates, file)
    if problems:
        raise InputError(f"{file}: {len(problems)} problem(s); nothing was loaded", problems)
    return fields, rates


def iban_valid(iban: str) -> bool:
    """ISO 13616: two letters, two check digits, then letters and digits; mod 97 == 1."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _overlaps(rates: list[dict], file: str) -> list[str]:
    """Two rates of the same kind and key must not be valid on the same day."""
    problems = []
    by_key: dict[tuple, list[dict]] = {}
    for rate in rates:
        by_key.setdefault((rate["kind"], rate["key"]), []).append(rate)
    for (kind, key), group in by_key.items():
        group.sort(key=lambda r: r["valid_from"])
        for a, b in pairwise(group):
            if a["valid_to"] is None or a["valid_to"] >= b["valid_from"]:
                label = kind + (f"/{key}" if key else "")
                problems.append(f"{file}: {label} rates from {a['valid_from']} and {b['valid_from']} overlap")
    return problems


def load_organisation(session: Session, path: Path | str, *, actor: str) -> Organisation:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path.name}: not valid JSON (line {error.lineno}: {error.msg})") from None
    fields, rates = parse_organisation(doc, path.name)

    org = session.scalars(select(Organisation).limit(1)).one_or_none()
    created = org is None
    if created:
        org = Organisation()
        session.add(org)
    for name, value in fields.items():
        setattr(org, name, value)
    existing = {(r.kind, r.key, r.valid_from): r for r in org.rates}
    added = changed = 0
    for rate in rates:
        row = existing.get((rate["kind"], rate["key"], rate["valid_from"]))
        if row is None:
            org.rates.append(Rate(**rate))
            added += 1
        elif (row.amount_cents, row.valid_to, row.note) != (rate["amount_cents"], rate["valid_to"], rate["note"]):
            row.amount_cents, row.valid_to, row.note = rate["amount_cents"], rate["valid_to"], rate["note"]
            changed += 1
    session.flush()
    audit.record(
        session,
        actor,
        "masterdata.import.organisation",
        object_type="organisation",
        object_id=org.id,
        file=path.name,
        created=created,
        rates_added=added,
        rates_changed=changed,
    )
    return org
