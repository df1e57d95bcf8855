"""The visitor's rain choice: the link of the message ``visit_rain_choice`` (tours/rain.py). The link is the
key (it went to the buyer's own phone or e-mail); a credit always goes to the order's own account."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, Optional

from core import transactions
from core.forms import Form
from core.time import utcnow
from tours import rain
from tours.labels import visit_when
from tours.views import bp

bp.add_app_template_global(rain.waiting_for, "rain_waiting")

OPTION_LABELS = {"move": _l("Another date"), "credit": _l("A credit for a later visit"),
                 "refund": _l("A refund through the way I paid")}


class RainChoiceForm(Form):
    option = RadioField(_l("What would you like?"), choices=[SelectChoice(code, label) for code, label in OPTION_LABELS.items()],
                        validators=[InputRequired(message=_l("Please choose one of the three options."))])
    to_slot = SelectField(_l("New date"), coerce=int, validators=[Optional()], validate_choice=False)


@bp.route("/visits/rain/<token>", methods=["GET", "POST"])
def rain_choice(token: str):
    choice = rain.find(token)
    if choice is None:
        abort(404)
    now = utcnow()
    targets = rain.targets(choice, now) if choice.status == "waiting" else []
    form = RainChoiceForm()
    offered = [code for code in OPTION_LABELS
               if (code != "credit" or rain.can_credit(choice)) and (code != "move" or targets)]
    form.option.choices = [SelectChoice(code, OPTION_LABELS[code]) for code in offered]
    form.to_slot.choices = [SelectChoice(slot.id, visit_when(slot.starts_at)) for slot in targets]
    if request.method == "GET" and targets:
        form.to_slot.data = targets[0].id
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            to_slot = next((slot for slot in targets if slot.id == form.to_slot.data), None)
            if form.option.data not in offered:
                form.option.errors = [_("Please choose one of the three options.")]
                status = 400
            elif form.option.data == "move" and to_slot is None:
                form.to_slot.errors = [_("Please choose the new date.")]
                status = 400
            else:
                try:
                    applied = rain.choose(choice, form.option.data, to_slot, now)
                except rain.RainError as error:
                    transactions.fail()
                    flash(str(error.message), "error")
                    status = 400
                else:
                    if not applied:
                        flash(_("Your choice was already applied; nothing more was changed."), "notice")
                    return redirect(url_for(".rain_choice", token=token))
        else:
            status = 400
    return render_template("tours/rain_choice.html", choice=choice, slot=choice.slot, tour=choice.slot.tour,
                           line=choice.line, form=form, labels=OPTION_LABELS), status
