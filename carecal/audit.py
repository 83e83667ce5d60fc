"""Write audit events. Payloads are masked here, once, so no caller can forget it."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from carecal.models import AuditEvent
from carecal.privacy import MASKED_IN_AUDIT

MASK = "***"


def mask(payload: Any) -> Any:
    """A copy of `payload` with the value of every key carecal.privacy keeps in the office
    replaced by a mask, at any depth."""
    if isinstance(payload, Mapping):
        return {k: MASK if k in MASKED_IN_AUDIT else mask(v) for k, v in payload.items()}
    if isinstance(payload, (list, tuple)):
        return [mask(v) for v in payload]
    return payload


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    object_type: str,
    object_id: object,
    **payload: Any,
) -> AuditEvent:
    """Append one event (e.g. action='roster.override.pin') in the caller's transaction,
    so the event exists exactly when the change it describes does. Every event names its
    object: an auditor follows a visit, an override or an invoice through the log by it
    (an id not yet flushed would be None here: flush first)."""
    if not object_type or object_id is None or str(object_id) == "":
        raise ValueError(f"audit event {action!r} names no object ({object_type!r}, {object_id!r})")
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=mask(_jsonable(payload)),
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
