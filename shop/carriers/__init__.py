"""The seam for a parcel carrier (GHN, GHTK, Viettel Post…): one adapter module per carrier, implementing
``Carrier``, chosen by ``configured()``.

When a carrier is configured, shop.delivery prices parcels with its ``quote``; otherwise with the farm's own
parcel table. No adapter is wired yet, so ``configured()`` returns None and every parcel is priced by the
farm's table. An adapter must not be called while checkout holds row locks for long: ``quote`` runs before
the stock is reserved (shop/checkout.py), and ``create_shipment`` belongs on the after-commit queue.
"""
from __future__ import annotations

from dataclasses import dataclass
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


class Carrier(Protocol):
    code: str

    def quote(self, origin: Place, destination: Place, weight_g: int, value_vnd: int) -> Quote | None:
        """The fee and the days for one parcel; None when the carrier does not serve that destination."""

    def create_shipment(self, farm_order) -> str:
        """Book the pick-up of a paid farm order's parcel; the carrier's tracking code."""

    def track(self, code: str) -> str:
        """The parcel's status as the carrier words it."""


def configured() -> Carrier | None:
    """The carrier to use, or None: prices come from the farm's parcel table."""
    return None
