"""Places for the address picker (the communes of a province, as JSON) and the buyer's saved addresses."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core import places
from core.extensions import db
from shop import addresses
from shop.address_forms import SavedAddressForm
from shop.delivery import Destination
from shop.delivery_models import Address

bp = Blueprint("addresses", __name__)

@bp.route("/places/<int:province_code>/communes.json")
def communes_json(province_code: int):
    """The communes and wards of a province since 1 July 2025, by name; 404 for no such province."""
    if places.province(province_code) is None:
        abort(404)
    response = jsonify({"communes": [{"code": c.code, "name": c.name} for c in places.communes(province_code)]})
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def _mine() -> list[Address]:
    return addresses.of(current_user)


@bp.route("/account/addresses", methods=["GET", "POST"])
@login_required
def mine():
    form = SavedAddressForm(**({} if request.method == "POST" else
                               {"recipient_name": current_user.full_name, "phone": current_user.phone}))
    form.fill_places()
    if request.method == "POST" and not request.form.get("pick"):
        if not form.validate_on_submit():
            return render_template("shop/addresses.html", form=form, addresses=_mine(), places=places), 400
        province_code, commune_code = form.place_codes()
        try:
            addresses.keep(current_user, Destination(form.recipient_name.data, form.phone.data, province_code,
                                                     commune_code, form.street.data))
        except addresses.AddressError as error:
            flash(error.message, "error")
            return render_template("shop/addresses.html", form=form, addresses=_mine(), places=places), 400
        flash(_l("The address is saved. You can choose it at checkout."), "success")
        return redirect(url_for("addresses.mine"))
    return render_template("shop/addresses.html", form=form, addresses=_mine(), places=places)


@bp.route("/account/addresses/<int:address_id>/delete", methods=["POST"])
@login_required
def delete(address_id: int):
    """Remove one of the buyer's addresses; another buyer's is not found (404). Orders keep their own copy."""
    address = db.session.get(Address, address_id)
    if address is None or address.user_id != current_user.id:
        abort(404)
    db.session.delete(address)
    flash(_l("The address is removed."), "success")
    return redirect(url_for("addresses.mine"))
