"""Farms: the farmer's profile, the application to sell, and its decision."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
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
        CheckConstraint("local_days_min >= 0 AND local_days_max >= local_days_min", name="local_days"),
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
    # Local delivery (offers_delivery, at delivery_fee_vnd): the communes it reaches, as core.places codes
    # separated by spaces (empty: the farm's own commune, Kép), and the days it takes.
    local_commune_codes: Mapped[str] = mapped_column(Text, default="", server_default="")
    local_days_min: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    local_days_max: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # Parcels to any province, priced by the farm's table (shop.delivery_models.ParcelRate) or a carrier.
    ships_parcels: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The farm's picture (the farmer, the hill), stored like product photos: WebP, 1200 and 400 px (core/gallery).
    photo_large_key: Mapped[str | None] = mapped_column(String(80))
    photo_small_key: Mapped[str | None] = mapped_column(String(80))
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
    referral_code: Mapped[str | None] = mapped_column(String(8), unique=True, default=new_referral_code)

    owner = relationship("User", foreign_keys=[owner_id], backref=db.backref("farm", uselist=False))

    @property
    def local_communes(self) -> list[int]:
        return [int(code) for code in (self.local_commune_codes or "").split() if code.isascii() and code.isdigit()]

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    def photo_fit(self, side: int) -> tuple[int, int]:
        """Display size of the farm's picture shrunk to fit a ``side`` x ``side`` box, never enlarged."""
        width, height = self.photo_width or side, self.photo_height or side
        scale = min(1.0, side / max(width, height, 1))
        return max(1, round(width * scale)), max(1, round(height * scale))

    def __repr__(self) -> str:
        return f"<Farm {self.id} {self.slug} {self.status}>"


def set_farm_photo(farm: Farm, stream) -> None:
    """Give the farm its picture: checked and re-encoded like every photo (core/images.py), stored, and the old
    one deleted once the transaction commits. Raises ``core.images.PhotoRejected`` for a file that is no photo."""
    from core.images import process_photo
    from core.media import delete_file_on_commit, store_file

    processed = process_photo(stream)
    old = (farm.photo_large_key, farm.photo_small_key)
    farm.photo_large_key, farm.photo_small_key = store_file(processed.large), store_file(processed.small)
    farm.photo_width, farm.photo_height = processed.width, processed.height
    for key in old:
        if key:
            delete_file_on_commit(key)
    db.session.flush()
