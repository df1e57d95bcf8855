"""The checkout form: contact, how each farm's part is received (asked only of a part with goods), the
delivery address (a saved one, or province, commune and street), a note, the payment method, and the hidden
fields that say what the buyer saw (the goods total, the delivery fee shown for each farm's part) and which
checkout page this is (the token that makes a double click place one order).

The fee fields hold the fee the page showed for the way and the address it showed, whatever is chosen when
the form comes back: a choice changed without the page (or its script) showing the new total makes
``confirmed_total`` differ from the real one, and checkout shows the total again instead of placing."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from core import inputs
from core.forms import Form
from core.labels import FULFILMENTS
from core.validators import MobileNumber
from shop import delivery
from shop.address_forms import AddressFields


def _whole_number(raw) -> int | None:
    return inputs.parse_int(raw, max_digits=15)


class CheckoutForm(Form, AddressFields):
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
    # A saved address's id, or "new" for the fields below (only for a buyer with saved addresses).
    address_id = RadioField(_l("Deliver to"), validate_choice=False, default="new")
    save_address = BooleanField(_l("Save this address on my account"))

    def fulfilment(self, farm):
        return self[f"fulfilment_{farm.id}"]

    def fee(self, farm):
        return self[f"fee_{farm.id}"]

    def chosen_fulfilments(self, farms) -> dict[int, str]:
        return {farm.id: self.fulfilment(farm).data for farm in farms}

    def confirmed_total(self, farms) -> int:
        """What the buyer agreed to pay: the goods total shown plus the delivery fee shown for each farm.

        -1 when a hidden field is missing or not a whole number, which never matches a real total.
        """
        total = _whole_number(self.shown_total.data)
        if total is None:
            return -1
        for farm in farms:
            fee = _whole_number(self.fee(farm).data)
            if fee is None:
                return -1
            total += fee
        return total

    def show(self, cart, token: str, quoted: dict) -> None:
        """Fill the hidden fields with what this rendering of the page shows (``quoted``: checkout.quotes)."""
        self.shown_total.data = str(cart.total_vnd)
        for farm in self.receiving_farms:
            found = quoted[farm.id][0]
            self.fee(farm).data = str(found.fee_vnd if found else 0)
        self.checkout_token.data = token


def checkout_form(cart, *, providers, addresses=(), **defaults) -> CheckoutForm:
    """The form for this cart: one fulfilment choice per farm whose part holds goods (a part with only
    visits asks nothing), offering delivery only where the farm does; ``addresses``: the buyer's saved ones."""

    class _CheckoutForm(CheckoutForm):
        pass

    farms = [farm for farm, lines in cart.by_farm() if delivery.needs_receiving(lines)]
    for farm in farms:
        choices = [SelectChoice(choice, FULFILMENTS[choice]) for choice in delivery.fulfilment_choices(farm)]
        setattr(_CheckoutForm, f"fulfilment_{farm.id}", RadioField(
            _l("How do you want to receive it?"), choices=choices, default="farm_pickup",
            validators=[InputRequired(message=_l("Choose how to receive the order."))]))
        setattr(_CheckoutForm, f"fee_{farm.id}", HiddenField())
    form = _CheckoutForm(**defaults)
    form.receiving_farms = farms
    form.address_id.choices = [SelectChoice(str(a.id), a.id) for a in addresses] + [SelectChoice("new", "new")]
    form.fill_places()
    form.payment_method.choices = [SelectChoice(provider.code, provider.checkout_label) for provider in providers]
    if form.payment_method.data is None and providers:
        form.payment_method.data = providers[0].code  # nothing chosen yet: the first enabled provider
    return form
