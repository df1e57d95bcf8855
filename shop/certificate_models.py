"""VietGAP and OCOP certificates a farm uploads and commune staff check (shop/certificates.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

KINDS = ("vietgap", "ocop")
STATUSES = ("submitted", "verified", "rejected")
MAX_NUMBER = 60
MAX_REASON = 300


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("kind IN ('vietgap', 'ocop')", name="kind"),
        CheckConstraint("status IN ('submitted', 'verified', 'rejected')", name="status"),
        CheckConstraint("(kind = 'ocop') = (stars IS NOT NULL)", name="ocop_stars"),
        CheckConstraint("stars IS NULL OR stars BETWEEN 3 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(MAX_NUMBER))
    issuer: Mapped[str] = mapped_column(String(120), default="")
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    # OCOP: the stars (3 to 5) and the product they rate.
    stars: Mapped[int | None] = mapped_column(SmallInteger)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    scan_large_key: Mapped[str] = mapped_column(String(200))
    scan_small_key: Mapped[str] = mapped_column(String(200))
    scan_width: Mapped[int] = mapped_column(Integer)
    scan_height: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="submitted", index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    # The expiry reminders sent (30 and 7 days before), each once.
    reminded_30_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_7_at: Mapped[datetime | None] = mapped_column(DateTime)

    farm = relationship("Farm")
    product = relationship("Product")

    def shown_on(self, today: date) -> bool:
        return self.status == "verified" and self.expires_on >= today
