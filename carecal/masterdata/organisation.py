"""The association, its dated rates, its activity catalogue and the care insurers it
bills (their postal addresses), from a JSON file like data/organisation.json.

Loading is an upsert: there is one organisation per database; rates are keyed by
(kind, key, valid_from), activities and their categories by key, insurers by IK, so
loading the same file twice changes nothing. An activity or an insurer missing from the
file stays (requests and clients may name it).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit, privacy
from carecal.billing.rates import RATE_KINDS
from carecal.errors import InputError
from carecal.feeds.i18n import LANGUAGES
from carecal.masterdata import codecs
from carecal.models import Activity, ActivityCategory, Insurer, Organisation, Rate
from carecal.weeks import DEFAULT_TZ

REQUIRED = ("name", "ik", "street", "postcode", "city")
OPTIONAL = ("timezone", "phone", "email", "recognition", "tax_number", "iban", "bic", "bank_name", "payout_over_limit")
PAYOUT_OVER_LIMIT = ("hold", "taxable")
NUMBERS = {"payment_term_days": (0, 120)}
LISTS = ("rates", "activity_categories", "activities", "insurers")
INSURER_FIELDS = ("ik", "name", "street", "postcode", "city")


def parse_organisation(doc: dict, file: str) -> tuple[dict, list[dict]]:
    """Check the document; returns the organisation's fields and its rates."""
    problems = []
    if not isinstance(doc, dict):
        raise InputError(f"{file}: expected a JSON object")
    fields: dict[str, Any] = {}  # text, or a whole number (NUMBERS)
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
        try:
            fields["iban"] = codecs.iban(fields["iban"])
        except ValueError as error:
            problems.append(f"{file}: iban {fields['iban']!r}: {error}")
    if fields.get("payout_over_limit", "hold") not in PAYOUT_OVER_LIMIT:
        problems.append(
            f"{file}: payout_over_limit {fields['payout_over_limit']!r}: use hold (keep what is above the "
            "tax-free limit back) or taxable (pay it, to be taxed)"
        )
    if "bic" in fields and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", fields["bic"]):
        problems.append(f"{file}: bic {fields['bic']!r} is not a BIC of 8 or 11 letters and digits")
    if "tax_number" in fields and not re.fullmatch(r"[0-9][0-9 /]{8,18}[0-9]", fields["tax_number"]):
        problems.append(f"{file}: tax_number {fields['tax_number']!r} is not a Steuernummer like 215/140/12345")
    try:
        ZoneInfo(fields.get("timezone", DEFAULT_TZ))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{file}: timezone {fields.get('timezone')!r} is not a time zone like Europe/Berlin")
    unknown = set(doc) - set(REQUIRED) - set(OPTIONAL) - set(NUMBERS) - set(LISTS)
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


def parse_insurers(doc: dict, file: str) -> list[dict[str, str]]:
    """The care insurers the association bills, each with IK, name and postal address."""
    raw = doc.get("insurers", [])
    if not isinstance(raw, list):
        raise InputError(f"{file}: insurers must be a list of objects with {', '.join(INSURER_FIELDS)}")
    problems, insurers, seen = [], [], set()
    for i, item in enumerate(raw):
        where = f"{file}: insurers[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object with {', '.join(INSURER_FIELDS)}")
            continue
        unknown = set(item) - set(INSURER_FIELDS)
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        missing = [n for n in INSURER_FIELDS if not isinstance(item.get(n), str) or not item[n].strip()]
        if missing:
            problems.append(f"{where}: {', '.join(missing)} missing (text)")
            continue
        insurer = {name: item[name].strip() for name in INSURER_FIELDS}
        if not re.fullmatch(r"\d{9}", insurer["ik"]):
            problems.append(f"{where}.ik: {insurer['ik']!r} is not 9 digits")
        elif insurer["ik"] in seen:
            problems.append(f"{where}.ik: {insurer['ik']} appears twice")
        if not re.fullmatch(r"\d{5}", insurer["postcode"]):
            problems.append(f"{where}.postcode: {insurer['postcode']!r} is not a German postcode of 5 digits")
        seen.add(insurer["ik"])
        insurers.append(insurer)
    if problems:
        raise InputError(f"{file}: {len(problems)} problem(s) in insurers; nothing was loaded", problems)
    return insurers


LABEL_MAX = 100


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    labels: dict[str, str]
    category: str | None = None


