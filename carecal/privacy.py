"""What may leave the office, decided in one place.

Three kinds of data never leave the coordinator's machine in clear: special-category
health data (Art. 9 GDPR), the office's own notes (free text typed for one client or one
visit, which may say anything), and secrets. A volunteer's IBAN is shown masked
(`mask_iban`) on every screen, file and message except the bank's transfer file. Every
place that masks asks here: the audit log (`carecal.audit`), the import error report
(`carecal.masterdata.importer`), and the week report (a solver reason that names a health
fact). Calendar feeds need no masking: they are built from an allow-list
(`carecal.feeds.events`), and activities reach them only as catalogue labels
(`carecal.catalogue`).
"""

import re

# Field names (model attributes, file columns, audit payload keys) of health data.
HEALTH_FIELDS = frozenset(
    {
        "dementia",
        "care_grade",
        "care_grades",
        "care_level",
        "grade",
        "insurance_number",
        "date_of_birth",
        "diagnosis",
    }
)
# The office's own words: shown on the office's screens and in its own files, nowhere else.
OFFICE_NOTES = frozenset({"note"})
SECRETS = frozenset({"token", "feed_token", "password"})
# Bank details: shown with only their first and last four characters (mask_iban).
BANK_FIELDS = frozenset({"iban"})
# Fields that hold a key of the activity catalogue: a key may be shown, but anything else
# typed there may be the office's free text and is hidden like a note.
CATALOGUE_KEY_FIELDS = frozenset({"activity", "--activity"})
CATALOGUE_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")

# What the audit log (and so its export) never holds in clear.
MASKED_IN_AUDIT = HEALTH_FIELDS | OFFICE_NOTES | SECRETS | BANK_FIELDS

# A solver reason that would reveal a health fact (e.g. "needs a dementia-trained volunteer").
_HEALTH_IN_REASON = re.compile(r"dement|care.level|care.grade|pflegegrad", re.IGNORECASE)


def is_health(field: str) -> bool:
    return field in HEALTH_FIELDS


def hidden_value(field: str, value: str = "") -> str | None:
    """What an error message shows instead of `value` of `field`; None when it may show it."""
    if field in HEALTH_FIELDS:
        return "(hidden: health data)"
    if field in OFFICE_NOTES:
        return "(hidden: the office's note)"
    if field in BANK_FIELDS:
        return mask_iban(value)
    if field in CATALOGUE_KEY_FIELDS and not CATALOGUE_KEY.fullmatch(value):
        return "(hidden: not a catalogue key)"
    return None


def mask_iban(iban: str | None) -> str:
    """'DE89 3704 0044 0532 0130 00' → 'DE89 **** 3000': the country, the check digits and the
    last four characters, enough to tell two accounts apart and nothing to pay into."""
    compact = "".join((iban or "").split()).upper()
    if len(compact) <= 8:
        return "*" * len(compact)
    return f"{compact[:4]} **** {compact[-4:]}"


def reveals_health(reason: str) -> bool:
    """True for a solver reason that names a health fact; the week report words it neutrally."""
    return bool(_HEALTH_IN_REASON.search(reason))
