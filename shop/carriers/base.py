"""The carrier seam's types (re-exported by shop.carriers): what an adapter takes and gives."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Place:
    """Where a parcel leaves from or goes to: core.places codes, and the street for the recipient's door."""
    province_code: int
    commune_code: int
    street: str = ""


@dataclass(frozen=True)
class Quote:
    fee_vnd: int
    days_min: int
    days_max: int


@dataclass(frozen=True)
class Booking:
    """A parcel booked: the carrier's tracking code, its first status, the delivery time it expects (UTC)."""
    code: str
    status: str
    expected_delivery_at: datetime | None = None


class CarrierError(Exception):
    """The carrier refused or could not be reached; ``message`` says why (the carrier's words when it gave any)."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.message, self.code = message, code


class Carrier(Protocol):
    code: str

    def quote(self, origin: Place, destination: Place, weight_g: int, value_vnd: int) -> Quote | None:
        """The fee and the days for one parcel; None when the carrier cannot price that destination; raises
        CarrierError when it refuses or cannot be reached."""

    def create_shipment(self, farm_order) -> Booking:
        """Book the pick-up of a paid farm order's parcel; raises CarrierError."""

    def track(self, code: str) -> str:
        """The parcel's status as the carrier words it."""
