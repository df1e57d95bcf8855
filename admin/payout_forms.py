"""The staff form that records a payout to a farm."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import InputRequired, Length

from core.forms import Form, WholeNumberField


class PayoutForm(Form):
    amount_vnd = WholeNumberField(_l("Amount transferred (đồng)"),
                                  validators=[InputRequired(message=_l("Enter the amount transferred."))])
    paid_on = DateField(_l("Transfer date"), validators=[InputRequired(message=_l("Enter the transfer date."))])
    bank_reference = StringField(_l("Bank transfer reference"), validators=[
        InputRequired(message=_l("Enter the bank transfer's reference.")), Length(max=60)])
    # One token per form shown: submitting the same form twice records one payout.
    form_token = HiddenField()
