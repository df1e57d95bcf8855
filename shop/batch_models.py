"""Harvest batches: what a farm picked on one day from one plot, with the label code its stickers carry."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

MAX_PLOT = 120


class HarvestBatch(db.Model):
    __tablename__ = "harvest_batches"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    # Eight letters and digits that cannot be mistaken for one another, printed under each sticker's QR code.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    harvested_on: Mapped[date] = mapped_column(Date)
    plot: Mapped[str] = mapped_column(String(MAX_PLOT))
    quantity: Mapped[int] = mapped_column(Integer)  # in the product's unit
    # The VietGAP certificate number the farm names for this batch; shown as verified only while commune staff's
    # check of that certificate holds (shop/batches.py certificate_shown).
    vietgap_number: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    farm = relationship("Farm")
    product = relationship("Product")
