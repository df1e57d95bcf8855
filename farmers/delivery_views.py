"""The farmer's delivery settings: how the farm's goods reach buyers (its own delivery nearby, parcels to any
province by a table of fees). Staff use it for a farm with ``?farm=<id>`` like the other farmer screens."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core import places, transactions
from farmers import acting
from farmers.delivery_forms import REGION_LABELS, delivery_form
from shop import delivery_rules
from shop.delivery_models import BANDS_G

bp = Blueprint("farmer_delivery", __name__, url_prefix="/farmer/delivery")


@bp.before_request
@login_required
def load_farm():
    return acting.enter(("approved",), "farmers/products_unavailable.html")


acting.keep_farm_parameter(bp)


@bp.route("", methods=["GET", "POST"], strict_slashes=False)
def settings():
    rules = delivery_rules.current(g.farm)
    form = delivery_form(rules, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                delivery_rules.save(current_user._get_current_object(), g.farm, form.rules())
            except delivery_rules.DeliveryRuleError as error:
                transactions.fail()
                target = form[error.field] if error.field in form else None
                if target is not None:
                    target.errors = [*target.errors, str(error.message)]
                else:
                    flash(str(error.message), "error")
                status = 400
            else:
                flash(_l("Your delivery settings are saved."), "success")
                return redirect(url_for(".settings"))
        else:
            status = 400
    return render_template("farmers/delivery.html", form=form, farm=g.farm, regions=places.REGION_CODES,
                           region_labels=REGION_LABELS, bands=BANDS_G), status
