"""The base form: WTForms' own messages translated through our catalogue.

WTForms ships no Vietnamese; its built-in messages are listed here so that
``pybabel extract`` puts them in our catalogue, and the forms look them up there.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm

WTFORMS_MESSAGES = (
    _l("This field is required."), _l("Not a valid choice."), _l("Invalid Choice: could not coerce."),
    _l("Not a valid integer value."), _l("Not a valid decimal value."), _l("Not a valid float value."),
    _l("Not a valid date value."), _l("Not a valid datetime value."), _l("Not a valid time value."),
    _l("Invalid input."), _l("Invalid email address."), _l("Invalid URL."),
    _l("Number must be at least %(min)s."), _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."), _l("Field must be equal to %(other_name)s."),
    _l("This field cannot be edited."), _l("This field is disabled and cannot have a value."),
    _l("File does not have an approved extension."),
)


class _Translations:
    def gettext(self, string):
        return gettext(string)

    def ngettext(self, singular, plural, n):
        return ngettext(singular, plural, n)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _Translations()
