"""The base form: WTForms' own messages translated through our catalogue.

WTForms ships no Vietnamese; its built-in messages are listed here so that
``pybabel extract`` puts them in our catalogue, and the forms look them up there.
"""
from __future__ import annotations

from flask_babel import get_translations, lazy_gettext as _l
from flask_babel import lazy_ngettext as ngettext  # named so that ``pybabel extract`` finds the plurals below
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
