"""The append-only audit log. The database refuses UPDATE, DELETE and replacing inserts
(triggers), so not even a bug in carecal can rewrite history; and the events form a hash
chain (`carecal.models.chain`), so a rewrite made behind the triggers' back shows in
`carecal audit verify`."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from carecal.models.base import Base, utcnow
from carecal.models.chain import Chained


class AuditEvent(Chained, Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(80), index=True, doc="dotted, e.g. roster.override.pin")
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(default=dict, doc="sensitive fields masked")
