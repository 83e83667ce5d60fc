"""Subscription links of a feed token, and their QR codes (for one scan instead of typing).

The QR code holds the webcal:// link: the iPhone's camera opens it in Calendar's subscribe
dialog, and on Android ICSx⁵ takes webcal:// links from any QR scanner. The https:// link
is printed beside it for Google Calendar ("From URL") and Thunderbird.
"""

import io
from pathlib import Path

import segno

from carecal import config, private_files


def feed_links(token: str, base_url: str | None = None) -> tuple[str, str]:
    """(https link, webcal link) for a token: webcal:// opens the subscribe dialog of
    Apple Calendar and Outlook; the https one is for Google Calendar's "From URL"."""
    https = f"{(base_url or config.feed_base_url()).rstrip('/')}/feeds/{token}.ics"
    return https, "webcal://" + https.split("://", 1)[1]


def qr_code(link: str) -> segno.QRCode:
    # error correction M: still readable with a crease or a thumb on the paper
    return segno.make(link, error="m", micro=False)


def qr_terminal(link: str) -> str:
    """The QR code as text for a terminal (half blocks, dark on light, with a quiet zone)."""
    out = io.StringIO()
    qr_code(link).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def write_qr(link: str, path: Path) -> Path:
    """The QR code as PNG or SVG (by the file's suffix), readable by the office only: it
    is the secret link."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ValueError(f"{path}: write the QR code as .png or .svg")
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind=kind, scale=8, border=4)
    return private_files.write_bytes(path, buffer.getvalue())