def parse_catalogue(doc: dict, file: str) -> tuple[list[CatalogueEntry], list[CatalogueEntry]]:
    """Check the document's activity categories and activities: keys like `reading`, each
    key once, a German label for each, labels only in languages calendars are written in
    (de, ru, uk, en), every entry in the same languages, and a category that exists.
    Returns (categories, activities)."""
    problems: list[str] = []
    categories = _entries(doc.get("activity_categories", []), f"{file}: activity_categories", problems)
    activities = _entries(
        doc.get("activities", []), f"{file}: activities", problems, categories={c.key for c in categories}
    )
    entries = [*categories, *activities]
    if entries:
        languages = {code for entry in entries for code in entry.labels}
        for where, entry in _where(categories, activities, file):
            missing = languages - set(entry.labels)
            if missing:
                problems.append(
                    f"{where}: no label in {', '.join(sorted(missing))} (other entries have one: every entry "
                    "needs a label in each language the catalogue has)"
                )
    if problems:
        raise InputError(f"{file}: {len(problems)} problem(s) in the activity catalogue; nothing was loaded", problems)
    return categories, activities


def _where(categories, activities, file):
    for i, entry in enumerate(categories):
        yield f"{file}: activity_categories[{i}] ({entry.key})", entry
    for i, entry in enumerate(activities):
        yield f"{file}: activities[{i}] ({entry.key})", entry


def _entries(raw: object, where: str, problems: list[str], categories: set[str] | None = None) -> list[CatalogueEntry]:
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list of entries")
        return []
    entries, seen = [], set()
    allowed = {"key", "labels"} | ({"category"} if categories is not None else set())
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: expected an object with key and labels")
            continue
        unknown = set(item) - allowed
        if unknown:
            problems.append(
                f"{at}: unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(allowed))}"
            )
        key = item.get("key")
        if not isinstance(key, str) or not privacy.CATALOGUE_KEY.fullmatch(key):
            problems.append(f"{at}.key: {key!r} is not a key like reading or park_walk (a-z, 0-9, _; at most 40)")
            continue
        at = f"{at} ({key})"
        if key in seen:
            problems.append(f"{at}: the key appears twice")
        seen.add(key)
        labels = _labels(item.get("labels"), at, problems)
        category = item.get("category")
        if category is not None and (not isinstance(category, str) or category not in (categories or set())):
            known = ", ".join(sorted(categories or ())) or "none"
            problems.append(f"{at}.category: {category!r} is not one of the activity_categories ({known})")
            category = None
        entries.append(CatalogueEntry(key, labels, category))
    return entries


def _labels(raw: object, at: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        problems.append(f'{at}.labels: expected an object like {{"de": "Vorlesen", "ru": "Чтение вслух"}}')
        return {}
    labels = {}
    for code, text in raw.items():
        if code not in LANGUAGES:
            problems.append(f"{at}.labels.{code}: calendars are written in {', '.join(LANGUAGES)} only")
        elif not isinstance(text, str) or not text.strip() or len(text) > LABEL_MAX or "\n" in text:
            problems.append(f"{at}.labels.{code}: expected one line of text, at most {LABEL_MAX} characters")
        else:
            labels[code] = text.strip()
    if "de" not in raw:
        problems.append(f"{at}.labels: a German label (de) is required: proofs and invoices are German")
    return labels


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
    categories, activities = parse_catalogue(doc, path.name)
    insurers = parse_insurers(doc, path.name)

    found = session.scalars(select(Organisation).limit(1)).one_or_none()
    created = found is None
    org = found or Organisation()
    if created:
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
    catalogue_changes = _upsert(session, ActivityCategory, categories) + _upsert(session, Activity, activities)
    insurers_changed = _upsert_insurers(session, insurers)
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
        catalogue_changed=catalogue_changes,
        insurers_changed=insurers_changed,
    )
    return org


def _upsert_insurers(session: Session, insurers: list[dict[str, str]]) -> list[str]:
    """Create or update the insurers by IK; the IKs that changed."""
    existing = {row.ik: row for row in session.scalars(select(Insurer))}
    changed = []
    for values in insurers:
        row = existing.get(values["ik"])
        if row is None:
            row = Insurer(ik=values["ik"])
            session.add(row)
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(values["ik"])
    return changed


Entry = TypeVar("Entry", Activity, ActivityCategory)


def _upsert(session: Session, model: type[Entry], entries: list[CatalogueEntry]) -> list[str]:
    """Create or update the catalogue's entries by key; the keys that changed."""
    existing = {row.key: row for row in session.scalars(select(model))}
    changed = []
    for entry in entries:
        row = existing.get(entry.key)
        if row is None:
            row = model(key=entry.key)
            session.add(row)
        values = {"labels": entry.labels} | ({"category_key": entry.category} if model is Activity else {})
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(entry.key)
    session.flush()  # categories exist before the activities that name them
    return changed
