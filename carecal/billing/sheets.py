"""Stable pseudonyms for the auditors' exports. Pure. (Cells that are safe to open in a
spreadsheet are the one table writer's business: `carecal.tables`.)"""

import hashlib
import hmac


def pseudonym(key: bytes, kind: str, identity: str) -> str:
    """A stable pseudonym: the same person gets the same label in every export made with
    the same key, and nobody without the key can tell who it is (keyed HMAC-SHA256)."""
    if not key:
        raise ValueError("a pseudonym needs a secret key")
    digest = hmac.new(key, f"{kind}:{identity}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:1].upper()}-{digest[:10]}"
