"""How an order reaches the buyer, farm by farm: the ways a farm offers (pick up at the farm, at the commune
office, or delivered to an address) and what delivery costs and how long it takes. Checkout, its form, its
live quote and the totals all ask this module; nothing else prices delivery.

A farm's "delivery" is one of two, chosen by the address, never by the buyer:
- **local**: the farm brings it itself (``farm.offers_delivery``) to the communes it lists
  (``farm.local_communes``; none listed: its own commune, Kép), for ``farm.delivery_fee_vnd``, in
  ``local_days_min``..``local_days_max`` days;
- **parcel**: sent to any province (``farm.ships_parcels``), priced by a carrier when one is configured
  (shop.carriers: GHN) and can price the address, else (and whenever the carrier fails) by the farm's
  table (shop.delivery_models.ParcelRate, or the cooperative's ``DEFAULT_RATES`` for a region the farm has
  not set) from the weight of that farm's part of the cart and the region of the province
  (core.places.REGIONS). A product marked local-only (fresh fruit) is never
  sent as a parcel.
Local wins when both apply. A part of the cart with only visits is received at the farm: nothing is asked.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import places
from core.domain import DomainError
from core.extensions import db
from shop import carriers
from shop.delivery_models import BAND_COLUMNS, BANDS_G, ParcelRate
from shop.order_models import FULFILMENTS

PICKUPS = ("farm_pickup", "commune_pickup")
EXTRA_KG_ABOVE_G = BANDS_G[-1]


@dataclass(frozen=True)
class Rate:
    """One region's row of a parcel table: fees for the bands of BANDS_G, the rate per started kg above the
    last band, the days."""
    fees: tuple[int, ...]
    per_kg_above_vnd: int
    days_min: int
    days_max: int

    @classmethod
    def of(cls, row: ParcelRate) -> "Rate":
        return cls(tuple(getattr(row, column) for column in BAND_COLUMNS), row.per_kg_above_vnd, row.days_min,
                   row.days_max)


# The cooperative's defaults (VND, as the post office's and the carriers' counter prices for a parcel from
# Bắc Ninh ran in 2025), for a farm that has not set its own table.
DEFAULT_RATES: dict[str, Rate] = {
    "bac_ninh": Rate((20000, 25000, 30000, 40000, 60000), 3000, 1, 2),
    "north": Rate((25000, 35000, 45000, 65000, 100000), 5000, 2, 3),
    "centre": Rate((35000, 50000, 65000, 95000, 150000), 7000, 3, 5),
    "south": Rate((40000, 60000, 80000, 115000, 180000), 8000, 3, 6),
}


@dataclass(frozen=True)
class Destination:
    """Where to deliver: whom, their phone, the province and commune (core.places codes), the street and
    house number."""
    recipient: str
    phone: str
    province_code: int
    commune_code: int
    street: str

    @property
    def located(self) -> bool:
        """Enough to price and reach: a commune of the province, and a street."""
        return bool(self.street.strip()) and places.commune_in(self.province_code, self.commune_code) is not None

    @property
    def complete(self) -> bool:
        """Enough to hand the goods over: located, and whom to give them to."""
        return self.located and bool(self.recipient.strip() and self.phone.strip())


@dataclass(frozen=True)
class DeliveryQuote:
    method: str  # "local" or "parcel"
    fee_vnd: int
    days_min: int
    days_max: int


class NoDelivery(DomainError):
    """This farm cannot deliver this part of the cart to this address (the buyer's message)."""


def fulfilment_choices(farm) -> tuple[str, ...]:
    return FULFILMENTS if farm.offers_delivery or farm.ships_parcels else PICKUPS


def needs_receiving(lines) -> bool:
    """Whether the buyer must say how to receive this part of the cart: it holds goods, not only visits."""
    return any(line.product is not None for line in lines)


def parcel_weight_g(lines) -> int:
    return sum(line.product.shipping_weight_g * line.quantity for line in lines if line.product is not None)


def local_communes(farm) -> list[int]:
    return farm.local_communes or [places.HOME_COMMUNE]


def rates_for(farm) -> dict[str, Rate]:
    """The farm's parcel table, the cooperative's row for each region it has not set."""
    rows = db.session.scalars(select(ParcelRate).where(ParcelRate.farm_id == farm.id)).all() if farm.id else []
    return {**DEFAULT_RATES, **{row.region: Rate.of(row) for row in rows}}


def band_fee(rate: Rate, weight_g: int) -> int:
    """The fee for a parcel of ``weight_g``: the first band it fits in, or the last band's fee plus the rate
    for each started kilogram above it.

    >>> band_fee(DEFAULT_RATES["north"], 2500), band_fee(DEFAULT_RATES["north"], 20001)
    (35000, 105000)
    """
    for limit, fee in zip(BANDS_G, rate.fees):
        if weight_g <= limit:
            return fee
    extra_kg = -(-(weight_g - EXTRA_KG_ABOVE_G) // 1000)
    return rate.fees[-1] + extra_kg * rate.per_kg_above_vnd


def quote(farm, lines, destination: Destination | None) -> DeliveryQuote:
    """How this farm delivers ``lines`` (its part of the cart) to ``destination``, and for what; NoDelivery
    with the reason when it cannot."""
    if destination is None or not destination.located:
        raise NoDelivery(_l("Enter the delivery address: province, commune or ward, street and house number."))
    if farm.offers_delivery and destination.commune_code in local_communes(farm):
        return DeliveryQuote("local", farm.delivery_fee_vnd, farm.local_days_min, farm.local_days_max)
    if not farm.ships_parcels:
        raise NoDelivery(_l("%(farm)s delivers only nearby, not to this commune. Please choose to pick up.",
                            farm=farm.name))
    local_only = [line.product.name for line in lines if line.product is not None and line.product.local_only]
    if local_only:
        raise NoDelivery(_l("%(products)s can only be delivered nearby by the farm, not sent as a parcel.",
                            products=", ".join(local_only)))
    weight = parcel_weight_g(lines)
    answer = carrier_quote(destination, weight, sum(line.total_vnd for line in lines))
    if answer is not None:
        return DeliveryQuote("parcel", answer.fee_vnd, answer.days_min, answer.days_max)
    rate = rates_for(farm)[places.region(destination.province_code)]
    return DeliveryQuote("parcel", band_fee(rate, weight), rate.days_min, rate.days_max)


def carrier_quote(destination: Destination, weight_g: int, value_vnd: int):
    """The configured carrier's quote, or None: no carrier, it cannot price this address, or it failed (refused,
    timed out: logged). None means the farm's table prices the parcel; checkout never fails on a carrier.
    Parcels leave from the cooperative at Kép (farms have no address of their own yet)."""
    carrier = carriers.configured()
    if carrier is None:
        return None
    origin = carriers.Place(places.HOME_PROVINCE, places.HOME_COMMUNE)
    to = carriers.Place(destination.province_code, destination.commune_code, destination.street)
    try:
        return carrier.quote(origin, to, weight_g, value_vnd)
    except carriers.CarrierError as error:
        current_app.logger.warning("%s gave no quote (the farm's table prices it): %s", carrier.code, error.message)
        return None


def try_quote(farm, lines, fulfilment: str, destination: Destination | None):
    """(quote or None, the reason or None) for a chosen way: no quote and no reason for a pick-up."""
    if fulfilment != "delivery":
        return None, None
    try:
        return quote(farm, lines, destination), None
    except NoDelivery as error:
        return None, error.message
