"""Visit credit: money a buyer chose to keep with the market for a later booking (shop/credits.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

CREDIT_MONTHS = 12


def expiry(now: datetime) -> datetime:
    """Until when credit given at ``now`` may be spent (12 months: 365 days)."""
    return now + timedelta(days=365 * CREDIT_MONTHS // 12)


class CreditEntry(db.Model):
    """One credit given to a buyer's account: ``amount_vnd`` as given, ``remaining_vnd`` what is left to spend
    (lowered with a guarded UPDATE when spent), until ``expires_at``. ``order_line_id`` is the line it came from
    (one credit per line: the unique constraint makes a second one impossible), or ``refund_id`` the refund of an
order paid with credit that gave it back."""
    __tablename__ = "credit_entries"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount"),
        CheckConstraint("remaining_vnd >= 0 AND remaining_vnd <= amount_vnd", name="remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    remaining_vnd: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    # A refund of an order paid with credit, given back as credit (one entry per refund).
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    user = relationship("User")
