"""Cells that are safe to open in a spreadsheet, and stable pseudonyms. Pure."""

import hashlib
import hmac

# A cell starting with one of these is run as a formula by Excel/LibreOffice (CSV
# injection); a leading apostrophe makes it text, as pretix does.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text that could start a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def pseudonym(key: bytes, kind: str, identity: str) -> str:
    """A stable pseudonym: the same person gets the same label in every export made with
    the same key, and nobody without the key can tell who it is (keyed HMAC-SHA256)."""
    if not key:
        raise ValueError("a pseudonym needs a secret key")
    digest = hmac.new(key, f"{kind}:{identity}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:1].upper()}-{digest[:10]}"
