"""The farmer's delivery settings form: local delivery, then the parcel table (one row per region, one column
per weight band). It reads what was typed; the rules are in shop.delivery_rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from core import inputs, places
from core.forms import Form, WholeNumberField
from shop.delivery import Rate
from shop.delivery_models import BANDS_G
from shop.delivery_rules import Rules

REGION_LABELS = {"bac_ninh": _l("Bắc Ninh"), "north": _l("The North"), "centre": _l("The Centre"),
                 "south": _l("The South")}


def _number(label):
    return WholeNumberField(label, validators=[InputRequired(message=_l("Enter a whole number."))])


class DeliveryForm(Form):
    offers_delivery = BooleanField(_l("I deliver myself to nearby communes"))
    delivery_fee_vnd = _number(_l("Fee for my own delivery (đồng)"))
    local_communes = SelectMultipleField(_l("Communes I deliver to"), validate_choice=False, coerce=str)
    local_days_min = _number(_l("Fewest days"))
    local_days_max = _number(_l("Most days"))
    ships_parcels = BooleanField(_l("I send parcels to any province"))

    def rules(self) -> Rules:
        rates = {}
        for region in places.REGION_CODES:
            rates[region] = Rate(tuple(self[f"{region}_{i}"].data for i in range(len(BANDS_G))),
                                 self[f"{region}_per_kg"].data, self[f"{region}_days_min"].data,
                                 self[f"{region}_days_max"].data)
        codes = [inputs.parse_id(code) or -1 for code in self.local_communes.data or []]
        return Rules(bool(self.offers_delivery.data), self.delivery_fee_vnd.data, codes, self.local_days_min.data,
                     self.local_days_max.data, bool(self.ships_parcels.data), rates)


for _region in places.REGION_CODES:
    for _i, _band in enumerate(BANDS_G):
        setattr(DeliveryForm, f"{_region}_{_i}", _number(_l("Up to %(kg)d kg", kg=_band // 1000)))
    setattr(DeliveryForm, f"{_region}_per_kg", _number(_l("Each kg above 20 kg")))
    setattr(DeliveryForm, f"{_region}_days_min", _number(_l("Fewest days")))
    setattr(DeliveryForm, f"{_region}_days_max", _number(_l("Most days")))


def delivery_form(rules: Rules, formdata=None) -> DeliveryForm:
    """The form filled with the farm's rules (or with what was sent)."""
    data = {"offers_delivery": rules.offers_delivery, "delivery_fee_vnd": rules.delivery_fee_vnd,
            "local_communes": [str(code) for code in rules.local_communes], "local_days_min": rules.local_days_min,
            "local_days_max": rules.local_days_max, "ships_parcels": rules.ships_parcels}
    for region, rate in rules.rates.items():
        data.update({f"{region}_{i}": fee for i, fee in enumerate(rate.fees)})
        data.update({f"{region}_per_kg": rate.per_kg_above_vnd, f"{region}_days_min": rate.days_min,
                     f"{region}_days_max": rate.days_max})
    form = DeliveryForm(formdata=formdata, data=data) if formdata is not None else DeliveryForm(formdata=None,
                                                                                                 data=data)
    form.local_communes.choices = [SelectChoice(str(c.code), c.name) for c in places.communes(places.HOME_PROVINCE)]
    return form
