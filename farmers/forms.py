"""The application to sell on the market."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from accounts.farms import OTHER_VILLAGE, VILLAGES
from core.banks import ACCOUNT_NUMBER, BANKS, account_digits
from core.forms import Form


class FarmApplicationForm(Form):
    name = StringField(_l("Farm name"), validators=[
        DataRequired(message=_l("Enter the name of your farm.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])
    village = SelectField(_l("Village"), validators=[DataRequired(message=_l("Choose your village."))])
    village_other = StringField(_l("Other village (if not in the list)"), validators=[Length(max=80)])
    description = TextAreaField(_l("About your farm"), validators=[
        DataRequired(message=_l("Tell buyers a little about your farm.")),
        Length(max=3000, message=_l("The text is too long (at most %(max)d characters)."))])
    vietgap_certified = BooleanField(_l("VietGAP certified"))
    vietgap_certificate_no = StringField(_l("VietGAP certificate number"), validators=[Length(max=60)])
    bank_bin = SelectField(_l("Bank for payouts"), validators=[DataRequired(message=_l("Choose your bank."))])
    bank_account_number = StringField(_l("Account number"), filters=[account_digits], validators=[
        DataRequired(message=_l("Enter your account number.")),
        Regexp(ACCOUNT_NUMBER, message=_l("An account number has 6 to 19 digits."))])
    bank_account_name = StringField(_l("Account holder's name"), validators=[
        DataRequired(message=_l("Enter the name on the account.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.village.choices = [SelectChoice("", _l("— choose —"))] + [SelectChoice(v, v) for v in VILLAGES] + [
            SelectChoice(OTHER_VILLAGE, _l("Other village"))]
        self.bank_bin.choices = [SelectChoice("", _l("— choose —"))] + [SelectChoice(*item) for item in BANKS.items()]

    def validate_village_other(self, field):
        if self.village.data == OTHER_VILLAGE and not (field.data or "").strip():
            raise ValidationError(_l("Enter the name of your village."))

    def validate_vietgap_certificate_no(self, field):
        if self.vietgap_certified.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the VietGAP certificate number, or untick VietGAP."))

    def village_name(self) -> str:
        return self.village_other.data.strip() if self.village.data == OTHER_VILLAGE else self.village.data
