"""The audit log: who changed what, when, from which state to which."""
from __future__ import annotations

import json

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import BigIntPK, db
from core.time import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[object] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A system actor when no user acted, e.g. "webhook:stripe" or "cli:expire-orders".
    actor_label: Mapped[str | None] = mapped_column(String(60))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[str | None] = mapped_column(Text)


def record(action: str, entity_type: str, entity_id: int | None, *, actor=None, actor_label: str | None = None,
           on_behalf_of=None, from_state: str | None = None, to_state: str | None = None,
           details: dict | None = None) -> AuditEntry:
    """Append one audit entry to the current transaction (the caller commits)."""
    entry = AuditEntry(
        action=action, entity_type=entity_type, entity_id=entity_id,
        actor_id=getattr(actor, "id", None), actor_label=actor_label,
        on_behalf_of_id=getattr(on_behalf_of, "id", None),
        from_state=from_state, to_state=to_state,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True) if details else None,
    )
    db.session.add(entry)
    return entry
