"""The buttons on a farm order: each a small POST form with its CSRF token; cancelling also asks why.

The rules themselves (which step may follow which, the refund) are in shop.payments.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from core.forms import Form

# Why a farm cancels a paid order. The code is stored on the refund (farm_<code>, at most 40 characters).
CANCEL_REASONS = {
    "sold_out": _l("I do not have enough of the product any more"),
    "cannot_prepare": _l("I cannot prepare or deliver it in time"),
    "buyer_asked": _l("The buyer asked to cancel"),
    "other": _l("Another reason"),
}


class StepForm(Form):
    """"Ready" or "Picked up / delivered": only the CSRF token (checked by CSRFProtect before the view)."""


class CancelForm(StepForm):
    reason = RadioField(_l("Why are you cancelling?"),
                        choices=[SelectChoice(code, label) for code, label in CANCEL_REASONS.items()],
                        validators=[InputRequired(message=_l("Please choose why you are cancelling."))])

    @property
    def refund_reason(self) -> str:
        return f"farm_{self.reason.data}"
