"""A check-in made on a farmer's phone without signal, as the server received it (tours/offline_checkin.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.time import utcnow


class OfflineCheckin(db.Model):
    """One queued check-in and the answer it got. The phone names each with a random id; sent again (the
    answer was lost on a weak signal), it gets the same answer and changes nothing."""
    __tablename__ = "tour_offline_checkins"
    __table_args__ = (
        UniqueConstraint("farm_id", "event_id"),
        CheckConstraint("result IN ('ok', 'already', 'refused')", name="result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"))
    event_id: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tour_tickets.id"), index=True)
    code: Mapped[str] = mapped_column(String(12))
    # When the phone says the group came, kept between the day's list download and the sync.
    done_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result: Mapped[str] = mapped_column(String(10))
    # For "refused": unknown, other_farm, cancelled, unpaid, forged.
    reason: Mapped[str | None] = mapped_column(String(20))
