"""Where settings come from: a command-line option, else an environment variable, else a default."""

import getpass
import os

DEFAULT_DB_URL = "sqlite:///./carecal.db"
DEFAULT_FEED_BASE_URL = "https://carecal.example.org"
# A proxy on the same machine (the documented set-up) is trusted to say who the client is.
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1", "::1")


def database_url(option: str | None = None) -> str:
    """`--db URL`, else `CARECAL_DB`, else the SQLite file ./carecal.db."""
    return option or os.environ.get("CARECAL_DB") or DEFAULT_DB_URL


def actor(option: str | None = None) -> str:
    """Who does this, for the audit log: `--actor`, else `CARECAL_ACTOR`, else the OS user."""
    if option:
        return option
    if os.environ.get("CARECAL_ACTOR"):
        return os.environ["CARECAL_ACTOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def feed_base_url() -> str:
    """Public base URL under which `carecal feed serve` is reachable (behind a TLS proxy)."""
    return (os.environ.get("CARECAL_FEED_BASE_URL") or DEFAULT_FEED_BASE_URL).rstrip("/")
