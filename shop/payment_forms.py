"""Forms of the staff money pages: a transfer received by hand, resolving a transfer, a refund done."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from core import inputs
from core.banks import ACCOUNT_NUMBER, BANKS, account_digits
from core.forms import Form
from shop.payments import reference as references

MAX_TRANSFER_VND = 10**12  # a trillion dong: far above any order, still a valid VietQR amount
EXAMPLE = references.reference_for(123)  # the reference the messages show as an example


def parse_amount_vnd(raw: str | None) -> int | None:
    """Whole dong typed the way people write it: "150000", "150.000", "150,000 ₫", "150 000 đ"."""
    cleaned = re.sub(r"[\s.,_]|₫|đ|Đ|vnd|VND", "", raw or "")
    return inputs.parse_int(cleaned, low=1, high=MAX_TRANSFER_VND)


class ManualTransferForm(Form):
    """A transfer staff saw on the cooperative's bank statement."""
    reference = StringField(_l("Order reference"), validators=[
        DataRequired(message=_l("Enter the order reference, for example %(example)s.", example=EXAMPLE))])
    amount_vnd = StringField(_l("Amount received (₫)"), validators=[
        DataRequired(message=_l("Enter the amount received."))])
    transaction_id = StringField(_l("Bank transaction number"), validators=[
        DataRequired(message=_l("Enter the transaction number shown on the bank statement.")),
        Length(max=100, message=_l("The text is too long (at most %(max)d characters)."))])
    content = StringField(_l("Transfer content (optional)"), validators=[
        Length(max=500, message=_l("The text is too long (at most %(max)d characters)."))])

    def validate_reference(self, field):
        """One reference, alone or in a pasted transfer content; ``field.order_id`` is then its order's id
        and ``field.data`` the reference as written (a legacy one stays legacy: KEP + 8 digits)."""
        found = references.preferred(references.find_references(field.data or ""))
        if len(found) != 1:
            if not found and references.has_mistyped_reference(field.data or ""):
                raise ValidationError(_l("This reference has a typing mistake: its last character does not fit "
                                         "the others. Compare it letter by letter with the transfer content."))
            raise ValidationError(_l("A reference is KEP followed by 7 letters and digits (never O, I, L, 0 or 1), "
                                     "for example %(example)s.", example=EXAMPLE))
        field.order_id, field.data = found[0].order_id, found[0].reference

    def validate_amount_vnd(self, field):
        amount = parse_amount_vnd(field.data)
        if amount is None:
            raise ValidationError(_l("Enter the amount in whole dong, for example 150000."))
        field.amount = amount

    def validate_transaction_id(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(_l("Enter the transaction number shown on the bank statement."))


class AssignTransferForm(Form):
    """The order an unmatched transfer is for (the buyer mistyped its content)."""
    reference = StringField(_l("Order reference"), validators=[
        DataRequired(message=_l("Enter the order reference, for example KEP00000123."))])
    validate_reference = ManualTransferForm.validate_reference


class ResolveTransferForm(Form):
    note = TextAreaField(_l("What was done"), validators=[
        DataRequired(message=_l("Write what was done, for example: money sent back to the buyer.")),
        Length(max=1000, message=_l("The text is too long (at most %(max)d characters)."))])


class BankRefundDoneForm(Form):
    bank_reference = StringField(_l("Bank reference of the refund transfer"), validators=[
        DataRequired(message=_l("Enter the reference of the transfer you made to the buyer.")),
        Length(max=100, message=_l("The text is too long (at most %(max)d characters)."))])


class ConfirmForm(Form):
    """A button with nothing but the CSRF token."""


class StaffRefundForm(Form):
    """Staff give back all or part of a paid farm order (after delivery too), with the reason."""
    amount_vnd = StringField(_l("Amount to refund (₫)"), validators=[
        DataRequired(message=_l("Enter the amount to refund."))])
    note = TextAreaField(_l("Why"), validators=[
        DataRequired(message=_l("Write why, for example: 2 kg arrived damaged.")),
        Length(max=1000, message=_l("The text is too long (at most %(max)d characters)."))])

    def validate_amount_vnd(self, field):
        amount = parse_amount_vnd(field.data)
        if amount is None:
            raise ValidationError(_l("Enter the amount in whole dong, for example 150000."))
        field.amount = amount


class RefundDetailsForm(Form):
    """The buyer's bank account for a refund made by bank transfer."""
    bank_bin = SelectField(_l("Bank"), validators=[DataRequired(message=_l("Choose your bank."))])
    account_number = StringField(_l("Account number"), filters=[account_digits], validators=[
        DataRequired(message=_l("Enter your account number.")),
        Regexp(ACCOUNT_NUMBER, message=_l("An account number has 6 to 19 digits."))])
    account_name = StringField(_l("Account holder's name"), validators=[
        DataRequired(message=_l("Enter the name on the account.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bank_bin.choices = [SelectChoice("", _l("— choose —"))] + [SelectChoice(*item) for item in BANKS.items()]
