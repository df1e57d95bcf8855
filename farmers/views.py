"""The farmer's screens: the application to sell."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from core.extensions import db
from farmers import services
from farmers.forms import FarmApplicationForm

bp = Blueprint("farmers", __name__)


@bp.route("/sell", methods=["GET", "POST"])
@login_required
def sell():
    farm = current_user.farm
    if current_user.is_admin:
        flash(_l("Commune staff accounts cannot sell. Use a separate farmer account."), "info")
        return redirect(url_for("admin.overview"))
    if farm is not None and farm.status != "rejected":
        return render_template("farmers/application_status.html", farm=farm)
    form = FarmApplicationForm(obj=farm)
    if form.validate_on_submit():
        try:
            services.apply(
                current_user,
                name=form.name.data.strip(), village=form.village_name(), description=form.description.data.strip(),
                vietgap_certified=form.vietgap_certified.data,
                vietgap_certificate_no=(form.vietgap_certificate_no.data or "").strip() or None,
                bank_bin=form.bank_bin.data, bank_account_number=form.bank_account_number.data,
                bank_account_name=form.bank_account_name.data.strip().upper(),
            )
        except services.FarmError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_l("Thank you! Your application has been sent. Commune staff will look at it soon."), "success")
            return redirect(url_for("farmers.sell"))
    return render_template("farmers/apply.html", form=form, farm=farm)
