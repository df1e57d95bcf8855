"""Parcels handed to a carrier, and the carrier's own address codes.

A **shipment** is one farm order's parcel booked with a carrier (shop/shipments.py): the carrier's tracking code,
its status as the carrier words it (GHN: "ready_to_pick", "picking", "delivered"…; shop/carriers/ghn.py labels
them), the delivery time it expects, and when the buyer was told the parcel left. At most one per farm order.

A **carrier place** maps one of our communes (core.places codes, the list since 1 July 2025) to the carrier's
own codes (GHN: ProvinceID, DistrictID, WardCode). It is filled from the carrier's master data by
``flask ghn-places`` (shop/carriers/ghn_places.py); a commune without a row is priced by the farm's table.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.extensions import db
from core.time import utcnow


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("carrier", "code", name="uq_shipments_carrier_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_order_id: Mapped[int] = mapped_column(ForeignKey("farm_orders.id"), unique=True)
    carrier: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    expected_delivery_at: Mapped[datetime | None] = mapped_column(DateTime)
    shipped_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    farm_order = relationship("FarmOrder", backref=backref("shipment", uselist=False))


class CarrierPlace(db.Model):
    __tablename__ = "carrier_places"

    carrier: Mapped[str] = mapped_column(String(20), primary_key=True)
    commune_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer)
    ward_code: Mapped[str] = mapped_column(String(20))
    ward_name: Mapped[str] = mapped_column(String(120))
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
