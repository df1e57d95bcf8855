"""The address picker's fields (province, then commune or ward of that province, then street and house
number), shared by checkout and the account's saved addresses, and the saved-address form.

An address written the old way (with its district, before the merger) can be pasted to pre-choose them
(core.places.guess; the package has no table of the old units). Without JavaScript the commune list is the
chosen province's once the page is sent back with it (the "Show communes" button); static/js/places.js fills
it at once from /places/<code>/communes.json."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from core import places
from core.forms import Form
from core.validators import MobileNumber


class AddressFields:
    """Mixed into a form: ``province``, ``commune``, ``street``. ``fill_places`` sets the lists for the chosen
    province; ``place_errors`` checks them against core.places (the lists are not trusted)."""
    province = SelectField(_l("Province or city"), validate_choice=False, validators=[Optional()])
    commune = SelectField(_l("Commune or ward"), validate_choice=False, validators=[Optional()])
    street = StringField(_l("Street and house number"), validators=[
        Optional(), Length(max=200, message=_l("The address is too long (at most %(max)d characters)."))])
    # An address written the old way (commune, district, province before July 2025): read to pre-choose the
    # province and commune (core.places.guess) when no province is chosen yet; never stored.
    old_address = StringField(_l("Address written the old way (with district)"), validators=[
        Optional(), Length(max=300)])

    def fill_places(self) -> None:
        if not self.province.data and (self.old_address.data or "").strip():
            found_province, found_commune = places.guess(self.old_address.data)
            if found_province is not None:
                self.province.data = str(found_province.code)
                self.commune.data = str(found_commune.code) if found_commune is not None else ""
        self.province.choices = [SelectChoice("", _l("Choose a province"))] + [
            SelectChoice(str(p.code), p.name) for p in places.provinces()]
        communes = places.communes(self.province.data) if self.province.data else []
        self.commune.choices = [SelectChoice("", _l("Choose a commune or ward"))] + [
            SelectChoice(str(c.code), c.name) for c in communes]

    def place_errors(self) -> bool:
        """Put a message on each missing or wrong part of the address; True when there was one."""
        bad = False
        if places.province(self.province.data) is None:
            self.province.errors = [*self.province.errors, _l("Choose the province or city.")]
            bad = True
        elif places.commune_in(self.province.data, self.commune.data) is None:
            self.commune.errors = [*self.commune.errors, _l("Choose the commune or ward in this province.")]
            bad = True
        if not (self.street.data or "").strip():
            self.street.errors = [*self.street.errors, _l("Enter the street and house number.")]
            bad = True
        return bad

    def place_codes(self) -> tuple[int, int]:
        return int(self.province.data), int(self.commune.data)


class SavedAddressForm(Form, AddressFields):
    recipient_name = StringField(_l("Recipient's name"), validators=[
        DataRequired(message=_l("Enter the recipient's name.")),
        Length(max=120, message=_l("The name is too long (at most %(max)d characters)."))])
    phone = TelField(_l("Recipient's mobile phone"), validators=[
        DataRequired(message=_l("Enter the recipient's mobile number.")), MobileNumber()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return not self.place_errors() and ok
