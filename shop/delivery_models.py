"""Where goods go and what sending them costs: the buyer's saved addresses and each farm's parcel table.

A parcel rate is one row per farm and region (core.places.REGION_CODES): the fee for a parcel up to 1, 3, 5,
10 and 20 kg, a rate per started kilogram above 20 kg, and the days it takes. A farm without its own rows
uses the cooperative's defaults (shop.delivery.DEFAULT_RATES)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.time import utcnow

# The weight bands of the parcel table, in grams, and the name of each band's fee column.
BANDS_G = (1000, 3000, 5000, 10000, 20000)
BAND_COLUMNS = ("fee_1kg_vnd", "fee_3kg_vnd", "fee_5kg_vnd", "fee_10kg_vnd", "fee_20kg_vnd")


class Address(db.Model):
    """An address saved on a buyer's account: whom to give it to, and where (province and commune codes of
    core.places, the street and house number as written)."""
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[int] = mapped_column(Integer)
    street: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ParcelRate(db.Model):
    __tablename__ = "parcel_rates"
    __table_args__ = (
        UniqueConstraint("farm_id", "region", name="uq_parcel_rates_farm_region"),
        CheckConstraint("region IN ('bac_ninh', 'north', 'centre', 'south')", name="region"),
        CheckConstraint("fee_1kg_vnd >= 0 AND fee_3kg_vnd >= 0 AND fee_5kg_vnd >= 0 AND fee_10kg_vnd >= 0 "
                        "AND fee_20kg_vnd >= 0 AND per_kg_above_vnd >= 0", name="fees"),
        CheckConstraint("days_min >= 0 AND days_max >= days_min", name="days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(10))
    fee_1kg_vnd: Mapped[int] = mapped_column(BigInteger)
    fee_3kg_vnd: Mapped[int] = mapped_column(BigInteger)
    fee_5kg_vnd: Mapped[int] = mapped_column(BigInteger)
    fee_10kg_vnd: Mapped[int] = mapped_column(BigInteger)
    fee_20kg_vnd: Mapped[int] = mapped_column(BigInteger)
    per_kg_above_vnd: Mapped[int] = mapped_column(BigInteger)
    days_min: Mapped[int] = mapped_column(SmallInteger)
    days_max: Mapped[int] = mapped_column(SmallInteger)
