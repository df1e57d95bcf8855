"""The seam for a parcel carrier (GHN, GHTK, Viettel Post…): one adapter module per carrier, implementing
``Carrier``, chosen by ``configured()``.

When a carrier is configured, shop.delivery prices parcels with its ``quote``; otherwise, and whenever the
carrier gives no quote (None: it cannot price that address) or fails (``CarrierError``: refused, timed out),
with the farm's own parcel table. One adapter: GHN (shop/carriers/ghn.py), on while GHN_TOKEN and GHN_SHOP_ID
are set. An adapter must not be called while checkout holds row locks for long: ``quote`` runs before
the stock is reserved (shop/checkout.py); ``create_shipment`` runs when the farmer books a parcel
(shop/shipments.py), with only that farm order's row locked.
"""
from __future__ import annotations

from flask import current_app, has_app_context

from shop.carriers.base import Booking, Carrier, CarrierError, Place, Quote

__all__ = ["Booking", "Carrier", "CarrierError", "Place", "Quote", "configured"]


def configured() -> Carrier | None:
    """The carrier to use, or None: prices come from the farm's parcel table."""
    if not has_app_context():
        return None
    from shop.carriers import ghn, ghn_api  # here: GHN's modules are loaded only where a carrier is asked for

    return ghn.Ghn() if ghn_api.configured(current_app.config) else None
