"""Parcels booked with the carrier (shop.carriers): the farmer books a paid farm order's pickup, the carrier's
status webhook moves it on, and the buyer is told once when it has left the farm.

Booking locks the farm order, checks it is still a paid (or ready) parcel with nothing booked, asks the carrier,
and only then writes the shipment: a refusal or a timeout leaves nothing behind, and the farmer reads why. The
carrier's code is unique; a second click finds the shipment and books nothing. The farm order's own status
(paid, ready, completed) stays the farmer's to move: a delivered parcel does not complete it by itself.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit
from core.domain import DomainError
from core.extensions import db
from shop import carriers, notices
from shop.order_models import FarmOrder
from shop.shipment_models import Shipment

BOOKABLE_STATUSES = ("paid", "ready")


class CannotShip(DomainError):
    """The parcel cannot be booked (the farmer's message); nothing was written."""


def bookable(farm_order) -> bool:
    """Whether the farm order is a paid parcel with nothing booked yet (the button shows when a carrier is on)."""
    return (farm_order.status in BOOKABLE_STATUSES and farm_order.fulfilment == "delivery"
            and farm_order.delivery_method == "parcel" and bool(farm_order.order.ship_street)
            and shipment_of(farm_order) is None)


def shipment_of(farm_order) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.farm_order_id == farm_order.id))


def book(farm_order, actor, now: datetime, *, on_behalf_of=None) -> Shipment:
    """Book the pickup of the farm order's parcel with the configured carrier; CannotShip when it cannot be."""
    carrier = carriers.configured()
    if carrier is None:
        raise CannotShip(_l("No carrier is connected. Send this parcel yourself."))
    db.session.scalar(select(FarmOrder.id).where(FarmOrder.id == farm_order.id).with_for_update())
    db.session.refresh(farm_order)
    if shipment_of(farm_order) is not None:
        raise CannotShip(_l("This parcel is already booked. Nothing was changed."))
    if not bookable(farm_order):
        raise CannotShip(_l("Only a paid order sent as a parcel can be booked with the carrier."))
    try:
        booking = carrier.create_shipment(farm_order)
    except carriers.CarrierError as error:
        current_app.logger.warning("%s refused farm order %s: %s", carrier.code, farm_order.id, error.message)
        raise CannotShip(_l("%(carrier)s did not take the parcel: %(reason)s. Nothing was booked; check the "
                            "address with the buyer or try again later.", carrier=carrier.code.upper(),
                            reason=error.message)) from None
    shipment = Shipment(farm_order_id=farm_order.id, carrier=carrier.code, code=booking.code, status=booking.status,
                        expected_delivery_at=booking.expected_delivery_at, created_at=now, updated_at=now)
    db.session.add(shipment)
    db.session.flush()
    audit.record("shipment.booked", "farm_order", farm_order.id, actor=actor, on_behalf_of=on_behalf_of,
                 details={"carrier": carrier.code, "code": booking.code})
    return shipment


def update_status(carrier_code: str, code: str, status: str, now: datetime, *,
                  shipped_statuses=frozenset()) -> Shipment | None:
    """The carrier reports a parcel's status; the shipment, or None when it is not ours. The buyer is told once,
    the first time the status is one of ``shipped_statuses``."""
    shipment = db.session.scalar(select(Shipment).where(Shipment.carrier == carrier_code, Shipment.code == code)
                                 .with_for_update())
    if shipment is None:
        return None
    if shipment.status != status:
        audit.record("shipment.status", "farm_order", shipment.farm_order_id, actor_label=f"webhook:{carrier_code}",
                     from_state=shipment.status, to_state=status, details={"code": code})
        shipment.status = status
        shipment.updated_at = now
    if status in shipped_statuses and shipment.shipped_notified_at is None:
        shipment.shipped_notified_at = now
        notices.order_shipped(shipment.farm_order, shipment)
    return shipment
