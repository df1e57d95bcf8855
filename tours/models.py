"""Visits to the pineapple hill: tours and their time slots."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

SLOT_STATUSES = ("open", "closed", "cancelled")


class Tour(db.Model):
    __tablename__ = "tours"
    __table_args__ = (
        CheckConstraint("price_adult_vnd >= 0", name="price_adult_vnd"),
        CheckConstraint("price_child_vnd >= 0", name="price_child_vnd"),
        CheckConstraint("default_capacity > 0", name="default_capacity"),
        CheckConstraint("duration_minutes > 0", name="duration_minutes"),
        CheckConstraint("free_cancel_hours >= 0", name="free_cancel_hours"),
        CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    included: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    map_url: Mapped[str | None] = mapped_column(String(500))
    languages: Mapped[str] = mapped_column(String(40), default="vi")
    price_adult_vnd: Mapped[int] = mapped_column(BigInteger)
    price_child_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    default_capacity: Mapped[int] = mapped_column(Integer, default=20)
    free_cancel_hours: Mapped[int] = mapped_column(Integer, default=48)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    farm = relationship("Farm", backref=db.backref("tours", lazy="dynamic"))
    slots = relationship("TourSlot", back_populates="tour", order_by="TourSlot.starts_at", lazy="dynamic")


class TourSlot(db.Model):
    __tablename__ = "tour_slots"
    __table_args__ = (
        UniqueConstraint("tour_id", "starts_at", name="uq_tour_slots_tour_start"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_taken"),
        CheckConstraint("status IN ('open', 'closed', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id"), index=True)
    # Naive UTC, as every stored datetime.
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")

    tour = relationship("Tour", back_populates="slots")

    @property
    def seats_left(self) -> int:
        return self.capacity - self.seats_taken
