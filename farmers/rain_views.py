"""The farmer calls off a visit time for bad weather in one action: moved to another time (an existing one or a
new date and time, created here) or cancelled; each paid visitor then chooses (tours/rain.py)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from wtforms import DateField, RadioField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Optional

from core.forms import Form
from core.time import utcnow
from farmers.slot_views import _slot_or_404
from farmers.tour_views import actor, bp, fail
from tours import rain, slots
from tours.labels import visit_when
from tours.manage import TourError

ACTIONS = (("existing", _l("Move it to another time of this visit")),
           ("new", _l("Move it to a new date and time")),
           ("cancel", _l("Cancel it")))


class RainForm(Form):
    action = RadioField(_l("What happens to the visit"), choices=[SelectChoice(code, label) for code, label in ACTIONS],
                        validators=[InputRequired(message=_l("Choose what happens to the visit."))])
    to_slot = SelectField(_l("Another time"), coerce=int, validators=[Optional()], validate_choice=False)
    day = DateField(_l("New date"), validators=[Optional()])
    start = TimeField(_l("Start time"), validators=[Optional()])
    note = TextAreaField(_l("A few words for the visitors (optional)"), render_kw={"rows": 3, "maxlength": 300})


def _targets(item, now):
    return [other for other in slots.upcoming_slots(item.tour, now)
            if other.id != item.id and other.status == "open"]


def _target(form, item, now):
    """The time the visit moves to (created for a new date), None to cancel; TourError for a bad answer."""
    if form.action.data == "cancel":
        return None
    if form.action.data == "existing":
        chosen = next((other for other in _targets(item, now) if other.id == form.to_slot.data), None)
        if chosen is None:
            raise TourError(_l("Choose another time of this visit."), "to_slot")
        return chosen
    if form.day.data is None or form.start.data is None:
        raise TourError(_l("Give the new date and start time."), "day")
    capacity = max(item.tour.default_capacity, item.seats_taken)  # room for every group of the old time
    return slots.add_slot(actor(), g.farm, item.tour, form.day.data, form.start.data, capacity, now)


@bp.route("/farmer/slots/<int:slot_id>/rain", methods=["GET", "POST"])
def rain_call_off(slot_id: int):
    item = _slot_or_404(slot_id)
    now = utcnow()
    form = RainForm()
    form.to_slot.choices = [SelectChoice(other.id, visit_when(other.starts_at)) for other in _targets(item, now)]
    if form.validate_on_submit():
        try:
            result = rain.call_off(actor(), g.farm, item, _target(form, item, now), form.note.data or "", now)
        except TourError as error:
            fail(error, form)
            item = _slot_or_404(slot_id)
        else:
            flash(_("Done: nobody can book this time any more. %(paid)d paid groups were sent a message to choose "
                    "another date, a credit or a refund; %(unpaid)d unpaid orders were cancelled.",
                    paid=len(result.choices), unpaid=result.unpaid_orders), "success")
            return redirect(url_for(".slot", slot_id=item.id))
    return render_template("tours/rain_farmer.html", slot=item, tour=item.tour, farm=g.farm, form=form,
                           manifest=slots.manifest(item), now=now), 400 if form.errors else 200
