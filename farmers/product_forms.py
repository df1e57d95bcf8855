"""The farmer's product forms. They read what was typed; the rules (ranges, lengths, photos) are in shop.services."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Optional

from core.forms import Form
from core.labels import CATEGORIES, UNITS
from shop.models import DEFAULT_MAX_ORDER_QTY, MAX_PHOTOS
from shop.services import MAX_DESCRIPTION, MAX_NAME, ProductData, Upload

MONTHS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December"))

_CURRENCY = re.compile(r"\s*(₫|đ|vnđ|vnd|đồng|dong)\s*$", re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+")
# Thousands grouped by one kind of separator: 25.000 / 25,000 / 25 000 (also the no-break spaces phones type).
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., \u00a0\u202f])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_NUMBERISH = re.compile(r"[0-9][0-9., \u00a0\u202f]*")
MAX_DIGITS = 15


class NumberNotUnderstood(ValueError):
    pass


def parse_whole_number(raw: str) -> int:
    """A whole number as a Vietnamese user types it: "25000", "25.000", "25,000", "25 000", "25.000 đ".

    A minus sign is kept (the rules then say what is wrong with a negative number); decimals and anything else
    raise NumberNotUnderstood with a message for the user."""
    text = _CURRENCY.sub("", (raw or "").strip())
    sign = 1
    if text[:1] in ("-", "−"):
        sign, text = -1, text[1:].strip()
    if _PLAIN.fullmatch(text) or _GROUPED.fullmatch(text):
        digits = re.sub(r"[^0-9]", "", text)
        if len(digits) > MAX_DIGITS:
            raise NumberNotUnderstood(_l("This number is far too large. Please check it."))
        return sign * int(digits)
    if _NUMBERISH.fullmatch(text):
        raise NumberNotUnderstood(_l("Enter a whole number, without decimals, for example 25000 or 25.000."))
    raise NumberNotUnderstood(_l("Enter a number, for example 25000."))


class WholeNumberField(StringField):
    """A text input (``inputmode="numeric"``: phones show the number pad) read with ``parse_whole_number``.

    Not ``type="number"``: browsers refuse "25.000" there, the way many Vietnamese users write prices."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "numeric", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_whole_number(valuelist[0])
            except NumberNotUnderstood as error:
                raise ValueError(error.args[0]) from error

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def _month(value) -> str:
    return "" if value in (None, "") else str(value)


def _month_choices() -> list[SelectChoice]:
    return [SelectChoice(str(number), label) for number, label in enumerate(MONTHS, 1)]


class ProductForm(Form):
    name = StringField(_l("Product name"), validators=[InputRequired(message=_l("Enter the name of the product."))],
                       render_kw={"maxlength": MAX_NAME, "autocomplete": "off"})
    description = TextAreaField(_l("Description"), render_kw={"rows": 6, "maxlength": MAX_DESCRIPTION})
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

    def product_data(self) -> ProductData:
        return ProductData(
            name=self.name.data or "", description=self.description.data or "",
            category=self.category.data, unit=self.unit.data, price_vnd=self.price_vnd.data,
            stock=self.stock.data, min_order_qty=self.min_order_qty.data,
            season_start=int(self.season_start.data) if self.season_start.data else None,
            season_end=int(self.season_end.data) if self.season_end.data else None,
            max_order_qty=self.max_order_qty.data,
        )


def uploads(files) -> list[Upload]:
    """The files actually chosen (a browser sends an empty part when none is)."""
    return [Upload(f.filename, f.stream) for f in files or () if getattr(f, "filename", None)]


class NewProductForm(ProductForm):
    photos = MultipleFileField(_l("Photos (up to %(max)d)", max=MAX_PHOTOS), render_kw={"accept": "image/*"})


class AddPhotosForm(Form):
    photos = MultipleFileField(_l("Add photos"), render_kw={"accept": "image/*"})


class MovePhotoForm(Form):
    to = StringField(validators=[AnyOf(("up", "first"))])


class ActionForm(Form):
    """A button that changes something (pause, resume, delete, remove a photo): only the CSRF token."""
