"""Payouts: money the market transferred to a farm's bank account.

Each payout also appends a ``payout`` entry to the ledger (shop/ledger.py), which is what every balance sums;
this table keeps what the ledger has no room for: the date on the bank transfer, its reference, who recorded it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow


class Payout(db.Model):
    __tablename__ = "payouts"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="amount_vnd"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    # The date of the bank transfer (local date), as staff typed it.
    paid_on: Mapped[date] = mapped_column(Date)
    bank_reference: Mapped[str] = mapped_column(String(60))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # One payout per form shown: a double-submitted form finds the payout already recorded.
    form_token: Mapped[str] = mapped_column(String(64), unique=True)

    farm = relationship("Farm")
    recorded_by = relationship("User")

    def __repr__(self) -> str:
        return f"<Payout {self.id} farm={self.farm_id} {self.amount_vnd}>"
