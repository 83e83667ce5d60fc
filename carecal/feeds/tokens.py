"""Feed link secrets: issue, rotate, revoke, look up.

A token is 32 random bytes (256 bits, URL-safe base64). Only its SHA-256 is stored: a
plain hash is enough for a secret with that much entropy (nobody can guess their way to a
preimage) and it lets the server find the token with one indexed lookup. The token itself
is shown once, when it is made; afterwards nobody, not even the office, can read it back.
Each owner has at most one live token: a new one kills the old one in the same transaction.
"""

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal import audit, clock
from carecal.errors import Conflict
from carecal.models import Client, FeedToken, Volunteer

Owner = Volunteer | Client


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def live_token(session: Session, owner: Owner) -> FeedToken | None:
    return session.scalars(select(FeedToken).where(_owned_by(owner), FeedToken.revoked_at.is_(None))).first()


def issue(session: Session, owner: Owner, actor: str) -> str:
    """A new token for `owner`; any live one dies at once. Returns the token (shown once)."""
    _check_may_have_feed(owner)
    replaced = _revoke_live(session, owner, actor)
    token = secrets.token_urlsafe(32)
    row = FeedToken(
        token_hash=hash_token(token),
        created_by=actor,
        volunteer=owner if isinstance(owner, Volunteer) else None,
        client=owner if isinstance(owner, Client) else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "feed.token.rotate" if replaced else "feed.token.issue",
        object_type=_kind(owner),
        object_id=owner.external_id,
        feed_token_id=row.id,
    )
    return token


def revoke(session: Session, owner: Owner, actor: str) -> int:
    """Kill the owner's live token; returns how many were live (0 or 1)."""
    revoked = _revoke_live(session, owner, actor)
    if revoked:
        audit.record(session, actor, "feed.token.revoke", object_type=_kind(owner), object_id=owner.external_id)
    return revoked


def find(session: Session, token: str) -> FeedToken | None:
    """The live token row for `token`, or None for an unknown, revoked or malformed one
    (the caller answers all of them alike)."""
    if not token or len(token) > 100:
        return None
    digest = hash_token(token)
    row = session.scalars(
        select(FeedToken).where(FeedToken.token_hash == digest, FeedToken.revoked_at.is_(None))
    ).first()
    # The index lookup compares hashes of a secret the caller cannot choose a preimage
    # for; compare once more in constant time so no code path leaks timing on the secret.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def owner_of(session: Session, token: str) -> Owner | None:
    """Whose feed `token` opens: None for an unknown, revoked or malformed token, an
    inactive owner, or a family whose consent was withdrawn (the link dies with it)."""
    row = find(session, token)
    if row is None:
        return None
    owner = row.volunteer or row.client
    if owner is None or not owner.active:
        return None
    if row.client is not None and not row.client.family_feed_opt_in:
        return None
    return owner


def _revoke_live(session: Session, owner: Owner, actor: str) -> int:
    rows = session.scalars(select(FeedToken).where(_owned_by(owner), FeedToken.revoked_at.is_(None))).all()
    now = clock.now()
    for row in rows:
        row.revoked_at, row.revoked_by = now, actor
    session.flush()
    return len(rows)


def _owned_by(owner: Owner):
    if isinstance(owner, Volunteer):
        return FeedToken.volunteer_id == owner.id
    return FeedToken.client_id == owner.id


def _kind(owner: Owner) -> str:
    return "volunteer" if isinstance(owner, Volunteer) else "client"


def _check_may_have_feed(owner: Owner) -> None:
    if isinstance(owner, Client) and not owner.family_feed_opt_in:
        raise Conflict(f"client {owner.external_id} has not agreed to a family feed (family_feed_opt_in is off)")
    if not owner.active:
        raise Conflict(f"{_kind(owner)} {owner.external_id} is inactive: no feed link for them")
