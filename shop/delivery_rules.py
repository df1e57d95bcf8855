"""A farm's delivery rules, as the farmer (or staff acting for the farm) sets them: local delivery (on or off,
the communes of Bắc Ninh it reaches, its fee and days) and parcel shipping (on or off, and the table of fees
by weight band and region with the days per region). Checked here, saved at once, audited; shop.delivery
reads them."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, places
from core.domain import DomainError
from core.extensions import db
from shop.delivery import DEFAULT_RATES, Rate, rates_for
from shop.delivery_models import BAND_COLUMNS, ParcelRate

MAX_FEE_VND = 5_000_000
MAX_DAYS = 60


class DeliveryRuleError(DomainError):
    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Rules:
    offers_delivery: bool
    delivery_fee_vnd: int
    local_communes: list[int]
    local_days_min: int
    local_days_max: int
    ships_parcels: bool
    rates: dict[str, Rate]


def current(farm) -> Rules:
    return Rules(farm.offers_delivery, farm.delivery_fee_vnd, farm.local_communes, farm.local_days_min,
                 farm.local_days_max, farm.ships_parcels, rates_for(farm))


def _fee(value, field: str) -> None:
    if type(value) is not int or not 0 <= value <= MAX_FEE_VND:
        raise DeliveryRuleError(_l("Enter a fee from 0 to 5,000,000 đồng."), field)


def _days(low, high, field: str) -> None:
    for value in (low, high):
        if type(value) is not int or not 0 <= value <= MAX_DAYS:
            raise DeliveryRuleError(_l("Enter a number of days from 0 to 60."), field)
    if low > high:
        raise DeliveryRuleError(_l("The fewest days cannot be more than the most days."), field)


def check(rules: Rules) -> None:
    """DeliveryRuleError(field=...) for the first rule broken."""
    _fee(rules.delivery_fee_vnd, "delivery_fee_vnd")
    _days(rules.local_days_min, rules.local_days_max, "local_days_min")
    nearby = {c.code for c in places.communes(places.HOME_PROVINCE)}
    if any(code not in nearby for code in rules.local_communes):
        raise DeliveryRuleError(_l("Choose communes of Bắc Ninh from the list."), "local_communes")
    for region in places.REGION_CODES:
        rate = rules.rates[region]
        for index, fee in enumerate(rate.fees):
            _fee(fee, f"{region}_{index}")
        if any(later < earlier for earlier, later in zip(rate.fees, rate.fees[1:])):
            raise DeliveryRuleError(_l("A heavier parcel cannot cost less than a lighter one."), f"{region}_0")
        _fee(rate.per_kg_above_vnd, f"{region}_per_kg")
        _days(rate.days_min, rate.days_max, f"{region}_days_min")


def save(actor, farm, rules: Rules) -> None:
    """Check and keep the rules (the caller commits); DeliveryRuleError changes nothing."""
    check(rules)
    farm.offers_delivery, farm.delivery_fee_vnd = bool(rules.offers_delivery), rules.delivery_fee_vnd
    farm.local_commune_codes = " ".join(str(code) for code in sorted(set(rules.local_communes)))
    farm.local_days_min, farm.local_days_max = rules.local_days_min, rules.local_days_max
    farm.ships_parcels = bool(rules.ships_parcels)
    rows = {row.region: row for row in db.session.scalars(select(ParcelRate).where(ParcelRate.farm_id == farm.id))}
    for region in places.REGION_CODES:
        rate = rules.rates[region]
        row = rows.get(region) or ParcelRate(farm_id=farm.id, region=region)
        for column, fee in zip(BAND_COLUMNS, rate.fees):
            setattr(row, column, fee)
        row.per_kg_above_vnd, row.days_min, row.days_max = rate.per_kg_above_vnd, rate.days_min, rate.days_max
        db.session.add(row)
    db.session.flush()
    audit.record("farm.delivery_rules", "farm", farm.id, actor=actor, details={
        "local": farm.offers_delivery, "fee_vnd": farm.delivery_fee_vnd, "communes": farm.local_commune_codes,
        "parcels": farm.ships_parcels})


__all__ = ["DEFAULT_RATES", "DeliveryRuleError", "Rules", "check", "current", "save"]
