"""Visits to the pineapple hill: tours, their time slots, photos and tickets."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.formatting import Shown, in_reader_language
from core.states import Moves
from core.time import utcnow

SLOT_STATUSES = ("open", "closed", "cancelled")
TICKET_STATUSES = ("valid", "cancelled")
# People in one booking: the farmer's maximum for the tour (at most MAX_PARTY), else DEFAULT_MAX_PARTY, so one
# unpaid booking cannot hold every seat of a visit. Larger groups contact the farm.
MAX_PARTY = 50
DEFAULT_MAX_PARTY = 20


class Tour(db.Model):
    __tablename__ = "tours"
    __table_args__ = (
        CheckConstraint("price_adult_vnd >= 0", name="price_adult_vnd"),
        CheckConstraint("price_child_vnd >= 0", name="price_child_vnd"),
        CheckConstraint("default_capacity > 0", name="default_capacity"),
        CheckConstraint("duration_minutes > 0", name="duration_minutes"),
        CheckConstraint("free_cancel_hours >= 0", name="free_cancel_hours"),
        CheckConstraint(f"max_party IS NULL OR (max_party >= 1 AND max_party <= {MAX_PARTY})", name="max_party"),
        CheckConstraint("status IN ('active', 'paused', 'archived')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The farm's English title and description for visitors reading English, both optional.
    title_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    included: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    meeting_point: Mapped[str] = mapped_column(String(200), default="")
    map_url: Mapped[str | None] = mapped_column(String(500))
    languages: Mapped[str] = mapped_column(String(40), default="vi")
    price_adult_vnd: Mapped[int] = mapped_column(BigInteger)
    price_child_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    default_capacity: Mapped[int] = mapped_column(Integer, default=20)
    free_cancel_hours: Mapped[int] = mapped_column(Integer, default=48)
    # The largest group one booking may bring; NULL: DEFAULT_MAX_PARTY (see party_limit).
    max_party: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    farm = relationship("Farm", backref=db.backref("tours", lazy="dynamic"))
    slots = relationship("TourSlot", back_populates="tour", order_by="TourSlot.starts_at", lazy="dynamic")
    photos = relationship("TourPhoto", order_by="TourPhoto.position", cascade="all, delete-orphan",
                          back_populates="tour")

    @property
    def shown_title(self) -> Shown:
        return in_reader_language(self.title, self.title_en)

    @property
    def shown_description(self) -> Shown:
        return in_reader_language(self.description, self.description_en)

    @property
    def party_limit(self) -> int:
        return self.max_party if self.max_party is not None else DEFAULT_MAX_PARTY

    @property
    def language_codes(self) -> list[str]:
        return [code for code in (self.languages or "").split(",") if code]


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
    # Why the farm cancelled it (weather, harvest, other) and its own words, told to the buyers.
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    cancel_note: Mapped[str | None] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)

    tour = relationship("Tour", back_populates="slots")

    @property
    def seats_left(self) -> int:
        return self.capacity - self.seats_taken


class TourPhoto(db.Model):
    """A tour's photo, processed like product photos (WebP, EXIF stripped, two sizes)."""
    __tablename__ = "tour_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    large_key: Mapped[str] = mapped_column(String(80))
    small_key: Mapped[str] = mapped_column(String(80))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    tour = relationship("Tour", back_populates="photos")

    def fit_within(self, side: int) -> tuple[int, int]:
        """Display size (width, height) shrunk to fit a ``side`` x ``side`` box, never enlarged."""
        scale = min(1.0, side / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))


class Ticket(db.Model):
    """The ticket of one paid booking (an order line on a slot): a code to type, a QR to scan, check-in."""
    __tablename__ = "tour_tickets"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    # Eight letters and digits that cannot be mistaken for one another (no 0/O, 1/I, 2/Z, 5/S, 8/B).
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="valid", index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # "buyer" (cancelled in time by the buyer) or "slot" (the farm cancelled the visit).
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    # When the visitor was sent the reminder of the day before (tours/reminders.py); None: not yet.
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    line = relationship("OrderLine")
    checked_in_by = relationship("User")

    @property
    def display_code(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"


# A ticket is cancelled by its buyer, by the farm cancelling the slot, or with its farm order (core/states.py).
TICKET_MOVES = Moves(Ticket, [("valid", "cancelled")])


class CalendarFeed(db.Model):
    """A farm's private calendar feed (/calendar/<token>.ics): whoever has the address sees the farm's times,
    so the token is long and random, and a new one stops the old address."""
    __tablename__ = "tour_calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


WAITLIST_STATUSES = ("waiting", "offered", "booked", "expired", "left")


class WaitlistEntry(db.Model):
    """One party waiting for seats on a full slot (tours/waitlist.py). While ``offered``, its seats are held
    in the slot's seats_taken until ``offer_expires_at``; the offer link carries a secret whose hash is kept."""
    __tablename__ = "tour_waitlist_entries"
    __table_args__ = (
        CheckConstraint("adults >= 1 AND children >= 0", name="party"),
        CheckConstraint("status IN ('waiting', 'offered', 'booked', 'expired', 'left')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("tour_slots.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    locale: Mapped[str | None] = mapped_column(String(5))
    adults: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(DateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    slot = relationship("TourSlot")
    user = relationship("User")

    @property
    def seats(self) -> int:
        return self.adults + self.children
