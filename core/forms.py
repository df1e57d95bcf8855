"""What every domain's forms share: the base form (WTForms' own messages translated through our catalogue),
whole numbers as Vietnamese users type them, the photo and one-button forms, and ``show_error``.

WTForms ships no Vietnamese; its built-in messages are listed here so that
``pybabel extract`` puts them in our catalogue, and the forms look them up there.
"""
from __future__ import annotations

import re

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import (
    lazy_ngettext as ngettext,  # named so that ``pybabel extract`` finds the plurals below
)
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField
from wtforms.validators import AnyOf

from core.gallery import Upload

WTFORMS_MESSAGES = (
    _l("This field is required."), _l("Not a valid choice."), _l("Invalid Choice: could not coerce."),
    _l("Not a valid integer value."), _l("Not a valid decimal value."), _l("Not a valid float value."),
    _l("Not a valid date value."), _l("Not a valid datetime value."), _l("Not a valid time value."),
    _l("Invalid input."), _l("Invalid email address."), _l("Invalid URL."),
    _l("Number must be at least %(min)s."), _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."), _l("Field must be equal to %(other_name)s."),
    _l("This field cannot be edited."), _l("This field is disabled and cannot have a value."),
    _l("File does not have an approved extension."),
    _l("Field must be between %(min)d and %(max)d characters long."),
)
# Never formatted here (WTForms does it): only listed, for the catalogue.
WTFORMS_PLURAL_MESSAGES = (
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    ngettext("'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.",
             1),
)


class _Translations:
    """WTForms' messages looked up in our catalogue and returned unformatted: WTForms fills in their
    ``%(min)s``, ``%(max)d``, ``%(value)s``... itself (flask-babel's gettext/ngettext would format them
    with only ``num`` and raise KeyError)."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Translations()


def show_error(form, error) -> None:
    """Show a ``DomainError`` on the form being re-rendered (beside its field when it names one of the form's
    fields, else above the form) and mark the request failed, so that nothing it changed is kept."""
    from core import transactions

    transactions.fail()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


# --- whole numbers ----------------------------------------------------------------------------------------

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




def uploads(files) -> list[Upload]:
    """The files actually chosen (a browser sends an empty part when none is)."""
    return [Upload(f.filename, f.stream) for f in files or () if getattr(f, "filename", None)]




class AddPhotosForm(Form):
    photos = MultipleFileField(_l("Add photos"), render_kw={"accept": "image/*"})


class MovePhotoForm(Form):
    to = StringField(validators=[AnyOf(("up", "first"))])


class ActionForm(Form):
    """A button that changes something (pause, resume, delete, remove a photo): only the CSRF token."""
