"""Staff forms: platform settings, farm suspension, audit-log filters."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from core.banks import ACCOUNT_NUMBER, BANKS, account_digits
from core.forms import Form

MAX_FEE_PERCENT = Decimal("30")


class FeeForm(Form):
    percent = StringField(_l("Platform fee, in percent of each sale"), validators=[
        DataRequired(message=_l("Enter the fee, for example 2 or 2.5 (0 for no fee)."))])

    def validate_percent(self, field):
        raw = (field.data or "").strip().replace(",", ".").rstrip("%").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValidationError(_l("Enter the fee as a number, for example 2 or 2.5.")) from None
        if not value.is_finite() or value < 0 or value > MAX_FEE_PERCENT or value != value.quantize(Decimal("0.01")):
            raise ValidationError(_l("The fee must be between 0 and 30 %, with at most two decimals."))
        field.basis_points = int(value * 100)


class ShareFeeForm(Form):
    """The lower fee for sales that came from the farm's own shared links; empty: off (the normal fee)."""
    share_percent = StringField(_l("Fee for sales from the farmer's own shares, in percent (empty: the normal fee)"))

    def validate_share_percent(self, field):
        field.basis_points = None
        if not (field.data or "").strip():
            return
        FeeForm.validate_percent(self, field)


class BankAccountForm(Form):
    bank_bin = SelectField(_l("Bank"), validators=[DataRequired(message=_l("Choose the bank."))])
    account_number = StringField(_l("Account number"), filters=[account_digits], validators=[
        DataRequired(message=_l("Enter the account number.")),
        Regexp(ACCOUNT_NUMBER, message=_l("An account number has 6 to 19 digits."))])
    account_name = StringField(_l("Account holder's name"), validators=[
        DataRequired(message=_l("Enter the name on the account.")), Length(max=120)])
    # Checked by admin.bank_account against the staff member's own password.
    password = PasswordField(_l("Your password"), validators=[
        DataRequired(message=_l("Type your password to change the account.")), Length(max=128)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bank_bin.choices = [SelectChoice("", _l("— choose —"))] + [SelectChoice(*item) for item in BANKS.items()]


class SuspendForm(Form):
    reason = TextAreaField(_l("Reason (the farmer will see it)"), validators=[
        DataRequired(message=_l("Give a reason, so the farmer knows what to change.")), Length(max=1000)])


class SuspendAccountForm(Form):
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[
        DataRequired(message=_l("Give the reason for suspending this account.")), Length(max=1000)])


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)])
    entity = SelectField(_l("What"), validators=[Optional()], choices=[])
    actor = StringField(_l("Who (email)"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, entities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.entity.choices = [SelectChoice("", _l("Everything"))] + [SelectChoice(e, e) for e in entities]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class ConsentForm(Form):
    way = SelectField(_l("How the farmer agreed"), validators=[DataRequired(message=_l("Choose how."))],
                      choices=[SelectChoice("in_person", _l("In person, at the commune office or the farm")),
                               SelectChoice("phone", _l("By phone")),
                               SelectChoice("written", _l("In writing (paper or message)"))])
    days = SelectField(_l("For how long"), choices=[SelectChoice("7", _l("7 days")), SelectChoice("30", _l("30 days")),
                                                   SelectChoice("90", _l("90 days"))], default="30")
    note = TextAreaField(_l("What the farmer asked for help with"), validators=[
        DataRequired(message=_l("Write what the farmer asked for, so it can be checked later.")),
        Length(max=1000)])


class RejectForm(Form):
    reason = TextAreaField(_l("Reason (the applicant will see it)"), validators=[
        DataRequired(message=_l("Give a reason, so the applicant knows what to change.")),
        Length(max=1000)])
