"""A visitor's choice after the farm moved or cancelled their visit for rain (tours/rain.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

RAIN_STATUSES = ("waiting", "moved", "credited", "refunded")


class RainChoice(db.Model):
    """One paid booking of a slot called off for rain: ``waiting`` until the visitor chooses (or the default,
    a refund, is applied on the visit day), then ``moved``, ``credited`` or ``refunded``, once: the move out of
    ``waiting`` is a guarded UPDATE. The link carries a secret; only its SHA-256 is kept."""
    __tablename__ = "tour_rain_choices"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'moved', 'credited', 'refunded')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("tour_slots.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tour_tickets.id"))
    # The farm's new time (None when the visit was cancelled outright): the default of "another date".
    to_slot_id: Mapped[int | None] = mapped_column(ForeignKey("tour_slots.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(10))  # "visitor" or "default"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    slot = relationship("TourSlot", foreign_keys=[slot_id])
    to_slot = relationship("TourSlot", foreign_keys=[to_slot_id])
    line = relationship("OrderLine")
    ticket = relationship("Ticket")
