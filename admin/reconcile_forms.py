"""Forms of the reconciliation pages: splitting a credit across orders, uploading a bank statement."""
from __future__ import annotations

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import FieldList, FormField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from core.forms import Form, _Translations
from shop.payment_forms import EXAMPLE, parse_amount_vnd
from shop.payments import reference as references

PART_ROWS = 4  # rows the split form shows


class PartForm(wtforms.Form):
    """One order and the amount of the credit it gets; a row left empty is no part."""
    class Meta:
        def get_translations(self, form):
            return _Translations()

    reference = StringField(_l("Order reference"))
    amount_vnd = StringField(_l("Amount for this order (₫)"))

    def validate_reference(self, field):
        field.order_id = None
        if not (field.data or "").strip():
            if (self.amount_vnd.data or "").strip():
                raise ValidationError(_l("Enter the order reference for this amount."))
            return
        found = references.preferred(references.find_references(field.data))
        if len(found) != 1:
            raise ValidationError(_l("A reference is KEP followed by 7 letters and digits (never O, I, L, 0 or 1), "
                                     "for example %(example)s.", example=EXAMPLE))
        field.order_id, field.data = found[0].order_id, found[0].reference

    def validate_amount_vnd(self, field):
        field.amount = None
        if not (field.data or "").strip():
            if (self.reference.data or "").strip():
                raise ValidationError(_l("Enter the amount for this order."))
            return
        field.amount = parse_amount_vnd(field.data)
        if field.amount is None:
            raise ValidationError(_l("Enter the amount in whole dong, for example 150000."))


class SplitTransferForm(Form):
    parts = FieldList(FormField(PartForm), min_entries=PART_ROWS, max_entries=10)
    rest = RadioField(_l("What is left of the transfer"), default="keep",
                      choices=[SelectChoice("keep", _l("It stays unmatched")),
                               SelectChoice("refund", _l("Send it back to the payer"))])
    note = TextAreaField(_l("Note (optional)"), validators=[
        Length(max=1000, message=_l("The text is too long (at most %(max)d characters)."))])

    def filled_parts(self) -> list[tuple[int, int]]:
        """(order id, amount) of the rows filled in."""
        return [(entry.form.reference.order_id, entry.form.amount_vnd.amount) for entry in self.parts
                if getattr(entry.form.reference, "order_id", None) and entry.form.amount_vnd.amount]

    def validate_parts(self, field):
        if not self.filled_parts() and not any(entry.form.errors for entry in field):
            raise ValidationError(_l("Give at least one order and its amount."))


class StatementUploadForm(Form):
    statement = FileField(_l("Statement file (CSV)"))

    def validate_statement(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_l("Choose the CSV file exported from the bank."))
