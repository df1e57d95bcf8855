"""The farmer's screens: the application to sell, the farm's picture."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts import assist
from accounts import farm_applications as services
from accounts.farms import set_farm_photo
from core import audit, transactions
from core.extensions import db
from core.forms import AddPhotosForm, uploads
from core.images import PhotoRejected
from core.time import utcnow
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
        return render_template("farmers/application_status.html", farm=farm, photo_form=AddPhotosForm())
    form = FarmApplicationForm(obj=farm)
    if form.validate_on_submit():
        try:
            services.apply(
                current_user, now=utcnow(),
                name=form.name.data.strip(), village=form.village_name(), description=form.description.data.strip(),
                vietgap_certified=form.vietgap_certified.data,
                vietgap_certificate_no=(form.vietgap_certificate_no.data or "").strip() or None,
                bank_bin=form.bank_bin.data, bank_account_number=form.bank_account_number.data,
                bank_account_name=form.bank_account_name.data.strip().upper(),
            )
        except services.FarmError as error:
            flash(error.message, "error")
        else:
            flash(_l("Thank you! Your application has been sent. Commune staff will look at it soon."), "success")
            return redirect(url_for("farmers.sell"))
    return render_template("farmers/apply.html", form=form, farm=farm)


@bp.route("/farmer/assistance")
@login_required
def assistance():
    """What commune staff did for this farmer in assisted mode, and the consents behind it."""
    farm = current_user.farm
    if farm is None:
        abort(404)
    now = utcnow()
    return render_template("farmers/assistance.html", farm=farm, consents=assist.consents(farm),
                           actions=services.actions_on_behalf_of(current_user), now=now)


@bp.route("/farmer/assistance/<int:consent_id>/end", methods=["POST"])
@login_required
def end_assistance(consent_id: int):
    farm = current_user.farm
    consent = db.session.get(assist.AssistConsent, consent_id)
    if farm is None or consent is None or consent.farm_id != farm.id:
        abort(404)
    try:
        assist.end_consent(consent, current_user, utcnow())
    except assist.AssistError as error:
        transactions.fail()
        flash(str(error.message), "error")
    else:
        flash(_("Assisted mode has ended. Commune staff can no longer use your screens."), "success")
    return redirect(url_for("farmers.assistance"))


@bp.route("/farmer/photo", methods=["POST"])
@login_required
def farm_photo():
    """The farm's picture (the farmer, the hill), shown on the home page and the farm's page; checked and
    re-encoded like every photo. Only the farm's owner, once approved."""
    farm = current_user.farm
    if farm is None or not farm.is_approved:
        abort(404)
    form = AddPhotosForm()
    chosen = uploads(form.photos.data) if form.validate_on_submit() else None
    if not chosen:
        flash(_("Choose a photo.") if chosen is not None else _("The form has expired. Please try again."), "error")
        return redirect(url_for("farmers.sell"))
    try:
        set_farm_photo(farm, chosen[0].stream)
    except PhotoRejected as error:
        transactions.fail()
        flash(str(error.message), "error")
    else:
        audit.record("farm.photo_changed", "farm", farm.id, actor=current_user._get_current_object())
        flash(_("Your farm's picture is saved. Buyers see it on the home page and your farm's page."), "success")
    return redirect(url_for("farmers.sell"))
