"""Forms of the tours screens. They read what was typed; the rules live in the services."""
from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import Form, WholeNumberField
from shop.models import MAX_PHOTOS
from tours.labels import CANCEL_REASONS
from tours.manage import MAX_TEXT, MAX_TITLE, TourData
from tours.models import DEFAULT_MAX_PARTY

LANGUAGE_NAMES = {"vi": _l("Vietnamese"), "en": _l("English"), "ko": _l("Korean"), "zh": _l("Chinese"),
                  "fr": _l("French")}
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TourForm(Form):
    title = StringField(_l("Name of the visit"), validators=[InputRequired(message=_l("Enter the name of the visit."))],
                        render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})
    description = TextAreaField(_l("Description"), render_kw={"rows": 5, "maxlength": MAX_TEXT})
    title_en = StringField(_l("Name in English (optional)"), render_kw={"maxlength": MAX_TITLE, "autocomplete": "off"})
    description_en = TextAreaField(_l("Description in English (optional)"), render_kw={"rows": 5, "maxlength": MAX_TEXT})
    included = TextAreaField(_l("What is included"), render_kw={"rows": 4, "maxlength": MAX_TEXT})
    duration_minutes = WholeNumberField(_l("How long it lasts (minutes)"), default=120,
                                        validators=[InputRequired(message=_l("Enter how long the visit lasts."))])
    meeting_point = StringField(_l("Meeting point"), render_kw={"maxlength": 200, "autocomplete": "off"})
    map_url = StringField(_l("Map link (optional)"), render_kw={"maxlength": 500, "inputmode": "url"})
    languages = CheckboxesField(_l("Languages you guide in"), default=["vi"],
                                choices=[SelectChoice(code, label) for code, label in LANGUAGE_NAMES.items()])
    price_adult_vnd = WholeNumberField(_l("Price per adult (đồng)"),
                                       validators=[InputRequired(message=_l("Enter the price for an adult."))])
    price_child_vnd = WholeNumberField(_l("Price per child (đồng)"), default=0,
                                       validators=[InputRequired(message=_l("Enter the price for a child (0 if free)."))])
    default_capacity = WholeNumberField(_l("Usual number of places"), default=20,
                                        validators=[InputRequired(message=_l("Enter how many people can come."))])
    free_cancel_hours = WholeNumberField(_l("Free cancellation until (hours before)"), default=48,
                                         validators=[InputRequired(message=_l("Enter a number of hours."))])
    max_party = WholeNumberField(
        _l("Largest group per booking (optional)"), validators=[Optional()],
        description=_l("So that one booking that is not paid cannot hold every place. Leave it empty for the "
                       "usual %(num)d people.", num=DEFAULT_MAX_PARTY))

    def tour_data(self) -> TourData:
        return TourData(title=self.title.data or "", description=self.description.data or "",
                        included=self.included.data or "", duration_minutes=self.duration_minutes.data,
                        meeting_point=self.meeting_point.data or "", map_url=self.map_url.data or "",
                        languages=tuple(self.languages.data or ()), price_adult_vnd=self.price_adult_vnd.data,
                        price_child_vnd=self.price_child_vnd.data, default_capacity=self.default_capacity.data,
                        free_cancel_hours=self.free_cancel_hours.data, max_party=self.max_party.data,
                        title_en=self.title_en.data or "", description_en=self.description_en.data or "")


class NewTourForm(TourForm):
    photos = MultipleFileField(_l("Photos (up to %(max)d)", max=MAX_PHOTOS), render_kw={"accept": "image/*"})


class SlotForm(Form):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose the date."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(message=_l("Choose the start time."))])
    # Its own HTML id: the "add many times" form on the same page has a "capacity" field too.
    capacity = WholeNumberField(_l("Places"), validators=[Optional()], id="slot-capacity")


def parse_times(raw: str) -> list[time]:
    """Start times as people type them: "8:00, 14:00", "8h 14h30", "08.00"."""
    found = []
    for part in re.split(r"[,;\s]+", (raw or "").strip().lower()):
        if not part:
            continue
        match = re.fullmatch(r"([0-9]{1,2})(?:[:h.]([0-9]{2})?)?", part)
        if not match or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
            raise ValueError(_l("“%(part)s” is not a time. Write times like 8:00, 14:30.", part=part[:20]))
        found.append(time(int(match.group(1)), int(match.group(2) or 0)))
    return found


class TimesField(StringField):
    def process_formdata(self, valuelist):
        self.data = []
        if valuelist:
            self.data = parse_times(valuelist[0])

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(t.strftime("%H:%M") for t in self.data or [])


class GenerateForm(Form):
    first = DateField(_l("From"), validators=[InputRequired(message=_l("Choose the first day."))])
    last = DateField(_l("Until"), validators=[InputRequired(message=_l("Choose the last day."))])
    weekdays = CheckboxesField(_l("On these days"), coerce=int, default=[5, 6],
                               choices=[SelectChoice(n, label) for n, label in enumerate(WEEKDAYS)])
    times = TimesField(_l("Start times"), default=[time(8), time(14)], render_kw={"autocomplete": "off"})
    capacity = WholeNumberField(_l("Places"), validators=[Optional()])


class CapacityForm(Form):
    capacity = WholeNumberField(_l("Places"), validators=[InputRequired(message=_l("Enter the number of places."))])


class CancelSlotForm(Form):
    reason = RadioField(_l("Why"), choices=[SelectChoice(code, label) for code, label in CANCEL_REASONS.items()],
                        validators=[InputRequired(message=_l("Choose why the visit is cancelled."))])
    note = TextAreaField(_l("A few words for the visitors (optional)"), render_kw={"rows": 3, "maxlength": 300})


class CheckinCodeForm(Form):
    code = StringField(_l("Ticket code"), render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                                     "maxlength": 12, "placeholder": "K7PM-3XQ9"})


class MoveBookingForm(Form):
    """The farmer moving one booking: the new time (drawn as radio buttons of the times offered)."""
    slot = StringField()


class BookForm(Form):
    """The booking form on a tour page; the slot comes from radio buttons rendered with the calendar."""
    slot = StringField()
    adults = StringField(_l("Adults"), default="2", render_kw={"inputmode": "numeric", "maxlength": 3})
    children = StringField(_l("Children"), default="0", render_kw={"inputmode": "numeric", "maxlength": 3})


class KeyForm(Form):
    """A button on the ticket page: the CSRF token, and the order's key for a buyer who is not logged in."""
    key = HiddenField()


class WaitlistForm(Form):
    """Joining the waiting list of a full time; the rules (phone, party size) live in tours/waitlist.py."""
    name = StringField(_l("Your name"), validators=[InputRequired(message=_l("Enter your name."))],
                       render_kw={"maxlength": 120, "autocomplete": "name"})
    phone = StringField(_l("Mobile number"), validators=[InputRequired(message=_l("Enter your mobile number."))],
                        render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20})
    email = StringField(_l("E-mail (optional)"), validators=[Optional()],
                        render_kw={"type": "email", "autocomplete": "email", "maxlength": 254})
    adults = WholeNumberField(_l("Adults"), default=2,
                              validators=[InputRequired(message=_l("Enter the number of adults."))])
    children = WholeNumberField(_l("Children"), default=0, validators=[Optional()])
