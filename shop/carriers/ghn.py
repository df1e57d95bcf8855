"""GHN (Giao Hàng Nhanh) as the parcel carrier: fee quotes at checkout, booking a farm order's pickup, and the
order's status (shop/carriers/ghn_api.py for the calls, ghn_places.py for GHN's address codes).

On by GHN_TOKEN and GHN_SHOP_ID (config.py). How it follows GHN's documents (api.ghn.vn/home/docs/detail):

- **Fee** (``POST /v2/shipping-order/fee``, headers Token and ShopId): ``service_type_id`` 2 (GHN's "Hàng nhẹ",
  standard parcels), ``to_district_id``/``to_ward_code`` of the destination, ``weight`` in grams, ``length``,
  ``width``, ``height`` in cm (we keep no box sizes: every parcel is declared as ``BOX_CM``), ``insurance_value``
  (the goods' value, at most GHN's 5,000,000 ₫) and ``cod_value`` 0 (the buyer has paid us). The fee is
  ``data.total``. The answer carries no days; GHN's ``/v2/shipping-order/leadtime`` needs a ``service_id`` from
  another call (``available-services``), so the days quoted are the cooperative's for the region
  (REGION_DAYS, as shop.delivery.DEFAULT_RATES) and the exact expected time comes with the booking.
- **Origin**: farms have no address of their own yet, so every parcel leaves from the cooperative's pickup
  address: the fee call names it by the Kép commune's GHN codes when ``flask ghn-places`` has mapped them, and
  otherwise sends no ``from_*`` fields (GHN then takes the shop's registered address); a booking gives the
  names in GHN_FROM_* (default: Xã Kép, Huyện Lạng Giang, Bắc Giang, as GHN's pre-2025 master data names it).
- **Booking** (``POST /v2/shipping-order/create``): ``payment_type_id`` 1 (the shop pays GHN; the buyer paid the
  delivery fee at checkout), ``required_note`` "CHOXEMHANGKHONGTHU" (the recipient may look, not try), no cash
  on delivery, the lines as ``items``; the answer's ``order_code`` and ``expected_delivery_time``.
- **Tracking** (``POST /v2/shipping-order/detail``): ``data.status``, one of ``STATUSES``; the same codes come by
  the status webhook (shop/shipping_views.py).

Where the documents are unclear (the 2025 address reform; see ghn_places.py), a destination GHN's master data
does not name unambiguously gets no quote (None), and shop.delivery prices it by the farm's table.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import places
from shop.carriers import ghn_api, ghn_places
from shop.carriers.base import Booking, Place, Quote

CODE = "ghn"
SERVICE_TYPE = 2  # GHN's "Hàng nhẹ" (light parcels); 5 is "Hàng nặng"
PAYER_SHOP = 1  # payment_type_id: 1 the shop (sender) pays, 2 the recipient pays
REQUIRED_NOTE = "CHOXEMHANGKHONGTHU"
BOX_CM = (30, 20, 20)  # length, width, height declared for every parcel
MAX_INSURANCE_VND = 5_000_000
MAX_WEIGHT_G = 50_000

# The days quoted, by region (core.places.REGIONS): the cooperative's (shop.delivery.DEFAULT_RATES; a test keeps
# the two the same; not imported from there, which imports this package).
REGION_DAYS = {"bac_ninh": (1, 2), "north": (2, 3), "centre": (3, 5), "south": (3, 6)}

# GHN's order statuses (its documents' list), as the buyer and the farmer read them.
STATUSES = {
    "ready_to_pick": _l("Waiting for GHN to pick it up"), "picking": _l("GHN is picking it up"),
    "money_collect_picking": _l("GHN is picking it up"), "picked": _l("Picked up by GHN"),
    "storing": _l("At a GHN depot"), "transporting": _l("On its way"), "sorting": _l("On its way"),
    "delivering": _l("Out for delivery"), "money_collect_delivering": _l("Out for delivery"),
    "delivered": _l("Delivered"), "delivery_fail": _l("Delivery failed; GHN will try again"),
    "waiting_to_return": _l("Being returned to the farm"), "return": _l("Being returned to the farm"),
    "return_transporting": _l("Being returned to the farm"), "return_sorting": _l("Being returned to the farm"),
    "returning": _l("Being returned to the farm"), "return_fail": _l("Being returned to the farm"),
    "returned": _l("Returned to the farm"), "cancel": _l("Cancelled at GHN"),
    "exception": _l("A problem at GHN; the cooperative is looking into it"),
    "damage": _l("Damaged at GHN; the cooperative is looking into it"),
    "lost": _l("Lost by GHN; the cooperative is looking into it"),
}
# From these on, the parcel has left the farm: the buyer is told once (shop/shipments.py).
SHIPPED = frozenset({"picked", "storing", "transporting", "sorting", "delivering", "money_collect_delivering",
                     "delivered", "delivery_fail"})


# Fees asked of GHN, kept a few minutes: checkout prices the cart several times (the live quote, the totals, the
# order placed), and the total the buyer saw must be the one charged. Refusals are not kept.
QUOTE_TTL_SECONDS = 600
_QUOTES: dict[tuple, tuple[float, Quote]] = {}
_QUOTES_LOCK = threading.Lock()


def forget_quotes() -> None:
    with _QUOTES_LOCK:
        _QUOTES.clear()


def _remembered(key: tuple) -> Quote | None:
    with _QUOTES_LOCK:
        found = _QUOTES.get(key)
    return found[1] if found is not None and found[0] > time.monotonic() else None


def _remember(key: tuple, quote: Quote) -> None:
    with _QUOTES_LOCK:
        if len(_QUOTES) > 2000:
            _QUOTES.clear()
        _QUOTES[key] = (time.monotonic() + QUOTE_TTL_SECONDS, quote)


def status_label(status: str | None) -> str:
    return str(STATUSES.get(status or "", status or ""))


@dataclass(frozen=True)
class Ghn:
    code: str = CODE

    def quote(self, origin: Place, destination: Place, weight_g: int, value_vnd: int) -> Quote | None:
        to = ghn_places.lookup(destination.commune_code)
        if to is None or weight_g > MAX_WEIGHT_G:
            return None
        body = {"service_type_id": SERVICE_TYPE, **_from_codes(origin), "to_district_id": to.district_id,
                "to_ward_code": to.ward_code, "weight": max(1, weight_g), **_box(),
                "insurance_value": min(max(0, value_vnd), MAX_INSURANCE_VND), "cod_value": 0, "coupon": None}
        key = tuple(sorted((name, value) for name, value in body.items() if name != "coupon"))
        remembered = _remembered(key)
        if remembered is not None:
            return remembered
        data = ghn_api.call("/v2/shipping-order/fee", body)
        total = data.get("total") if isinstance(data, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise ghn_api.GhnError("GHN's fee answer has no total")
        days_min, days_max = _region_days(destination.province_code)
        answer = Quote(total, days_min, days_max)
        _remember(key, answer)
        return answer

    def create_shipment(self, farm_order) -> Booking:
        order = farm_order.order
        to = ghn_places.lookup(order.ship_commune_code or 0)
        if to is None:
            raise ghn_api.GhnError(str(_l("GHN does not know this commune or ward yet: send this parcel another "
                                          "way.")))
        config = current_app.config
        goods = [line for line in farm_order.lines if line.product_id is not None]
        weight = sum((line.product.shipping_weight_g if line.product else 1000) * line.quantity for line in goods)
        body = {
            "payment_type_id": PAYER_SHOP, "note": (order.note or "")[:500], "required_note": REQUIRED_NOTE,
            "from_name": config["GHN_FROM_NAME"], "from_phone": config["GHN_FROM_PHONE"],
            "from_address": config["GHN_FROM_ADDRESS"], "from_ward_name": config["GHN_FROM_WARD_NAME"],
            "from_district_name": config["GHN_FROM_DISTRICT_NAME"],
            "from_province_name": config["GHN_FROM_PROVINCE_NAME"], "return_phone": config["GHN_FROM_PHONE"],
            "client_order_code": f"{order.reference}-{farm_order.id}", "to_name": order.ship_name,
            "to_phone": local_phone(order.ship_phone), "to_address": order.ship_address,
            "to_ward_code": to.ward_code,
            "to_district_id": to.district_id, "cod_amount": 0,
            "content": ", ".join(f"{line.name} x{line.quantity}" for line in goods)[:2000],
            "weight": max(1, min(weight, MAX_WEIGHT_G)), **_box(),
            "insurance_value": min(farm_order.subtotal_vnd, MAX_INSURANCE_VND), "service_type_id": SERVICE_TYPE,
            "items": [{"name": line.name[:200], "code": str(line.product_id), "quantity": line.quantity,
                       "price": line.unit_price_vnd,
                       "weight": line.product.shipping_weight_g if line.product else 1000} for line in goods],
        }
        data = ghn_api.call("/v2/shipping-order/create", body)
        code = data.get("order_code") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise ghn_api.GhnError("GHN's answer has no order_code")
        return Booking(code.strip()[:40], "ready_to_pick", parse_time(data.get("expected_delivery_time")))

    def track(self, code: str) -> str:
        data = ghn_api.call("/v2/shipping-order/detail", {"order_code": code})
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, str) or not status:
            raise ghn_api.GhnError("GHN's answer has no status")
        return status[:40]


def local_phone(phone: str | None) -> str:
    """A phone number as GHN takes it, 10 digits from 0: "+84 912 345 678" -> "0912345678"."""
    digits = re.sub(r"\D", "", phone or "")
    return "0" + digits[2:] if digits.startswith("84") and len(digits) == 11 else digits


def _box() -> dict:
    length, width, height = BOX_CM
    return {"length": length, "width": width, "height": height}


def _from_codes(origin: Place) -> dict:
    """The origin's GHN codes when mapped; none (GHN takes the shop's registered address) otherwise."""
    found = ghn_places.lookup(origin.commune_code)
    return {} if found is None else {"from_district_id": found.district_id, "from_ward_code": found.ward_code}


def _region_days(province_code: int) -> tuple[int, int]:
    return REGION_DAYS.get(places.region(province_code) or "south", REGION_DAYS["south"])


def parse_time(value) -> datetime | None:
    """GHN's times ("2020-06-03T16:00:00Z", with or without fractions or an offset) as naive UTC; None when
    absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
