"""The farmer's product forms. They read what was typed; the rules (ranges, lengths, photos) are in shop.services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from core.forms import Form, WholeNumberField
from core.labels import CATEGORIES, UNITS
from shop.models import DEFAULT_MAX_ORDER_QTY, MAX_PHOTOS
from shop.services import MAX_DESCRIPTION, MAX_NAME, ProductData

MONTHS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December"))

DEFAULT_WEIGHT_G = 1000


def _month(value) -> str:
    return "" if value in (None, "") else str(value)


def _month_choices() -> list[SelectChoice]:
    return [SelectChoice(str(number), label) for number, label in enumerate(MONTHS, 1)]


class ProductForm(Form):
    name = StringField(_l("Product name"), validators=[InputRequired(message=_l("Enter the name of the product."))],
                       render_kw={"maxlength": MAX_NAME, "autocomplete": "off"})
    description = TextAreaField(_l("Description"), render_kw={"rows": 6, "maxlength": MAX_DESCRIPTION})
    name_en = StringField(_l("Name in English (optional)"), render_kw={"maxlength": MAX_NAME, "autocomplete": "off"})
    description_en = TextAreaField(_l("Description in English (optional)"),
                                   render_kw={"rows": 6, "maxlength": MAX_DESCRIPTION})
    category = SelectField(_l("Category"), choices=[SelectChoice(v, label) for v, label in CATEGORIES.items()],
                           default="fresh")
    unit = SelectField(_l("Sold by"), choices=[SelectChoice(v, label) for v, label in UNITS.items()], default="kg")
    price_vnd = WholeNumberField(_l("Price per unit (đồng)"),
                                 validators=[InputRequired(message=_l("Enter the price."))])
    stock = WholeNumberField(_l("In stock now"), validators=[InputRequired(message=_l("Enter how many you have."))])
    min_order_qty = WholeNumberField(_l("Smallest order"), default=1,
                                     validators=[InputRequired(message=_l("Enter the smallest order."))])
    max_order_qty = WholeNumberField(
        _l("Most per order (optional)"), validators=[Optional()],
        description=_l("The most one order can take, so that one buyer who does not pay cannot hold all your "
                       "stock. Leave it empty for the usual %(num)d (or the smallest order, if that is larger).",
                       num=DEFAULT_MAX_ORDER_QTY))
    season_start = SelectField(_l("Season from"), coerce=_month, default="",
                               choices=[SelectChoice("", _l("All year")), *_month_choices()])
    season_end = SelectField(_l("Season until"), coerce=_month, default="",
                             choices=[SelectChoice("", "—"), *_month_choices()])
    shipping_weight_g = WholeNumberField(
        _l("Weight of one unit, packed (grams)"), default=DEFAULT_WEIGHT_G, validators=[Optional()],
        description=_l("Parcel fees go by weight: for example 1050 for 1 kg of pineapples with the box. "
                       "Left empty: 1000."))
    local_only = BooleanField(_l("Only picked up or delivered by my farm (never sent as a parcel)"),
                              description=_l("For fresh fruit that must not travel far."))

    def product_data(self) -> ProductData:
        return ProductData(
            name=self.name.data or "", description=self.description.data or "",
            category=self.category.data, unit=self.unit.data, price_vnd=self.price_vnd.data,
            stock=self.stock.data, min_order_qty=self.min_order_qty.data,
            season_start=int(self.season_start.data) if self.season_start.data else None,
            season_end=int(self.season_end.data) if self.season_end.data else None,
            max_order_qty=self.max_order_qty.data, name_en=self.name_en.data or "",
            description_en=self.description_en.data or "",
            shipping_weight_g=DEFAULT_WEIGHT_G if self.shipping_weight_g.data is None else self.shipping_weight_g.data,
            local_only=bool(self.local_only.data),
        )


class NewProductForm(ProductForm):
    photos = MultipleFileField(_l("Photos (up to %(max)d)", max=MAX_PHOTOS), render_kw={"accept": "image/*"})


