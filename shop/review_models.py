"""Verified reviews: one per farm order's goods, one per visit (an order line on a slot), by the buyer.

``subject`` is the review's uniqueness key ("goods:<farm order id>" or "visit:<order line id>"): two submissions
at once cannot both be stored, whatever the database (a UNIQUE column, not a partial index). ``farm_id`` is copied
from the farm order so a farm's rating is one indexed aggregate."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

MAX_TEXT = 2000
MAX_REPLY = 1000
MAX_REASON = 300


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        CheckConstraint("kind IN ('goods', 'visit')", name="kind"),
        CheckConstraint("(kind = 'visit') = (order_line_id IS NOT NULL)", name="visit_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    farm_order_id: Mapped[int] = mapped_column(ForeignKey("farm_orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stars: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_large_key: Mapped[str | None] = mapped_column(String(200))
    photo_small_key: Mapped[str | None] = mapped_column(String(200))
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))

    farm_order = relationship("FarmOrder")
    line = relationship("OrderLine")
    farm = relationship("Farm")
    user = relationship("User", foreign_keys=[user_id])

    @property
    def author_shown(self) -> str:
        """The reviewer as public pages name them: the given name only (the last word of a Vietnamese name)."""
        words = (self.user.full_name or "").split()
        return words[-1] if words else ""

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None
