"""Farms: the farmer's profile, the application to sell, and its decision."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

# A farm's referral code (shared links carry ?ref=CODE, shop/referrals.py): 6 characters of an alphabet without
# look-alikes (no 0/O, 1/I/L), about 10^9 codes, random so codes cannot be walked; UNIQUE in the database.
REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERRAL_LENGTH = 6


def new_referral_code() -> str:
    import secrets

    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_LENGTH))

# Villages (thôn) of Kep commune; "other" lets a farmer name another one.
VILLAGES = ("Kép", "Kép 1", "Kép 2", "Kép 3", "Kép 5", "Kép 8", "Kép 10", "Kép 11", "Kép 12", "Ca", "Lèo",
            "Trại Nấp")
OTHER_VILLAGE = "other"

FARM_STATUSES = ("pending", "approved", "rejected", "suspended")


class Farm(db.Model):
    __tablename__ = "farms"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'suspended')", name="status"),
        CheckConstraint("delivery_fee_vnd >= 0", name="delivery_fee_vnd"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    village: Mapped[str] = mapped_column(String(80), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    vietgap_certified: Mapped[bool] = mapped_column(Boolean, default=False)
    vietgap_certificate_no: Mapped[str | None] = mapped_column(String(60))
    bank_bin: Mapped[str] = mapped_column(String(6))
    bank_account_number: Mapped[str] = mapped_column(String(19))
    bank_account_name: Mapped[str] = mapped_column(String(120))
    offers_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_fee_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    referral_code: Mapped[str | None] = mapped_column(String(8), unique=True, default=new_referral_code)

    owner = relationship("User", foreign_keys=[owner_id], backref=db.backref("farm", uselist=False))

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    def __repr__(self) -> str:
        return f"<Farm {self.id} {self.slug} {self.status}>"
