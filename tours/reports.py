"""What the farmer's dashboard reads about visits: the next slots with their seats and bookings, and the
visitors checked in during a period (as SQL the dashboard folds into its own queries)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select

from core.extensions import db
from shop.order_models import FarmOrder, OrderLine
from tours.models import Ticket, Tour, TourSlot

BOOKED_STATUSES = ("paid", "ready", "completed")


def checked_in(farm_id: int, period):
    """Visitors checked in during ``period`` (anything with ``start_utc`` and ``end_utc``; None: 0) — the party
    size of every ticket checked in — as a scalar SQL expression, for the dashboard's one balance query."""
    if period is None:
        return literal(0)
    return (select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .select_from(Ticket)
            .join(OrderLine, OrderLine.id == Ticket.order_line_id)
            .join(FarmOrder, FarmOrder.id == OrderLine.farm_order_id)
            .where(FarmOrder.farm_id == farm_id, Ticket.checked_in_at >= period.start_utc,
                   Ticket.checked_in_at < period.end_utc)
            .scalar_subquery())


@dataclass(frozen=True)
class SlotRow:
    starts_at: datetime
    title: str
    capacity: int
    seats_taken: int
    bookings: int
    status: str


def slots_select(farm_id: int, now: datetime, limit: int):
    bookings = (select(func.count()).select_from(OrderLine)
                .join(FarmOrder, FarmOrder.id == OrderLine.farm_order_id)
                .where(OrderLine.slot_id == TourSlot.id, FarmOrder.status.in_(BOOKED_STATUSES))
                .correlate(TourSlot).scalar_subquery())
    return (select(TourSlot.id.label("slot_id"), TourSlot.starts_at, Tour.title, TourSlot.capacity,
                   TourSlot.seats_taken, bookings.label("bookings"), TourSlot.status)
            .join(Tour, Tour.id == TourSlot.tour_id)
            .where(Tour.farm_id == farm_id, TourSlot.starts_at >= now, TourSlot.status != "cancelled")
            .order_by(TourSlot.starts_at, TourSlot.id).limit(limit))


def slot_of(row) -> SlotRow:
    return SlotRow(row.starts_at, row.title, row.capacity, row.seats_taken, int(row.bookings or 0), row.status)


def next_slots(farm_id: int, now: datetime, limit: int = 5) -> list[SlotRow]:
    """The farm's next tour slots with their seats taken and paid bookings: one query."""
    return [slot_of(row) for row in db.session.execute(slots_select(farm_id, now, limit)).all()]
