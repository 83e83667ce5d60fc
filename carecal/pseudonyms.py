"""Keyed pseudonyms for what leaves the office, and the secret key they need.

A pseudonym is HMAC-SHA256 of the person's id under the association's key, cut to 128
bits (`C-` or `V-` and 32 hex digits): the same person gets the same pseudonym in every
export made with the same key, and without the key nobody can tell who it is, nor try
the ids one by one. So the key must be random and long, and it must never be in the code,
the repository or an export:

- a key is 32 random bytes, written as 64 hex digits or 43 base64url characters;
  `carecal export pseudonym-key` makes one. Anything shorter, or bytes that repeat (a
  typed word, `aaaa…`, a pattern), is refused with a message that never shows the key;
- it is read from a key file (`--key-file`, or `$CARECAL_PSEUDONYM_KEY_FILE`) that only
  its owner may read, or from `$CARECAL_PSEUDONYM_KEY`.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from carecal.errors import InputError

KEY_ENV = "CARECAL_PSEUDONYM_KEY"
KEY_FILE_ENV = "CARECAL_PSEUDONYM_KEY_FILE"
KEY_BYTES = 32
PSEUDONYM_BYTES = 16  # 128 bits
MIN_DISTINCT_BYTES = 16  # 32 random bytes have about 31 different values; fewer than 16: not random
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
MAKE_ONE = "make one with `carecal export pseudonym-key -o FILE`"


def new_key() -> str:
    """A fresh key, as it is written into a key file."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()


def parse_key(text: str, where: str) -> bytes:
    """The key's bytes; `where` names its source in the message (the key itself never is)."""
    text = text.strip()
    raw = b""
    try:
        if _HEX.fullmatch(text) and len(text) % 2 == 0:
            raw = bytes.fromhex(text)
        elif _BASE64URL.fullmatch(text):
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) < KEY_BYTES:
        raise InputError(
            f"{where}: a pseudonym key must be {KEY_BYTES} random bytes written as {2 * KEY_BYTES} hex digits "
            f"or 43 base64url characters; this one is {len(text)} character(s) long or not written so: {MAKE_ONE}"
        )
    if len(set(raw)) < MIN_DISTINCT_BYTES:
        raise InputError(f"{where}: the pseudonym key is not random (its bytes repeat): {MAKE_ONE}")
    return raw


def read_key_file(path: Path) -> bytes:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise InputError(f"no pseudonym key file {path}: {MAKE_ONE}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the pseudonym key file {path}: {type(error).__name__}") from None
    if mode & 0o077:
        raise InputError(f"the pseudonym key file {path} may be read by others (mode {mode:03o}): `chmod 600 {path}`")
    return parse_key(text, f"key file {path}")


def load_key(key_file: Path | None = None) -> bytes:
    """The key from `key_file`, else `$CARECAL_PSEUDONYM_KEY_FILE`, else `$CARECAL_PSEUDONYM_KEY`."""
    if key_file is None and os.environ.get(KEY_FILE_ENV):
        key_file = Path(os.environ[KEY_FILE_ENV])
    if key_file is not None:
        return read_key_file(key_file)
    if os.environ.get(KEY_ENV):
        return parse_key(os.environ[KEY_ENV], f"${KEY_ENV}")
    raise InputError(
        f"a pseudonymised export needs the association's secret key: --key-file FILE, ${KEY_FILE_ENV} or "
        f"${KEY_ENV} ({MAKE_ONE}; keep it: the same key gives the same pseudonyms in every export)"
    )


def pseudonym(key: bytes, kind: str, identity: str) -> str:
    """`C-` (client) or `V-` (volunteer) and 128 bits of HMAC-SHA256 of the person's id."""
    if len(key) < KEY_BYTES:
        raise ValueError("a pseudonym needs a key of at least 32 bytes")
    digest = hmac.new(key, f"carecal-pseudonym/1:{kind}:{identity}".encode(), hashlib.sha256).digest()
    return f"{kind[:1].upper()}-{digest[:PSEUDONYM_BYTES].hex()}"
