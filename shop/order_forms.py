"""The checkout form: contact, how each farm's part is received, a note, the payment method,
and the hidden fields that say what the buyer saw (the goods total, each farm's delivery fee)
and which checkout page this is (the token that makes a double click place one order)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from core import inputs
from core.forms import Form
from core.labels import FULFILMENTS
from core.validators import MobileNumber
from shop import delivery


def _whole_number(raw) -> int | None:
    return inputs.parse_int(raw, max_digits=15)


class CheckoutForm(Form):
    name = StringField(_l("Full name"), validators=[
        DataRequired(message=_l("Enter your name.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])
    phone = TelField(_l("Mobile phone"), validators=[
        DataRequired(message=_l("Enter your mobile number.")), MobileNumber()])
    # Optional: buyers without e-mail get their order messages on the phone (core/messages.Recipient.buyer_of).
    email = EmailField(_l("Email (optional)"), validators=[
        Optional(),
        Email(message=_l("Enter a valid email address, for example ten@gmail.com."), check_deliverability=False),
        Length(max=254)])
    note = TextAreaField(_l("Note for the farms (optional)"), validators=[
        Optional(), Length(max=1000, message=_l("The note is too long (at most %(max)d characters)."))])
    payment_method = RadioField(_l("How do you want to pay?"), validators=[
        InputRequired(message=_l("Choose how to pay."))])
    # The goods total the page showed; the delivery fees shown are in fee_<farm id>.
    shown_total = HiddenField()
    checkout_token = HiddenField()

    def fulfilment(self, farm):
        return self[f"fulfilment_{farm.id}"]

    def fee(self, farm):
        return self[f"fee_{farm.id}"]

    def chosen_fulfilments(self, farms) -> dict[int, str]:
        return {farm.id: self.fulfilment(farm).data for farm in farms}

    def confirmed_total(self, farms) -> int:
        """What the buyer agreed to pay: the goods total shown plus the fee shown for each delivery chosen.

        -1 when a hidden field is missing or not a whole number, which never matches a real total.
        """
        total = _whole_number(self.shown_total.data)
        if total is None:
            return -1
        for farm in farms:
            if self.fulfilment(farm).data == "delivery":
                fee = _whole_number(self.fee(farm).data)
                if fee is None:
                    return -1
                total += fee
        return total

    def show(self, cart, token: str) -> None:
        """Fill the hidden fields with what this rendering of the page shows."""
        self.shown_total.data = str(cart.total_vnd)
        for farm, _lines in cart.by_farm():
            self.fee(farm).data = str(delivery.delivery_fee(farm, "delivery") if farm.offers_delivery else 0)
        self.checkout_token.data = token


def checkout_form(farms, *, providers, **defaults) -> CheckoutForm:
    """The form for this cart: one fulfilment choice per farm, offering delivery only where the farm does."""

    class _CheckoutForm(CheckoutForm):
        pass

    for farm in farms:
        choices = [SelectChoice(choice, FULFILMENTS[choice]) for choice in delivery.fulfilment_choices(farm)]
        setattr(_CheckoutForm, f"fulfilment_{farm.id}", RadioField(
            _l("How do you want to receive it?"), choices=choices, default="farm_pickup",
            validators=[InputRequired(message=_l("Choose how to receive the order."))]))
        setattr(_CheckoutForm, f"fee_{farm.id}", HiddenField())
    form = _CheckoutForm(**defaults)
    form.payment_method.choices = [SelectChoice(provider.code, provider.checkout_label) for provider in providers]
    if form.payment_method.data is None and providers:
        form.payment_method.data = providers[0].code  # nothing chosen yet: the first enabled provider
    return form
