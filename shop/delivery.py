"""How an order reaches the buyer, farm by farm: the ways a farm offers (pick up at the farm, at the commune
office, or delivered by the farm) and what delivery costs. A new way or a new rule for the fee (by province,
by weight, a carrier's quote) goes here; checkout, its form and the totals all ask these two functions."""
from __future__ import annotations

from shop.order_models import FULFILMENTS


def fulfilment_choices(farm) -> tuple[str, ...]:
    return FULFILMENTS if farm.offers_delivery else ("farm_pickup", "commune_pickup")


def delivery_fee(farm, fulfilment: str) -> int:
    return farm.delivery_fee_vnd if fulfilment == "delivery" else 0
